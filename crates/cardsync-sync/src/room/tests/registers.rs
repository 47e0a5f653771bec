//! Composite registers in the room: a stored object of the declared shape passes, any other
//! is refused with the core's typed shape error, whoever wrote it.

use std::collections::HashMap;

use cardsync_core::{Composite, Shape};
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, Out, Transact, Update};

use super::*;
use crate::protocol::RejectCode;

fn geo_schema() -> Schema {
    let mut schema = schema();
    let geo = FieldDef::composite(Composite::new(Shape::object([
        ("lat", Shape::number(-90.0, 90.0)),
        ("lng", Shape::number(-180.0, 180.0)),
    ])));
    if let Some(task) = schema.cards.get_mut("task") {
        task.fields.insert("geo".into(), geo);
    }
    schema
}

/// Sets task 1's `geo` to `value` with raw yrs as `client`; returns the reject, if any.
fn submit_geo(d: &mut Driver, client: u64, value: Any) -> Option<(RejectCode, String)> {
    let doc = Doc::with_client_id(client);
    let cards = doc.get_or_insert_map("cards");
    let update = {
        let mut txn = doc.transact_mut();
        txn.apply_update(Update::decode_v1(&d.room.doc().snapshot_v1()).unwrap())
            .unwrap();
        let Some(Out::YMap(card)) = cards.get(&txn, &card(1).to_string()) else {
            panic!("no card")
        };
        card.insert(&mut txn, "geo", value);
        txn.encode_update_v1()
    };
    let batch = BatchId { client, seq: 0 };
    let actions = d.send_settled(PeerId(1), &Message::SubmitBatch { batch, update });
    to(&actions, PeerId(1)).into_iter().find_map(|m| match m {
        Message::Reject { code, reason, .. } => Some((code, reason)),
        _ => None,
    })
}

fn geo(lat: f64, lng: f64) -> Any {
    Any::from(HashMap::from([
        ("lat".to_owned(), Any::from(lat)),
        ("lng".to_owned(), Any::from(lng)),
    ]))
}

#[test]
fn composite_values_are_checked_against_their_shape() {
    let config = RoomConfig {
        rejection_rate: crate::room::RateLimit {
            burst: 0,
            refill_ms: 0,
        },
        ..RoomConfig::default()
    };
    let mut d = Driver::with_schema(config, geo_schema());
    d.join(1, "edit", 7);
    let mut alice = Client::with_schema(7, geo_schema());
    let (msg, ..) = alice.batch(&[create_task(1, "todo")]);
    d.send(PeerId(1), &msg);
    d.persist_all();
    let (code, reason) = submit_geo(&mut d, 40, geo(95.0, 0.0)).expect("refused");
    assert_eq!(code, RejectCode::SchemaViolation);
    assert!(reason.contains("out of range"), "{reason}");
    let (_, reason) = submit_geo(&mut d, 41, Any::from("north")).expect("refused");
    assert!(reason.contains("expected object"), "{reason}");
    assert_eq!(submit_geo(&mut d, 42, geo(45.0, 7.5)), None);
    // A plain register still takes no object.
    let (code, _) = {
        let doc = Doc::with_client_id(43);
        let cards = doc.get_or_insert_map("cards");
        let mut txn = doc.transact_mut();
        txn.apply_update(Update::decode_v1(&d.room.doc().snapshot_v1()).unwrap())
            .unwrap();
        let Some(Out::YMap(card)) = cards.get(&txn, &card(1).to_string()) else {
            panic!("no card")
        };
        card.insert(&mut txn, "title", geo(1.0, 1.0));
        let update = txn.encode_update_v1();
        drop(txn);
        let batch = BatchId { client: 43, seq: 0 };
        let actions = d.send_settled(PeerId(1), &Message::SubmitBatch { batch, update });
        to(&actions, PeerId(1))
            .into_iter()
            .find_map(|m| match m {
                Message::Reject { code, reason, .. } => Some((code, reason)),
                _ => None,
            })
            .expect("refused")
    };
    assert_eq!(code, RejectCode::SchemaViolation);
}

fn pin_schema() -> Schema {
    let mut schema = schema();
    if let Some(task) = schema.cards.get_mut("task") {
        task.fields
            .insert("pin".into(), FieldDef::new(FieldKind::TimeOrdered));
    }
    schema
}

/// Writes `{value, at}` into task 1's `pin` slot `slot` with raw yrs as `client`; returns the
/// reject, if any.
fn submit_slot(d: &mut Driver, client: u64, slot: u64, at: u64) -> Option<(RejectCode, String)> {
    let doc = Doc::with_client_id(client);
    let cards = doc.get_or_insert_map("cards");
    let update = {
        let mut txn = doc.transact_mut();
        txn.apply_update(Update::decode_v1(&d.room.doc().snapshot_v1()).unwrap())
            .unwrap();
        let Some(Out::YMap(card)) = cards.get(&txn, &card(1).to_string()) else {
            panic!("no card")
        };
        let Some(Out::YMap(slots)) = card.get(&txn, "pin") else {
            panic!("no slots")
        };
        let value = Any::from(HashMap::from([
            ("value".to_owned(), Any::from("here")),
            ("at".to_owned(), Any::from(at as f64)),
        ]));
        slots.insert(&mut txn, slot.to_string(), value);
        txn.encode_update_v1()
    };
    let batch = BatchId { client, seq: 0 };
    let actions = d.send_settled(PeerId(1), &Message::SubmitBatch { batch, update });
    to(&actions, PeerId(1)).into_iter().find_map(|m| match m {
        Message::Reject { code, reason, .. } => Some((code, reason)),
        _ => None,
    })
}

#[test]
fn time_ordered_stamps_ahead_of_the_server_clock_are_refused() {
    let config = RoomConfig {
        rejection_rate: crate::room::RateLimit {
            burst: 0,
            refill_ms: 0,
        },
        max_stamp_skew_ms: 5_000,
        ..RoomConfig::default()
    };
    let mut d = Driver::with_schema(config, pin_schema());
    let wall = 1_700_000_000_000;
    d.room.handle_wall_clock(wall);
    d.join(1, "edit", 7);
    let mut alice = Client::with_schema(7, pin_schema());
    let (msg, ..) = alice.batch(&[create_task(1, "todo"), set(1, "pin", "start")]);
    let actions = d.send(PeerId(1), &msg);
    assert!(super::batches::rejects(&actions, PeerId(1)).is_empty());
    d.persist_all();
    let (code, reason) = submit_slot(&mut d, 40, 40, wall + 60_000).expect("refused");
    assert_eq!(code, RejectCode::SchemaViolation);
    assert!(reason.contains("ahead of the server clock"), "{reason}");
    // Another replica's slot is not the writer's to set.
    let (_, reason) = submit_slot(&mut d, 41, 7, wall).expect("refused");
    assert!(reason.contains("belongs to another replica"), "{reason}");
    // Within the skew, its own slot: accepted, and it wins (the latest stamp).
    assert_eq!(submit_slot(&mut d, 42, 42, wall + 4_000), None);
    d.persist_all();
    let read = d.room.doc().card(card(1)).unwrap().fields["pin"].clone();
    assert_eq!(read, cardsync_core::FieldValue::Register("here".into()));
}
