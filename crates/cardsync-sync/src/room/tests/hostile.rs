//! Hostile updates written with raw yrs, bypassing every check of `cardsync_core`: the room
//! must refuse each for the right reason, and none may reach the document.

use cardsync_core::{CardDoc, FieldValue, Op};
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapPrelim, MapRef, Out, Transact, TransactionMut, Update};

use super::batches::rejects;
use super::*;
use crate::protocol::RejectCode;

/// Writes to root map `root` of a copy of the room's document with raw yrs as client
/// `client`; returns the transaction's update.
fn raw_update(
    room: &CardDoc,
    client: u64,
    root: &str,
    f: impl FnOnce(&mut TransactionMut<'_>, &MapRef),
) -> Vec<u8> {
    let doc = Doc::with_client_id(client);
    let map = doc.get_or_insert_map(root);
    let mut txn = doc.transact_mut();
    txn.apply_update(Update::decode_v1(&room.snapshot_v1()).unwrap())
        .unwrap();
    f(&mut txn, &map);
    txn.encode_update_v1()
}

/// [`raw_update`] on the `cards` root.
fn raw_edit(
    room: &CardDoc,
    client: u64,
    f: impl FnOnce(&mut TransactionMut<'_>, &MapRef),
) -> Vec<u8> {
    raw_update(room, client, "cards", f)
}

fn nested(txn: &TransactionMut<'_>, cards: &MapRef, id: u128, field: &str) -> MapRef {
    let Some(Out::YMap(card)) = cards.get(txn, &card(id).to_string()) else {
        panic!("no card")
    };
    let Some(Out::YMap(map)) = card.get(txn, field) else {
        panic!("no field")
    };
    map
}

/// Submits a raw update as a batch of `client` from the editor; returns the reject's code
/// and reason.
fn submit_raw(d: &mut Driver, client: u64, update: Vec<u8>) -> Option<(RejectCode, String)> {
    let batch = BatchId { client, seq: 0 };
    let actions = d.send(PeerId(1), &Message::SubmitBatch { batch, update });
    to(&actions, PeerId(1)).into_iter().find_map(|m| match m {
        Message::Reject { code, reason, .. } => Some((code, reason)),
        _ => None,
    })
}

/// A room holding task 1 with a vote and a best score from client 7.
fn seeded() -> Driver {
    let config = RoomConfig {
        rejection_rate: crate::room::RateLimit {
            burst: 0,
            refill_ms: 0,
        },
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(1, "edit", 7);
    let mut alice = Client::new(7);
    let ops = [
        create_task(1, "todo"),
        Op::Increment {
            card: card(1),
            field: "votes".into(),
            by: 2,
        },
        Op::RaiseMax {
            card: card(1),
            field: "best".into(),
            value: 10.0,
        },
    ];
    let (msg, ..) = alice.batch(&ops);
    d.send(PeerId(1), &msg);
    d.persist_all();
    d
}

#[test]
fn hostile_raw_updates_are_refused() {
    let mut d = seeded();
    type Edit<'a> = &'a dyn Fn(&mut TransactionMut<'_>, &MapRef);
    let verdict = |d: &mut Driver, client, f: Edit<'_>| {
        let update = raw_edit(d.room.doc(), client, f);
        submit_raw(d, client, update)
    };
    let refused = |d: &mut Driver, client, f: Edit<'_>, words: &str| {
        let (code, reason) = verdict(d, client, f).expect("refused");
        assert_eq!(code, RejectCode::SchemaViolation, "{reason}");
        assert!(reason.contains(words), "{reason:?} lacks {words:?}");
    };
    let card_map =
        |txn: &TransactionMut<'_>, cards: &MapRef| match cards.get(txn, &card(1).to_string()) {
            Some(Out::YMap(m)) => m,
            _ => panic!("no card"),
        };
    // Counter: another replica's entry is refused, one's own is fine.
    refused(
        &mut d,
        50,
        &|txn, cards| {
            nested(txn, cards, 1, "votes").insert(txn, "7", 100);
        },
        "belongs to another replica",
    );
    let own: Edit<'_> = &|txn, cards| {
        nested(txn, cards, 1, "votes").insert(txn, "51", 1);
    };
    assert_eq!(verdict(&mut d, 51, own), None);
    d.persist_all();
    // Max: entries only grow, even one's own.
    refused(
        &mut d,
        7,
        &|txn, cards| {
            nested(txn, cards, 1, "best").insert(txn, "7", 5);
        },
        "went down",
    );
    refused(
        &mut d,
        53,
        &|txn, cards| {
            nested(txn, cards, 1, "best").insert(txn, "7", 50);
        },
        "belongs to another replica",
    );
    // Schema: unknown field, wrong type, non-finite number, unknown kind, bad card key.
    refused(
        &mut d,
        54,
        &|txn, cards| {
            card_map(txn, cards).insert(txn, "nope", 1);
        },
        "no field \"nope\"",
    );
    refused(
        &mut d,
        55,
        &|txn, cards| {
            card_map(txn, cards).insert(txn, "title", 5);
        },
        "takes String values",
    );
    refused(
        &mut d,
        56,
        &|txn, cards| {
            card_map(txn, cards).insert(txn, "priority", f64::NAN);
        },
        "finite",
    );
    refused(
        &mut d,
        57,
        &|txn, cards| {
            card_map(txn, cards).insert(txn, "$kind", "note");
        },
        "unknown kind",
    );
    refused(
        &mut d,
        58,
        &|txn, cards| {
            cards.insert(txn, "not-a-card", 1);
        },
        "not a valid id",
    );
    // A new root type.
    let update = {
        let doc = Doc::with_client_id(59);
        let other = doc.get_or_insert_map("other");
        let mut txn = doc.transact_mut();
        other.insert(&mut txn, "k", 1);
        txn.encode_update_v1()
    };
    let (_, reason) = submit_raw(&mut d, 59, update).unwrap();
    assert!(reason.contains("unknown root"), "{reason}");
    // A batch carrying another client's clocks.
    let update = raw_edit(d.room.doc(), 60, |txn, cards| {
        nested(txn, cards, 1, "votes").insert(txn, "60", 1);
    });
    let (_, reason) = submit_raw(&mut d, 61, update).unwrap();
    assert!(reason.contains("carries changes of client 60"), "{reason}");
    // Nothing of it reached the room.
    let fields = d.room.doc().card(card(1)).unwrap().fields;
    assert_eq!(fields["votes"], FieldValue::Counter(3));
    assert_eq!(fields["best"], FieldValue::Max(Some(10.0)));
}

#[test]
fn hostile_relationships_and_sequences_are_refused() {
    let mut d = seeded();
    let edge_value = |kind: &str, extra: Option<(&str, Any)>| {
        let mut value = std::collections::HashMap::from([
            ("from".to_owned(), Any::from(card(1).to_string())),
            ("kind".to_owned(), Any::from(kind)),
            ("to".to_owned(), Any::from(card(1).to_string())),
            ("removed".to_owned(), Any::Bool(false)),
        ]);
        if let Some((k, v)) = extra {
            value.insert(k.to_owned(), v);
        }
        Any::from(value)
    };
    let edge = |doc: &CardDoc, client: u64, kind: &str, extra: Option<(&str, Any)>| {
        let key = format!("{}:{kind}:{}", card(1), card(1));
        let value = edge_value(kind, extra);
        raw_update(doc, client, "relationships", move |txn, rels| {
            rels.insert(txn, key, value);
        })
    };
    let update = edge(d.room.doc(), 70, "likes", None);
    let (code, reason) = submit_raw(&mut d, 70, update).unwrap();
    assert_eq!(code, RejectCode::SchemaViolation);
    assert!(reason.contains("unknown relationship kind"), "{reason}");
    let update = edge(d.room.doc(), 71, "blocks", Some(("extra", Any::Null)));
    let (_, reason) = submit_raw(&mut d, 71, update).unwrap();
    assert!(reason.contains("\"extra\""), "{reason}");
    let update = edge(d.room.doc(), 72, "blocks", None);
    assert_eq!(submit_raw(&mut d, 72, update), None);
    d.persist_all();
    // Properties: plain and finite.
    let prop = format!("{}:blocks:{}\u{1f}weight", card(1), card(1));
    let update = raw_update(d.room.doc(), 73, "relationship_props", |txn, props| {
        props.insert(txn, prop, f64::INFINITY);
    });
    let (_, reason) = submit_raw(&mut d, 73, update).unwrap();
    assert!(reason.contains("weight"), "{reason}");
    // Sequences: `sequence:card` → an order key, not a number.
    let entry = format!("{}:{}", cardsync_core::SequenceId::from_u128(1), card(1));
    let update = raw_update(d.room.doc(), 74, "sequences", |txn, seqs| {
        seqs.insert(txn, entry, 3);
    });
    let (_, reason) = submit_raw(&mut d, 74, update).unwrap();
    assert!(reason.contains("sequences entry"), "{reason}");
    // Non-canonical ids are other keys for the same card: refused.
    let id = card(u128::MAX / 3).to_string();
    let alias = id.to_uppercase();
    assert_ne!(alias, id);
    let update = raw_edit(d.room.doc(), 75, |txn, cards| {
        cards.insert(txn, alias, MapPrelim::default());
    });
    let (_, reason) = submit_raw(&mut d, 75, update).unwrap();
    assert!(reason.contains("not a valid id"), "{reason}");
}

#[test]
fn a_viewer_cannot_even_delete() {
    let mut d = seeded();
    d.join(2, "view", 8);
    let update = raw_edit(d.room.doc(), 8, |txn, cards| {
        cards.remove(txn, &card(1).to_string());
    });
    let batch = BatchId { client: 8, seq: 0 };
    let actions = d.send(PeerId(2), &Message::SubmitBatch { batch, update });
    assert_eq!(
        rejects(&actions, PeerId(2)),
        [(batch, RejectCode::Forbidden)]
    );
    assert!(d.room.doc().card(card(1)).is_some());
    let _ = Op::DeleteCard { card: card(1) };
}
