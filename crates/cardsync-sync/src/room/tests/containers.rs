//! Container rules (`check_container.rs`): a field added to the schema after a card existed
//! gets one fixed container that two clients may both create, and no update may replace a
//! container, plant a rival one, or write as a reserved client id.

use cardsync_core::{
    CONTAINER_CLIENT_BASE, CardDoc, CardKind, FieldDef, FieldValue, Op, Schema, ValueType,
};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, MapPrelim, MapRef, Out, TextPrelim, Transact, TransactionMut, Update};

use super::*;
use crate::protocol::RejectCode;

/// The room's card kind as v0 knew it: no text, counter, max or set fields yet.
fn old_schema() -> Schema {
    Schema::new(0).card(
        "task",
        CardKind::default().field("title", FieldDef::register(ValueType::String)),
    )
}

/// A room holding task 1, created under [`old_schema`] by client 7: none of its container
/// fields has a container.
fn old_card() -> Driver {
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "edit", 7);
    d.join(2, "edit", 8);
    d.join(3, "edit", 9);
    let mut old = Client {
        doc: CardDoc::new(old_schema(), 7).unwrap(),
        seq: 0,
    };
    let create = Op::CreateCard {
        card: card(1),
        kind: "task".into(),
        fields: [("title".to_owned(), "t".into())].into_iter().collect(),
    };
    let (msg, ..) = old.batch(&[create]);
    d.send(PeerId(1), &msg);
    d.persist_all();
    d
}

/// A client on the room's schema, opened on the room's document.
fn upgraded(d: &Driver, client: u64) -> Client {
    let snapshot = d.room.doc().snapshot_v1();
    Client {
        doc: CardDoc::load_v1(schema().into(), client, &snapshot).unwrap(),
        seq: 0,
    }
}

fn reject(actions: &[RoomAction], peer: PeerId) -> Option<(RejectCode, String)> {
    to(actions, peer).into_iter().find_map(|m| match m {
        Message::Reject { code, reason, .. } => Some((code, reason)),
        _ => None,
    })
}

fn first_writes(who: &str, n: i64) -> Vec<Op> {
    vec![
        Op::InsertText {
            card: card(1),
            field: "body".into(),
            index: 0,
            text: format!("{who} "),
            attributes: Default::default(),
        },
        Op::Increment {
            card: card(1),
            field: "votes".into(),
            by: n,
        },
        Op::AddToSet {
            card: card(1),
            field: "tags".into(),
            item: who.into(),
        },
        Op::RaiseMax {
            card: card(1),
            field: "best".into(),
            value: n as f64,
        },
    ]
}

#[test]
fn two_clients_first_writing_late_fields_both_keep_their_writes() {
    let mut d = old_card();
    let mut b = upgraded(&d, 8);
    let mut c = upgraded(&d, 9);
    let (mb, ..) = b.batch(&first_writes("bob", 1));
    let (mc, ..) = c.batch(&first_writes("carol", 2));
    for (peer, msg) in [(PeerId(2), mb), (PeerId(3), mc)] {
        let actions = d.send(peer, &msg);
        assert_eq!(reject(&actions, peer), None);
        let acked = d.persist_all();
        assert!(
            to(&acked, peer)
                .iter()
                .any(|m| matches!(m, Message::Ack { .. })),
            "no ack for {peer:?}"
        );
    }
    let fields = d.room.doc().card(card(1)).unwrap().fields;
    let Some(FieldValue::Text(body)) = fields.get("body") else {
        panic!("{fields:?}")
    };
    assert!(body.contains("bob ") && body.contains("carol "), "{body:?}");
    assert_eq!(fields.get("votes"), Some(&FieldValue::Counter(3)));
    assert_eq!(fields.get("best"), Some(&FieldValue::Max(Some(2.0))));
    let Some(FieldValue::Set(tags)) = fields.get("tags") else {
        panic!("{fields:?}")
    };
    assert_eq!(tags.len(), 2);
}

/// Writes to card 1 of a copy of the room's document with raw yrs as `client`.
fn raw(room: &CardDoc, client: u64, f: impl FnOnce(&mut TransactionMut<'_>, &MapRef)) -> Vec<u8> {
    let doc = Doc::with_client_id(client);
    let cards = doc.get_or_insert_map("cards");
    let mut txn = doc.transact_mut();
    txn.apply_update(Update::decode_v1(&room.snapshot_v1()).unwrap())
        .unwrap();
    let Some(Out::YMap(card)) = cards.get(&txn, &card(1).to_string()) else {
        panic!("no card")
    };
    f(&mut txn, &card);
    txn.encode_update_v1()
}

/// Sends a raw update as a stock peer `peer` would (no batch); returns the reject.
fn stock(d: &mut Driver, peer: u64, update: Vec<u8>) -> Option<(RejectCode, String)> {
    let peer = PeerId(peer);
    d.room
        .handle_connect_with_token(d.now, peer, "edit")
        .unwrap();
    d.drain();
    let actions = d.send_settled(peer, &Message::Update { update });
    reject(&actions, peer)
}

#[test]
fn replacing_a_container_is_refused() {
    let mut d = old_card();
    let mut b = upgraded(&d, 8);
    let (msg, ..) = b.batch(&first_writes("bob", 1));
    d.send(PeerId(2), &msg);
    d.persist_all();
    type Edit<'a> = &'a dyn Fn(&mut TransactionMut<'_>, &MapRef);
    let cases: [(&str, Edit<'_>); 4] = [
        ("a text", &|txn, card| {
            card.insert(txn, "body", TextPrelim::new("mine only"));
        }),
        ("a set", &|txn, card| {
            card.insert(txn, "tags", MapPrelim::default());
        }),
        ("a counter, by a plain value", &|txn, card| {
            card.insert(txn, "votes", 0);
        }),
        ("a removed text", &|txn, card| {
            card.remove(txn, "body");
        }),
    ];
    for (n, (what, edit)) in cases.into_iter().enumerate() {
        let peer = PeerId(5 + n as u64);
        let update = raw(d.room.doc(), 77, edit);
        let submit = Message::SubmitBatch {
            batch: BatchId { client: 77, seq: 0 },
            update,
        };
        d.join(peer.0, "edit", 77);
        let actions = d.send(peer, &submit);
        let (code, reason) = reject(&actions, peer).unwrap_or_else(|| panic!("{what} accepted"));
        assert_eq!(code, RejectCode::SchemaViolation, "{what}: {reason}");
        assert!(
            reason.contains("replaces its container") || reason.contains("a map"),
            "{what}: {reason}"
        );
        d.room.handle_disconnect(d.now, peer);
        d.drain();
    }
    let body = d.room.doc().card(card(1)).unwrap().fields["body"].clone();
    assert_eq!(body, FieldValue::Text("bob ".into()));
}

#[test]
fn a_rival_late_container_is_refused_or_undone_and_a_reserved_client_refused() {
    let mut d = old_card();
    let rival = |txn: &mut TransactionMut<'_>, card: &MapRef| {
        card.insert(txn, "body", TextPrelim::new("lazy"));
    };
    // A cardsync peer creating the late field's container under its own id is refused.
    let update = raw(d.room.doc(), 78, rival);
    d.join(39, "edit", 78);
    let submit = Message::SubmitBatch {
        batch: BatchId { client: 78, seq: 0 },
        update,
    };
    let actions = d.send(PeerId(39), &submit);
    let (code, reason) = reject(&actions, PeerId(39)).expect("refused");
    assert_eq!(code, RejectCode::SchemaViolation);
    assert!(reason.contains("must be its fixed item"), "{reason}");
    // A stock peer cannot roll back: the room takes its rival container and undoes it.
    let update = raw(d.room.doc(), 77, rival);
    assert_eq!(stock(&mut d, 40, update), None, "compensated, not refused");
    let fields = d.room.doc().card(card(1)).unwrap().fields;
    assert_ne!(fields.get("body"), Some(&FieldValue::Text("lazy".into())));
    // A peer writing as a reserved client id is refused, stock or not.
    let update = raw(d.room.doc(), CONTAINER_CLIENT_BASE + 5, |txn, card| {
        card.insert(txn, "title", "mine");
    });
    let (code, reason) = stock(&mut d, 41, update).expect("refused");
    assert_eq!(code, RejectCode::Forbidden);
    assert!(reason.contains("is reserved"), "{reason}");
    let fields = d.room.doc().card(card(1)).unwrap().fields;
    assert_eq!(fields.get("title"), Some(&FieldValue::Register("t".into())));
}

#[test]
fn a_room_does_not_open_its_log_with_an_unsafe_schema() {
    let d = old_card();
    let log = [d.room.doc().snapshot_v1()];
    // The log records schema 0 (`title` a string register); one where it became a text
    // would strand every title.
    let unsafe_schema = Schema::new(2).card(
        "task",
        CardKind::default().field("title", FieldDef::new(cardsync_core::FieldKind::Text)),
    );
    let err = Room::new(RoomConfig::default(), unsafe_schema, tokens(), log.clone())
        .err()
        .expect("refused");
    assert!(
        matches!(
            &err,
            crate::room::RoomError::Open(crate::room::shadow::ShadowError::Open(
                cardsync_core::OpenError::UnsafeSchemaChange { .. }
            ))
        ),
        "{err}"
    );
    assert!(err.to_string().contains("\"title\""), "{err}");
    // The room's own schema adds fields only: it opens.
    Room::new(RoomConfig::default(), schema(), tokens(), log).unwrap();
}

#[test]
fn a_schema_recorded_under_the_rooms_version_must_be_the_rooms() {
    let mut d = old_card();
    let mut other = schema();
    other.cards.get_mut("task").unwrap().fields.insert(
        "extra".into(),
        FieldDef::new(cardsync_core::FieldKind::Counter),
    );
    let snapshot = d.room.doc().snapshot_v1();
    let mut c = Client {
        doc: CardDoc::load_v1(other.into(), 9, &snapshot).unwrap(),
        seq: 0,
    };
    let (msg, ..) = c.batch(&[set(1, "title", "x")]);
    let actions = d.send(PeerId(3), &msg);
    let (code, reason) = reject(&actions, PeerId(3)).expect("refused");
    assert_eq!(code, RejectCode::SchemaViolation);
    assert!(reason.contains("schema@1"), "{reason}");
}

/// A peer on a schema of an older version that the room's cannot safely follow (it has a card
/// kind the room's lacks, which a reopening would call removed): its record would make the document refuse to reopen under the room's
/// schema, so the room refuses the batch carrying it. A record the room's schema does follow
/// (only fields added since) is taken, and the log still opens.
#[test]
fn an_older_schema_record_must_be_one_the_rooms_schema_can_follow() {
    let foreign = old_schema().card("note", CardKind::default());
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "edit", 7);
    d.join(2, "edit", 8);
    let create = |n| Op::CreateCard {
        card: card(n),
        kind: "task".into(),
        fields: [("title".to_owned(), "t".into())].into_iter().collect(),
    };
    let mut c = Client {
        doc: CardDoc::new(foreign, 7).unwrap(),
        seq: 0,
    };
    let (msg, ..) = c.batch(&[create(1)]);
    let actions = d.send(PeerId(1), &msg);
    let (code, reason) = reject(&actions, PeerId(1)).expect("refused");
    assert_eq!(code, RejectCode::SchemaViolation);
    assert!(reason.contains("schema@0"), "{reason}");

    let mut c = Client {
        doc: CardDoc::new(old_schema(), 8).unwrap(),
        seq: 0,
    };
    let (msg, ..) = c.batch(&[create(2)]);
    let actions = d.send(PeerId(2), &msg);
    assert!(reject(&actions, PeerId(2)).is_none(), "{actions:?}");
    d.persist_all();
    let log = [d.room.doc().snapshot_v1()];
    let reopened = Room::new(RoomConfig::default(), schema(), tokens(), log).unwrap();
    assert!(reopened.doc().card(card(2)).is_some());
    assert!(reopened.doc().card(card(1)).is_none());
}

/// Two card ids whose `notes` fields hash to one fixed container id, found by a birthday
/// search over `CardId::from_u128(1..2^27)`; a crafted id hits a given card's id as easily.
const COLLIDING: (u128, u128) = (5_735_458, 24_004_733);

fn with_notes(version: u32) -> Schema {
    let notes = FieldDef::new(cardsync_core::FieldKind::Text);
    Schema::new(version).card(
        "task",
        CardKind::default()
            .field("title", FieldDef::register(ValueType::String))
            .field("notes", notes),
    )
}

fn room_on(schema: Schema, log: &[Vec<u8>]) -> Driver {
    let room = Room::new(RoomConfig::default(), schema, tokens(), log).unwrap();
    let mut d = Driver {
        room,
        now: Instant(1_000),
        unpersisted: Vec::new(),
    };
    d.join(1, "edit", 7);
    d
}

fn plain_task(n: u128) -> Op {
    Op::CreateCard {
        card: card(n),
        kind: "task".into(),
        fields: [("title".to_owned(), "t".into())].into_iter().collect(),
    }
}

#[test]
fn the_fixture_collides() {
    let (a, b) = COLLIDING;
    assert_eq!(
        cardsync_core::layout::container_client(card(a), "notes"),
        cardsync_core::layout::container_client(card(b), "notes")
    );
}

/// A new card whose field would share its fixed container id with another card's field is
/// refused, and the first card keeps its field.
#[test]
fn a_new_card_may_not_claim_another_cards_fixed_container_id() {
    let (a, b) = COLLIDING;
    let mut d = room_on(with_notes(1), &[]);
    let mut c = Client {
        doc: CardDoc::new(with_notes(1), 7).unwrap(),
        seq: 0,
    };
    let (msg, ..) = c.batch(&[plain_task(a)]);
    let refused = reject(&d.send(PeerId(1), &msg), PeerId(1));
    assert!(refused.is_none(), "{refused:?}");
    let (msg, ..) = c.batch(&[plain_task(b)]);
    let (code, reason) = reject(&d.send_settled(PeerId(1), &msg), PeerId(1)).expect("refused");
    assert_eq!(code, RejectCode::SchemaViolation);
    assert!(reason.contains("fixed container id"), "{reason}");
    assert!(d.room.doc().card(card(b)).is_none());
    // A card with no collision is taken as before (from a client that did not write b).
    let mut c = Client {
        doc: CardDoc::load_v1(with_notes(1).into(), 8, &d.room.doc().snapshot_v1()).unwrap(),
        seq: 0,
    };
    let (msg, ..) = c.batch(&[plain_task(b + 1)]);
    assert!(reject(&d.send(PeerId(1), &msg), PeerId(1)).is_none());
}

/// Two cards made before a schema change added `notes` share its fixed id: neither gets the
/// container (on some replicas one would take the other's writes), and other cards do.
#[test]
fn a_fixed_container_id_two_fields_claim_is_given_to_neither() {
    let (a, b) = COLLIDING;
    let mut old = room_on(old_schema(), &[]);
    let mut c = Client {
        doc: CardDoc::new(old_schema(), 7).unwrap(),
        seq: 0,
    };
    let (msg, ..) = c.batch(&[plain_task(a), plain_task(b), plain_task(3)]);
    assert!(reject(&old.send(PeerId(1), &msg), PeerId(1)).is_none());
    old.persist_all();
    let log = [old.room.doc().snapshot_v1()];
    let mut d = room_on(with_notes(1), &log);
    let client = |id| Client {
        doc: CardDoc::load_v1(with_notes(1).into(), id, &log[0]).unwrap(),
        seq: 0,
    };
    let note = |n| Op::InsertText {
        card: card(n),
        field: "notes".into(),
        index: 0,
        text: "hi".into(),
        attributes: Default::default(),
    };
    for (n, id) in [(a, 8), (b, 9)] {
        let (msg, ..) = client(id).batch(&[note(n)]);
        let (code, reason) = reject(&d.send(PeerId(1), &msg), PeerId(1)).expect("refused");
        assert_eq!(code, RejectCode::SchemaViolation);
        assert!(reason.contains("fixed container id"), "{reason}");
    }
    let (msg, ..) = client(10).batch(&[note(3)]);
    assert!(reject(&d.send(PeerId(1), &msg), PeerId(1)).is_none());
}
