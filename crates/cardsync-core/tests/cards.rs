//! Cards: creation, every field kind, schema validation, soft delete, stamps, atomic batches.

mod common;

use std::collections::BTreeSet;

use cardsync_core::{CardDoc, FieldValue, Op, Stamp, TextRun, Value, WriteError};
use common::*;

#[test]
fn every_field_kind_reads_back() {
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    let s = stamp(5_000);
    doc.set_field(&s, card, "status", "todo").unwrap();
    doc.set_field(&s, card, "estimate", 3.5).unwrap();
    doc.insert_text(&s, card, "body", 0, "hello world").unwrap();
    doc.delete_text(&s, card, "body", 5, 6).unwrap();
    doc.increment(&s, card, "votes", 5).unwrap();
    doc.increment(&s, card, "votes", -2).unwrap();
    doc.raise_max(&s, card, "progress", 0.4).unwrap();
    doc.raise_max(&s, card, "progress", 0.2).unwrap();
    doc.add_to_set(&s, card, "tags", "a").unwrap();
    doc.add_to_set(&s, card, "tags", "b").unwrap();
    doc.remove_from_set(&s, card, "tags", "a").unwrap();

    let read = doc.card(card).unwrap();
    assert_eq!(read.kind, "task");
    assert_eq!(read.fields["title"], FieldValue::Register("task 1".into()));
    assert_eq!(read.fields["status"], FieldValue::Register("todo".into()));
    assert_eq!(
        read.fields["estimate"],
        FieldValue::Register(Value::Number(3.5))
    );
    assert_eq!(read.fields["body"], FieldValue::Text("hello".into()));
    assert_eq!(read.fields["votes"], FieldValue::Counter(3));
    assert_eq!(read.fields["progress"], FieldValue::Max(Some(0.4)));
    assert_eq!(
        read.fields["tags"],
        FieldValue::Set(BTreeSet::from(["b".to_owned()]))
    );
    assert_eq!(read.created, Some(Stamp::new(1, "tester")));
    assert_eq!(read.modified, Some(Stamp::new(5_000, "tester")));
    assert_eq!(doc.schema_version(), Some(3));
}

/// `$modified` moves on for another actor at once, for the same actor once
/// `MODIFIED_RESOLUTION` has passed; a burst by one actor keeps its first stamp, so a typed
/// text stays one yrs item instead of one per keystroke.
#[test]
fn modified_follows_actors_and_time_to_its_resolution() {
    use cardsync_core::layout::MODIFIED_RESOLUTION;
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    let modified = |doc: &cardsync_core::CardDoc| doc.card(card).unwrap().modified.unwrap();
    let typed_by = |doc: &mut cardsync_core::CardDoc, at: u64, by: &str| {
        doc.insert_text(&Stamp::new(at, by), card, "body", 0, "x")
            .unwrap();
    };
    typed_by(&mut doc, 10, "tester");
    assert_eq!(
        modified(&doc),
        Stamp::new(1, "tester"),
        "a burst keeps its first stamp"
    );
    typed_by(&mut doc, 20, "other");
    assert_eq!(
        modified(&doc),
        Stamp::new(20, "other"),
        "another actor at once"
    );
    typed_by(&mut doc, 20 + MODIFIED_RESOLUTION - 1, "other");
    assert_eq!(modified(&doc), Stamp::new(20, "other"));
    typed_by(&mut doc, 20 + MODIFIED_RESOLUTION, "other");
    assert_eq!(
        modified(&doc),
        Stamp::new(20 + MODIFIED_RESOLUTION, "other")
    );
    // An older stamp (another replica's clock behind) still overwrites, as any write does.
    typed_by(&mut doc, 5, "other");
    assert_eq!(modified(&doc), Stamp::new(5, "other"));
}

#[test]
fn rich_text_keeps_formatting_runs() {
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    doc.insert_text(&stamp(2), card, "body", 0, "bold plain")
        .unwrap();
    let bold = [("bold".to_owned(), Value::Bool(true))].into();
    doc.format_text(&stamp(3), card, "body", 0, 4, bold)
        .unwrap();
    let runs = doc.text_runs(card, "body");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].text, "bold");
    assert_eq!(runs[0].attributes["bold"], Value::Bool(true));
    assert_eq!(
        runs[1],
        TextRun {
            text: " plain".into(),
            attributes: Default::default()
        }
    );
}

/// A formatting value keeps every bit through a v1 snapshot, where yrs writes it (like any
/// embedded value) as JSON text: serde_json's default parser reads some floats one ulp off,
/// so the reload differed from the document (fuzz finding `v1-snapshot-rounds-embedded-float`).
/// The workspace turns on serde_json's `float_roundtrip`.
#[test]
fn floats_in_formatting_survive_a_v1_snapshot_bit_for_bit() {
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    doc.insert_text(&stamp(2), card, "body", 0, "hello")
        .unwrap();
    let size = f64::from_bits(0x3400_0000_0000_0000); // 2^-191, read as ...01 without the fix
    let attributes = [("size".to_owned(), Value::Number(size))].into();
    doc.format_text(&stamp(3), card, "body", 0, 5, attributes)
        .unwrap();
    let reloaded = CardDoc::load_v1(std::sync::Arc::new(schema()), 2, &doc.snapshot_v1()).unwrap();
    let runs = reloaded.text_runs(card, "body");
    assert_eq!(runs[0].attributes["size"], Value::Number(size));
    assert_eq!(runs, doc.text_runs(card, "body"));
}

#[test]
fn schema_violations_are_typed() {
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    let s = stamp(2);
    let cases: Vec<(Op, &str)> = vec![
        (
            Op::CreateCard {
                card: id(9),
                kind: "nope".into(),
                fields: Default::default(),
            },
            "schema_violation",
        ),
        (
            Op::CreateCard {
                card: id(9),
                kind: "task".into(),
                fields: Default::default(),
            },
            "schema_violation",
        ),
        (
            Op::CreateCard {
                card,
                kind: "task".into(),
                fields: Default::default(),
            },
            "card_exists",
        ),
        (
            Op::SetField {
                card: id(77),
                field: "title".into(),
                value: "x".into(),
            },
            "unknown_card",
        ),
        (
            Op::SetField {
                card,
                field: "nope".into(),
                value: "x".into(),
            },
            "schema_violation",
        ),
        (
            Op::SetField {
                card,
                field: "title".into(),
                value: Value::Number(1.0),
            },
            "schema_violation",
        ),
        (
            Op::SetField {
                card,
                field: "title".into(),
                value: Value::Null,
            },
            "schema_violation",
        ),
        (
            Op::SetField {
                card,
                field: "estimate".into(),
                value: Value::Number(f64::NAN),
            },
            "schema_violation",
        ),
        (
            Op::SetField {
                card,
                field: "status".into(),
                value: "done".into(),
            },
            "invalid_transition",
        ),
        (
            Op::SetField {
                card,
                field: "status".into(),
                value: "bogus".into(),
            },
            "invalid_transition",
        ),
        (
            Op::Increment {
                card,
                field: "title".into(),
                by: 1,
            },
            "schema_violation",
        ),
        (
            Op::InsertText {
                card,
                field: "body".into(),
                index: 1,
                text: "x".into(),
                attributes: Default::default(),
            },
            "out_of_range",
        ),
        (Op::RestoreCard { card }, "card_not_deleted"),
    ];
    for (op, code) in cases {
        let err = doc.apply(&s, std::slice::from_ref(&op)).unwrap_err();
        assert_eq!(err.code(), code, "{op:?}: {err}");
    }
    // The state machine allows listed moves only.
    doc.set_field(&s, card, "status", "todo").unwrap();
    doc.set_field(&s, card, "status", "doing").unwrap();
    assert!(matches!(
        doc.set_field(&s, card, "status", "todo"),
        Err(WriteError::InvalidTransition { .. })
    ));
}

#[test]
fn a_failing_batch_applies_nothing() {
    let mut doc = doc(1);
    let before = doc.export();
    let batch = [
        Op::CreateCard {
            card: id(1),
            kind: "task".into(),
            fields: [("title".to_owned(), "a".into())].into(),
        },
        Op::Increment {
            card: id(1),
            field: "votes".into(),
            by: 1,
        },
        Op::Increment {
            card: id(2),
            field: "votes".into(),
            by: 1,
        },
    ];
    assert_eq!(
        doc.apply(&stamp(1), &batch),
        Err(WriteError::UnknownCard(id(2)))
    );
    assert_eq!(doc.export(), before);
    // Later ops see earlier ones in the same batch.
    doc.apply(&stamp(1), &batch[..2]).unwrap();
    assert_eq!(
        doc.card(id(1)).unwrap().fields["votes"],
        FieldValue::Counter(1)
    );
}

#[test]
fn surrogate_pairs_are_never_split() {
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    doc.insert_text(&stamp(2), card, "body", 0, "a🙂b").unwrap();
    assert!(doc.insert_text(&stamp(3), card, "body", 2, "x").is_err());
    assert!(doc.delete_text(&stamp(3), card, "body", 1, 1).is_err());
    doc.delete_text(&stamp(3), card, "body", 1, 2).unwrap();
    assert_eq!(
        doc.card(card).unwrap().fields["body"],
        FieldValue::Text("ab".into())
    );
    // A text known to be plain that gets a pair typed into it is guarded from then on.
    let other = task(&mut doc, 2);
    doc.insert_text(&stamp(4), other, "body", 0, "ab").unwrap();
    doc.insert_text(&stamp(4), other, "body", 1, "🙂").unwrap();
    assert!(doc.insert_text(&stamp(5), other, "body", 2, "x").is_err());
    doc.insert_text(&stamp(5), other, "body", 3, "x").unwrap();
    assert_eq!(
        doc.card(other).unwrap().fields["body"],
        FieldValue::Text("a🙂xb".into())
    );
}

#[test]
fn soft_delete_and_restore() {
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    doc.delete_card(&stamp(2), card).unwrap();
    assert!(doc.cards(Some("task")).is_empty());
    assert!(doc.card(card).unwrap().deleted);
    assert_eq!(
        doc.set_field(&stamp(3), card, "title", "x"),
        Err(WriteError::CardDeleted(card))
    );
    doc.restore_card(&stamp(4), card).unwrap();
    assert_eq!(doc.cards(Some("task")).len(), 1);
    assert!(doc.cards(Some("person")).is_empty());
}

#[test]
fn concurrent_counters_max_and_sets_merge() {
    let (mut a, mut b) = (doc(1), doc(2));
    let card = task(&mut a, 1);
    sync(&mut a, &mut b);
    a.increment(&stamp(2), card, "votes", 2).unwrap();
    b.increment(&stamp(2), card, "votes", 5).unwrap();
    a.raise_max(&stamp(2), card, "progress", 0.9).unwrap();
    b.raise_max(&stamp(2), card, "progress", 0.5).unwrap();
    a.add_to_set(&stamp(2), card, "tags", "x").unwrap();
    b.add_to_set(&stamp(2), card, "tags", "x").unwrap();
    b.remove_from_set(&stamp(3), card, "tags", "x").unwrap();
    a.add_to_set(&stamp(3), card, "tags", "y").unwrap();
    sync(&mut a, &mut b);
    assert_eq!(a.export(), b.export());
    let read = a.card(card).unwrap();
    assert_eq!(read.fields["votes"], FieldValue::Counter(7));
    assert_eq!(read.fields["progress"], FieldValue::Max(Some(0.9)));
    // b removed only the "x" it had seen: a's concurrent add of "x" wins.
    assert_eq!(
        read.fields["tags"],
        FieldValue::Set(BTreeSet::from(["x".into(), "y".into()]))
    );
}

#[test]
fn counters_are_exact_integers_within_the_safe_range() {
    let (mut a, mut b) = (doc(1), doc(2));
    let card = task(&mut a, 1);
    sync(&mut a, &mut b);
    let big = (1i64 << 53) - 1;
    a.increment(&stamp(2), card, "votes", big).unwrap();
    assert!(
        a.increment(&stamp(2), card, "votes", 1).is_err(),
        "own entry would leave the safe range"
    );
    b.increment(&stamp(2), card, "votes", 1).unwrap();
    b.increment(&stamp(2), card, "votes", 1).unwrap();
    sync(&mut a, &mut b);
    assert_eq!(
        a.card(card).unwrap().fields["votes"],
        FieldValue::Counter(big + 2)
    );
    assert_eq!(a.export(), b.export());
    assert_eq!(
        a.increment(&stamp(3), card, "votes", i64::MIN)
            .unwrap_err()
            .code(),
        "out_of_range"
    );
}

#[test]
fn client_ids_beyond_javascript_range_or_reserved_are_refused() {
    use cardsync_core::{
        COMPENSATOR_CLIENT_ID, CONTAINER_CLIENT_BASE, CardDoc, MAX_CLIENT_ID, MAX_REPLICA_CLIENT_ID,
    };
    assert!(CardDoc::new(schema(), 1 << 53).is_err());
    // Ids from 2^52 belong to field containers (docs/design.md §3)...
    let reserved = CardDoc::new(schema(), CONTAINER_CLIENT_BASE).unwrap_err();
    assert_eq!(reserved.code(), "invalid_client_id");
    assert!(CardDoc::new(schema(), MAX_CLIENT_ID - 1).is_err());
    // ...but for the top one, the sync room's own writer (docs/design.md §10).
    assert_eq!(COMPENSATOR_CLIENT_ID, MAX_CLIENT_ID);
    assert!(CardDoc::new(schema(), COMPENSATOR_CLIENT_ID).is_ok());
    assert!(CardDoc::new(schema(), MAX_REPLICA_CLIENT_ID).is_ok());
}

/// A card's entries are created in a fixed order, not yrs' hash-map order: the same ops by the
/// same client make the same document. A later update of one copy then applies to the other
/// as to itself; a yrs item that overwrites a map entry names only its left origin, so with
/// the entries at other clocks the new title would land under another key.
#[test]
fn the_same_ops_by_the_same_client_make_the_same_document() {
    let create = |doc: &mut CardDoc| {
        for n in 1..=5 {
            doc.create_card(
                &stamp(n as u64),
                id(n),
                "task",
                [
                    ("title", Value::from(format!("task {n}"))),
                    ("status", "todo".into()),
                    ("estimate", Value::Number(n as f64)),
                    ("body", "some text".into()),
                ],
            )
            .unwrap();
        }
    };
    let (mut a, mut b) = (doc(1), doc(1));
    create(&mut a);
    create(&mut b);
    let before = a.state_vector();
    assert_eq!(before, b.state_vector());

    let s = stamp(9_000);
    for n in 1..=5 {
        a.set_field(&s, id(n), "title", format!("renamed {n}"))
            .unwrap();
        a.set_field(&s, id(n), "estimate", 0.5).unwrap();
    }
    b.apply_update_v1(&a.diff_v1(&before).unwrap()).unwrap();
    assert_eq!(b.export(), a.export());
    assert_eq!(
        b.card(id(3)).unwrap().fields["title"],
        FieldValue::Register("renamed 3".into())
    );
}
