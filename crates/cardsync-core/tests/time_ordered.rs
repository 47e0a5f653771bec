//! Time-ordered registers: the write with the latest stamp wins, ties to the higher replica
//! id, on every replica whatever the order updates arrive in, online or offline.

mod common;

use cardsync_core::{
    CardDoc, CardKind, FieldDef, FieldKind, FieldValue, Schema, Stamp, Value, ValueType,
};
use common::id;

fn schema() -> Schema {
    Schema::new(1).card(
        "pin",
        CardKind::default()
            .field("where", FieldDef::new(FieldKind::TimeOrdered))
            .field(
                "count",
                FieldDef {
                    value_type: ValueType::Number,
                    ..FieldDef::new(FieldKind::TimeOrdered)
                },
            ),
    )
}

fn at(ms: u64) -> Stamp {
    Stamp::new(ms, "someone")
}

fn read(doc: &CardDoc) -> Value {
    match doc.card(id(1)).unwrap().fields.get("where") {
        Some(FieldValue::Register(v)) => v.clone(),
        other => panic!("{other:?}"),
    }
}

fn replicas(n: u64) -> Vec<CardDoc> {
    let mut first = CardDoc::new(schema(), 1).unwrap();
    first
        .create_card(&at(1), id(1), "pin", [("where", Value::from("start"))])
        .unwrap();
    let snapshot = first.snapshot_v1();
    let mut all = vec![first];
    for client in 2..=n {
        let mut doc = CardDoc::new(schema(), client).unwrap();
        doc.apply_update_v1(&snapshot).unwrap();
        all.push(doc);
    }
    all
}

/// Delivers every replica's state to every other, in the order given.
fn exchange(docs: &mut [CardDoc], order: &[usize]) {
    for &from in order {
        for to in 0..docs.len() {
            if to != from {
                let update = docs[from].diff_v1(&docs[to].state_vector()).unwrap();
                docs[to].apply_update_v1(&update).unwrap();
            }
        }
    }
}

#[test]
fn the_latest_stamp_wins_whatever_the_arrival_order() {
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let mut docs = replicas(3);
        // Replica 1 (client 1, the lowest id) writes last in wall time; yrs alone would let
        // the highest client id win.
        docs[0].set_field(&at(300), id(1), "where", "late").unwrap();
        docs[1]
            .set_field(&at(200), id(1), "where", "middle")
            .unwrap();
        docs[2]
            .set_field(&at(100), id(1), "where", "early")
            .unwrap();
        exchange(&mut docs, &order);
        for doc in &docs {
            assert_eq!(read(doc), Value::from("late"), "order {order:?}");
        }
        assert_eq!(docs[0].export(), docs[2].export());
    }
}

#[test]
fn ties_go_to_the_higher_replica_id() {
    let mut docs = replicas(2);
    docs[0].set_field(&at(50), id(1), "where", "one").unwrap();
    docs[1].set_field(&at(50), id(1), "where", "two").unwrap();
    exchange(&mut docs, &[1, 0]);
    assert_eq!(read(&docs[0]), Value::from("two"));
    assert_eq!(read(&docs[1]), Value::from("two"));
}

#[test]
fn offline_writes_merge_by_stamp() {
    let mut docs = replicas(2);
    // Replica 2 goes offline and writes twice; replica 1 writes in between, online.
    docs[1].set_field(&at(100), id(1), "where", "b1").unwrap();
    docs[0].set_field(&at(150), id(1), "where", "a").unwrap();
    docs[1].set_field(&at(120), id(1), "where", "b2").unwrap();
    assert_eq!(read(&docs[1]), Value::from("b2"));
    exchange(&mut docs, &[0, 1]);
    assert_eq!(read(&docs[0]), Value::from("a"));
    assert_eq!(read(&docs[1]), Value::from("a"));
    // A write older than the replica's own last one could never win: it is dropped.
    docs[0].set_field(&at(90), id(1), "where", "stale").unwrap();
    assert_eq!(read(&docs[0]), Value::from("a"));
    // Types still hold.
    let error = docs[0]
        .set_field(&at(200), id(1), "count", "x")
        .unwrap_err();
    assert_eq!(error.code(), "schema_violation");
    docs[0].set_field(&at(200), id(1), "count", 3).unwrap();
}

#[test]
fn a_field_added_later_gets_one_fixed_container() {
    let v1 = Schema::new(1).card("pin", CardKind::default());
    let mut a = CardDoc::new(v1, 1).unwrap();
    a.create_card(&at(1), id(1), "pin", []).unwrap();
    let mut v2 = schema();
    v2.version = 2;
    let mut a = CardDoc::load_v1(std::sync::Arc::new(v2.clone()), 1, &a.snapshot_v1()).unwrap();
    let mut b = CardDoc::load_v1(std::sync::Arc::new(v2), 2, &a.snapshot_v1()).unwrap();
    a.set_field(&at(10), id(1), "where", "a").unwrap();
    b.set_field(&at(20), id(1), "where", "b").unwrap();
    let to_b = a.diff_v1(&b.state_vector()).unwrap();
    let to_a = b.diff_v1(&a.state_vector()).unwrap();
    a.apply_update_v1(&to_a).unwrap();
    b.apply_update_v1(&to_b).unwrap();
    assert_eq!(read(&a), Value::from("b"));
    assert_eq!(read(&b), Value::from("b"));
}
