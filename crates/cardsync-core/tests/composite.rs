//! Composite registers: a declared shape, limits, typed errors, and concurrent writes that
//! merge whole (never a mix of two writes).

mod common;

use cardsync_core::{
    CardDoc, CardKind, Composite, FieldDef, FieldValue, Schema, Shape, ShapeError, Value,
    WriteError,
};
use common::{id, stamp};

fn geo() -> Composite {
    Composite::new(Shape::object([
        ("lat", Shape::number(-90.0, 90.0)),
        ("lng", Shape::number(-180.0, 180.0)),
    ]))
}

fn schema() -> Schema {
    let trail = Composite {
        max_bytes: 64,
        ..Composite::new(Shape::Array {
            items: Box::new(Shape::String { max_len: Some(8) }),
            max_items: None,
        })
    };
    Schema::new(1).card(
        "place",
        CardKind::default()
            .field("geo", FieldDef::composite(geo()))
            .field("trail", FieldDef::composite(trail))
            .field("name", FieldDef::new(cardsync_core::FieldKind::Register)),
    )
}

fn at(lat: f64, lng: f64) -> Value {
    Value::Object([("lat".into(), lat.into()), ("lng".into(), lng.into())].into())
}

fn doc(client: u64) -> CardDoc {
    let mut doc = CardDoc::new(schema(), client).unwrap();
    doc.create_card(&stamp(0), id(1), "place", [("geo", at(1.0, 2.0))])
        .unwrap();
    doc
}

fn read(doc: &CardDoc, field: &str) -> Option<FieldValue> {
    doc.card(id(1)).unwrap().fields.get(field).cloned()
}

#[test]
fn shapes_and_limits_are_checked_with_typed_errors() {
    let mut doc = doc(1);
    assert_eq!(read(&doc, "geo"), Some(FieldValue::Register(at(1.0, 2.0))));
    let refused = |doc: &mut CardDoc, field: &str, value: Value| {
        let error = doc.set_field(&stamp(1), id(1), field, value).unwrap_err();
        assert_eq!(error.code(), "bad_shape", "{error}");
        match error {
            WriteError::BadShape { error, .. } => error,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        refused(&mut doc, "geo", at(91.0, 0.0)),
        ShapeError::OutOfRange { path: "lat".into() }
    );
    let missing = Value::Object([("lat".into(), 1.into())].into());
    assert!(matches!(
        refused(&mut doc, "geo", missing),
        ShapeError::MissingKey { .. }
    ));
    let mut extra = at(0.0, 0.0);
    if let Value::Object(map) = &mut extra {
        map.insert("alt".into(), 3.into());
    }
    assert!(matches!(
        refused(&mut doc, "geo", extra),
        ShapeError::UnknownKey { .. }
    ));
    assert!(matches!(
        refused(&mut doc, "geo", "north".into()),
        ShapeError::WrongType { .. }
    ));
    let long: Vec<Value> = (0..20).map(|_| Value::from("abcdefg")).collect();
    assert!(matches!(
        refused(&mut doc, "trail", Value::Array(long)),
        ShapeError::TooLarge { .. }
    ));
    // A register without a declared shape takes no composite.
    let error = doc
        .set_field(&stamp(1), id(1), "name", at(0.0, 0.0))
        .unwrap_err();
    assert_eq!(error.code(), "schema_violation");
    // Valid writes and clearing pass; nothing refused was written.
    doc.set_field(&stamp(1), id(1), "geo", at(-33.9, 151.2))
        .unwrap();
    doc.set_field(&stamp(1), id(1), "trail", Value::Array(vec!["a".into()]))
        .unwrap();
    assert_eq!(
        read(&doc, "geo"),
        Some(FieldValue::Register(at(-33.9, 151.2)))
    );
    // Depth: a shape can nest, the limit still holds.
    let deep = Composite {
        max_depth: 2,
        ..Composite::new(Shape::Array {
            items: Box::new(Shape::Array {
                items: Box::new(Shape::Array {
                    items: Box::new(Shape::Bool),
                    max_items: None,
                }),
                max_items: None,
            }),
            max_items: None,
        })
    };
    let value = Value::Array(vec![Value::Array(vec![Value::Array(vec![true.into()])])]);
    assert_eq!(
        deep.check(&value),
        Err(ShapeError::TooDeep { depth: 3, max: 2 })
    );
}

#[test]
fn concurrent_writes_merge_whole() {
    let mut a = doc(1);
    let mut b = CardDoc::new(schema(), 2).unwrap();
    b.apply_update_v1(&a.snapshot_v1()).unwrap();
    a.set_field(&stamp(1), id(1), "geo", at(10.0, 20.0))
        .unwrap();
    b.set_field(&stamp(1), id(1), "geo", at(-10.0, -20.0))
        .unwrap();
    let to_b = a.diff_v1(&b.state_vector()).unwrap();
    let to_a = b.diff_v1(&a.state_vector()).unwrap();
    a.apply_update_v1(&to_a).unwrap();
    b.apply_update_v1(&to_b).unwrap();
    assert_eq!(a.export(), b.export());
    let merged = read(&a, "geo").unwrap();
    assert!(
        merged == FieldValue::Register(at(10.0, 20.0))
            || merged == FieldValue::Register(at(-10.0, -20.0)),
        "{merged:?}"
    );
}

#[test]
fn the_schema_round_trips_and_refuses_composites_off_registers() {
    let json = serde_json::to_value(schema()).unwrap();
    assert_eq!(
        json["cards"]["place"]["fields"]["geo"]["composite"]["shape"]["fields"]["lat"],
        serde_json::json!({"type": "number", "min": -90.0, "max": 90.0})
    );
    assert_eq!(serde_json::from_value::<Schema>(json).unwrap(), schema());
    let mut bad = FieldDef::composite(geo());
    bad.kind = cardsync_core::FieldKind::Counter;
    let schema = Schema::new(1).card("x", CardKind::default().field("f", bad));
    assert!(CardDoc::new(schema, 1).is_err());
}
