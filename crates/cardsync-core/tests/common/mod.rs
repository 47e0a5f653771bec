//! Shared fixtures for the core's integration tests.
#![allow(dead_code, missing_docs)]

use cardsync_core::{
    CardDoc, CardId, CardKind, FieldDef, FieldKind, RelationshipKind, Schema, Stamp, ValueType,
};

pub fn schema() -> Schema {
    Schema::new(3)
        .card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String).required())
                .field(
                    "status",
                    FieldDef::state_machine([("todo", "doing"), ("doing", "done")]),
                )
                .field("estimate", FieldDef::register(ValueType::Number))
                .field("body", FieldDef::new(FieldKind::Text))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("progress", FieldDef::new(FieldKind::Max))
                .field("tags", FieldDef::new(FieldKind::Set)),
        )
        .card(
            "person",
            CardKind::default().field("name", FieldDef::register(ValueType::String)),
        )
        .relationship(
            "assigned",
            RelationshipKind {
                from: vec!["task".into()],
                to: vec!["person".into()],
            },
        )
        .relationship("blocks", RelationshipKind::default())
}

pub fn doc(client: u64) -> CardDoc {
    CardDoc::new(schema(), client).unwrap()
}

pub fn stamp(at: u64) -> Stamp {
    Stamp::new(at, "tester")
}

pub fn id(n: u128) -> CardId {
    CardId::from_u128(n)
}

/// Creates a task with a title.
pub fn task(doc: &mut CardDoc, n: u128) -> CardId {
    doc.create_card(
        &stamp(n as u64),
        id(n),
        "task",
        [("title", format!("task {n}").into())],
    )
    .unwrap();
    id(n)
}

/// Sends everything each side lacks to the other.
pub fn sync(a: &mut CardDoc, b: &mut CardDoc) {
    let to_b = a.diff_v1(&b.state_vector()).unwrap();
    let to_a = b.diff_v1(&a.state_vector()).unwrap();
    b.apply_update_v1(&to_b).unwrap();
    a.apply_update_v1(&to_a).unwrap();
}
