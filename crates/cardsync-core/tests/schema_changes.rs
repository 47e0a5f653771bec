//! Opening a document with a new schema (docs/design.md §3, "Moving to a new schema"): safe
//! changes open and keep the data; each unsafe change is refused with a typed error that
//! names it.

use std::sync::Arc;

use cardsync_core::{
    CardDoc, CardId, CardKind, Composite, FieldDef, FieldKind, OpenError, Schema, SchemaChange,
    Shape, Stamp, ValueType,
};

fn v1() -> Schema {
    Schema::new(1).card(
        "task",
        CardKind::default()
            .field("title", FieldDef::register(ValueType::String))
            .field("size", FieldDef::register(ValueType::Any))
            .field("notes", FieldDef::new(FieldKind::Text))
            .field(
                "status",
                FieldDef::state_machine([("todo", "doing"), ("doing", "done")]),
            ),
    )
}

/// A document written under [`v1`]: one card.
fn stored() -> Vec<u8> {
    let mut doc = CardDoc::new(v1(), 1).unwrap();
    doc.create_card(
        &Stamp::new(1, "a"),
        CardId::from_u128(1),
        "task",
        [("status", "todo".into())],
    )
    .unwrap();
    doc.snapshot_v1()
}

/// `v1` as version 2, changed by `edit`.
fn v2(edit: impl FnOnce(&mut Schema)) -> Arc<Schema> {
    let mut schema = v1();
    schema.version = 2;
    edit(&mut schema);
    Arc::new(schema)
}

fn fields(schema: &mut Schema) -> &mut std::collections::BTreeMap<String, FieldDef> {
    &mut schema.cards.get_mut("task").unwrap().fields
}

fn refused(schema: Arc<Schema>) -> Vec<SchemaChange> {
    match CardDoc::load_v1(schema, 2, &stored()) {
        Err(e @ OpenError::UnsafeSchemaChange { .. }) => {
            assert_eq!(e.code(), "unsafe_schema_change");
            let OpenError::UnsafeSchemaChange { from, to, changes } = e else {
                unreachable!()
            };
            assert_eq!((from, to), (1, 2));
            changes
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn safe_changes_open_the_document() {
    let schema = v2(|s| {
        fields(s).insert("votes".into(), FieldDef::new(FieldKind::Counter));
        fields(s).insert("tags".into(), FieldDef::new(FieldKind::Set));
        let status = fields(s).get_mut("status").unwrap();
        let table = status.transitions.as_mut().unwrap();
        table.insert("blocked".into(), vec!["todo".into()]);
        table.get_mut("doing").unwrap().push("blocked".into());
        s.cards.insert("bug".into(), CardKind::default());
    });
    let mut doc = CardDoc::load_v1(schema.clone(), 2, &stored()).unwrap();
    doc.set_field(&Stamp::new(2, "b"), CardId::from_u128(1), "title", "x")
        .unwrap();
    // The document now records v2 as well; reopening with v2 or v1 is fine.
    let snapshot = doc.snapshot_v1();
    CardDoc::load_v1(schema, 3, &snapshot).unwrap();
    CardDoc::load_v1(Arc::new(v1()), 4, &snapshot).unwrap();
}

#[test]
fn each_unsafe_change_is_refused_by_name() {
    let kind_changed = refused(v2(|s| {
        fields(s).insert("notes".into(), FieldDef::new(FieldKind::Set));
    }));
    assert_eq!(
        kind_changed,
        [SchemaChange::FieldKindChanged {
            kind: "task".into(),
            field: "notes".into(),
            from: FieldKind::Text,
            to: FieldKind::Set,
        }]
    );
    let state_removed = refused(v2(|s| {
        let status = fields(s).get_mut("status").unwrap();
        let table = status.transitions.as_mut().unwrap();
        table.remove("done");
        table.get_mut("doing").unwrap().clear();
    }));
    assert_eq!(
        state_removed,
        [SchemaChange::StateRemoved {
            kind: "task".into(),
            field: "status".into(),
            state: "done".into(),
        }]
    );
    let field_removed = refused(v2(|s| {
        fields(s).remove("title");
    }));
    assert_eq!(
        field_removed,
        [SchemaChange::FieldRemoved {
            kind: "task".into(),
            field: "title".into(),
        }]
    );
    let kind_removed = refused(v2(|s| {
        s.cards.clear();
    }));
    assert_eq!(
        kind_removed,
        [SchemaChange::CardKindRemoved {
            kind: "task".into()
        }]
    );
    let narrowed = refused(v2(|s| {
        fields(s).insert("size".into(), FieldDef::register(ValueType::Number));
    }));
    assert!(matches!(
        narrowed[..],
        [SchemaChange::ValueTypeChanged {
            from: ValueType::Any,
            to: ValueType::Number,
            ..
        }]
    ));
    let machine = refused(v2(|s| {
        fields(s).insert("title".into(), FieldDef::state_machine([("a", "b")]));
    }));
    assert!(matches!(
        machine[..],
        [SchemaChange::StateMachineAdded { .. }]
    ));
    // The message names the change.
    let err = CardDoc::load_v1(
        v2(|s| {
            fields(s).insert("notes".into(), FieldDef::new(FieldKind::Counter));
        }),
        2,
        &stored(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"notes\""), "{err}");
}

#[test]
fn another_schema_under_the_same_version_is_refused() {
    let mut same_version = v1();
    fields(&mut same_version).insert("votes".into(), FieldDef::new(FieldKind::Counter));
    let err = CardDoc::load_v1(Arc::new(same_version), 2, &stored()).unwrap_err();
    assert!(
        matches!(&err, OpenError::UnsafeSchemaChange { changes, .. }
            if changes == &[SchemaChange::VersionReused { version: 1 }]),
        "{err}"
    );
}

/// A document with a card whose `geo` field is the composite `v1` (or a plain register), written
/// under schema version 1, then opened under version 2 with `v2` in its place.
fn reopen_composite(v1: Option<Composite>, v2: Option<Composite>) -> Result<(), Vec<SchemaChange>> {
    let schema = |version, geo: Option<Composite>| {
        let def = match geo {
            Some(c) => FieldDef::composite(c),
            None => FieldDef::register(ValueType::Any),
        };
        Arc::new(Schema::new(version).card("task", CardKind::default().field("geo", def)))
    };
    let mut doc = CardDoc::with_schema(schema(1, v1), 1).unwrap();
    doc.create_card(&Stamp::new(1, "a"), CardId::from_u128(1), "task", [])
        .unwrap();
    match CardDoc::load_v1(schema(2, v2), 2, &doc.snapshot_v1()) {
        Ok(_) => Ok(()),
        Err(OpenError::UnsafeSchemaChange { changes, .. }) => Err(changes),
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn a_composite_may_widen_and_never_narrow() {
    let geo = |lat: f64, optional_alt: Option<bool>| {
        let mut fields = vec![
            ("lat", Shape::number(-lat, lat)),
            ("lng", Shape::number(-180.0, 180.0)),
        ];
        if optional_alt.is_some() {
            fields.push((
                "alt",
                Shape::Number {
                    min: None,
                    max: None,
                },
            ));
        }
        let mut shape = Shape::object(fields);
        if optional_alt == Some(true)
            && let Shape::Object { optional, .. } = &mut shape
        {
            optional.push("alt".into());
        }
        Composite::new(shape)
    };
    // Wider: a wider range, an optional key added, a larger limit.
    assert_eq!(
        reopen_composite(Some(geo(80.0, None)), Some(geo(90.0, None))),
        Ok(())
    );
    assert_eq!(
        reopen_composite(Some(geo(90.0, None)), Some(geo(90.0, Some(true)))),
        Ok(())
    );
    let mut bigger = geo(90.0, None);
    bigger.max_bytes *= 2;
    assert_eq!(
        reopen_composite(Some(geo(90.0, None)), Some(bigger)),
        Ok(())
    );
    // Narrower, or another shape: refused by name.
    let narrowed = |changes: Result<(), Vec<SchemaChange>>| {
        assert!(
            matches!(&changes, Err(c) if matches!(c[..], [SchemaChange::ShapeNarrowed { .. }])),
            "{changes:?}"
        );
    };
    narrowed(reopen_composite(
        Some(geo(90.0, None)),
        Some(geo(80.0, None)),
    ));
    narrowed(reopen_composite(
        Some(geo(90.0, None)),
        Some(geo(90.0, Some(false))),
    ));
    narrowed(reopen_composite(
        Some(geo(90.0, Some(true))),
        Some(geo(90.0, None)),
    ));
    let mut smaller = geo(90.0, None);
    smaller.max_keys = 1;
    narrowed(reopen_composite(Some(geo(90.0, None)), Some(smaller)));
    narrowed(reopen_composite(
        Some(geo(90.0, None)),
        Some(Composite::new(Shape::Array {
            items: Box::new(Shape::Bool),
            max_items: None,
        })),
    ));
    // A register becoming a composite, or the reverse.
    assert!(matches!(
        reopen_composite(None, Some(geo(90.0, None))).unwrap_err()[..],
        [SchemaChange::CompositeAdded { .. }]
    ));
    assert!(matches!(
        reopen_composite(Some(geo(90.0, None)), None).unwrap_err()[..],
        [SchemaChange::CompositeRemoved { .. }]
    ));
}
