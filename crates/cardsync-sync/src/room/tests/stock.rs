//! Stock Yjs peers (no hello) cannot be poisoned: an update breaking a document rule is
//! accepted and undone by the room's compensation, on every replica, and the peer's later
//! writes still arrive. Peers are raw yrs documents, written as a Yjs developer would.

use std::sync::Arc;

use cardsync_core::{CardDoc, CardKind, FieldDef, FieldValue, Schema, ValueType};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Any, Array, Doc, GetString, In, Map, MapPrelim, MapRef, Out, ReadTxn, Text, TextPrelim,
    Transact, TransactionMut, Update,
};

use super::*;
use crate::protocol::RejectCode;
use crate::room::{AuditRecord, COMPENSATOR_CLIENT_ID, Violation};
use cardsync_core::Op;

/// A stock Yjs replica: a plain yrs document, its own peer id.
struct Stock {
    doc: Doc,
    peer: PeerId,
}

impl Stock {
    /// Connects as a hello-less peer and syncs (step 1 → the room's step 2).
    fn join(d: &mut Driver, peer: u64, client: u64) -> Self {
        let stock = Self {
            doc: Doc::with_client_id(client),
            peer: PeerId(peer),
        };
        d.room.handle_connect(d.now, stock.peer).unwrap();
        let state_vector = stock.doc.transact().state_vector().encode_v1();
        let actions = d.send(stock.peer, &Message::SyncStep1 { state_vector });
        stock.receive(&actions);
        stock
    }

    /// Writes one transaction on the `cards` root; returns its update.
    fn write(&self, f: impl FnOnce(&mut TransactionMut<'_>, &MapRef)) -> Vec<u8> {
        let cards = self.doc.get_or_insert_map("cards");
        let mut txn = self.doc.transact_mut();
        f(&mut txn, &cards);
        txn.encode_update_v1()
    }

    /// Applies whatever the room sent this peer among `actions`.
    fn receive(&self, actions: &[RoomAction]) {
        for message in to(actions, self.peer) {
            if let Message::Update { update } | Message::SyncStep2 { update } = message {
                let mut txn = self.doc.transact_mut();
                txn.apply_update(Update::decode_v1(&update).unwrap())
                    .unwrap();
            }
        }
    }

    /// The replica as a cardsync document.
    fn card_doc(&self, schema: Schema) -> CardDoc {
        let mut doc = CardDoc::new(schema, 99).unwrap();
        let update = self
            .doc
            .transact()
            .encode_state_as_update_v1(&Default::default());
        doc.apply_update_v1(&update).unwrap();
        doc
    }
}

fn stock_config() -> RoomConfig {
    RoomConfig {
        hello_less_role: Some(Role::Editor),
        ..RoomConfig::default()
    }
}

fn audits(actions: &[RoomAction]) -> Vec<AuditRecord> {
    actions
        .iter()
        .filter_map(|a| match a {
            RoomAction::Audit(record) => Some(record.clone()),
            _ => None,
        })
        .collect()
}

/// A valid card written by hand in one transaction, as the guide in the README says.
fn hand_written_task(txn: &mut TransactionMut<'_>, cards: &MapRef, id: u128, title: &str) {
    let card = cards.insert(txn, card(id).to_string(), MapPrelim::default());
    card.insert(txn, "$kind", "task");
    let stamp = Any::from(std::collections::HashMap::from([
        ("at".to_owned(), Any::from(1.0)),
        ("by".to_owned(), Any::from("stock")),
    ]));
    card.insert(txn, "$created", In::Any(stamp.clone()));
    card.insert(txn, "$modified", In::Any(stamp));
    card.insert(txn, "title", title);
    card.insert(txn, "status", "todo");
    card.insert(txn, "body", TextPrelim::new("hi"));
}

#[test]
fn a_refused_hand_written_card_is_undone_and_later_writes_arrive() {
    let mut d = Driver::new(stock_config());
    let native = d.join(2, "edit", 8);
    assert!(!native.is_empty());
    let stock = Stock::join(&mut d, 1, 5);

    // The first ordinary mistake: the card map in one transaction, its fields in a second.
    let first = stock.write(|txn, cards| {
        cards.insert(txn, card(1).to_string(), MapPrelim::default());
    });
    let second = stock.write(|txn, cards| {
        let Some(Out::YMap(c)) = cards.get(txn, &card(1).to_string()) else {
            panic!("no card")
        };
        c.insert(txn, "$kind", "task");
        c.insert(txn, "title", "late");
    });
    let actions = d.send(stock.peer, &Message::Update { update: first });
    assert!(rejects_of(&actions, stock.peer).is_empty(), "not refused");
    assert_eq!(persists(&actions), 1, "update and compensation: one append");
    let actions = [
        actions,
        d.send(stock.peer, &Message::Update { update: second }),
    ]
    .concat();
    stock.receive(&actions);
    let after = d.persist_all();
    stock.receive(&after);
    let records = audits(&after);
    assert_eq!(records.len(), 1, "{after:?}");
    assert_eq!(records[0].peer, stock.peer);
    assert_eq!(records[0].clients, [5]);
    assert!(matches!(
        records[0].violations[..],
        [Violation::MissingKind { .. }]
    ));
    assert!(d.room.doc().card(card(1)).is_none());

    // A text field as a plain string: undone too.
    let third = stock.write(|txn, cards| {
        hand_written_task(txn, cards, 2, "plain");
        let Some(Out::YMap(c)) = cards.get(txn, &card(2).to_string()) else {
            panic!()
        };
        c.insert(txn, "body", "a plain string");
    });
    d.send(stock.peer, &Message::Update { update: third });
    let after = d.persist_all();
    stock.receive(&after);
    assert!(matches!(
        audits(&after)[0].violations[..],
        [Violation::WrongShape { .. }]
    ));

    // The later valid card arrives, and reaches the native peer.
    let valid = stock.write(|txn, cards| hand_written_task(txn, cards, 3, "valid"));
    d.send(stock.peer, &Message::Update { update: valid });
    let after = d.persist_all();
    assert!(audits(&after).is_empty());
    assert!(matches!(
        to(&after, PeerId(2))[..],
        [Message::Update { .. }]
    ));
    let room = d.room.doc();
    assert!(room.card(card(3)).is_some());
    assert!(room.card(card(1)).is_none() && room.card(card(2)).is_none());
    // The stock replica holds exactly what the room holds.
    assert_eq!(stock.card_doc(schema()).export(), room.export());
    // Its clocks are all in the room: nothing of it is refused as a dependent any more.
    let held = d.room.doc().yrs_doc().transact().state_vector();
    assert_eq!(held, stock.doc.transact().state_vector());
}

fn rejects_of(actions: &[RoomAction], peer: PeerId) -> Vec<RejectCode> {
    to(actions, peer)
        .into_iter()
        .filter_map(|m| match m {
            Message::Reject { code, .. } => Some(code),
            _ => None,
        })
        .collect()
}

fn workflow() -> Schema {
    Schema::new(1).card(
        "task",
        CardKind::default()
            .field("title", FieldDef::register(ValueType::String))
            .field(
                "status",
                FieldDef::state_machine([("todo", "doing"), ("doing", "done"), ("doing", "todo")]),
            ),
    )
}

fn set_status(stock: &Stock, to: &str) -> Vec<u8> {
    stock.write(|txn, cards| {
        let Some(Out::YMap(c)) = cards.get(txn, &card(1).to_string()) else {
            panic!("no card")
        };
        c.insert(txn, "status", to);
    })
}

#[test]
fn two_valid_offline_moves_merge_into_one_valid_state_everywhere() {
    for (low, high, high_moves_to) in [(10, 1_000_000, "done"), (10, 1_000_000, "todo")] {
        let room = Room::new(
            stock_config(),
            Arc::new(workflow()),
            tokens(),
            Vec::<Vec<u8>>::new(),
        );
        let mut d = Driver {
            room: room.unwrap(),
            now: Instant(1_000),
            unpersisted: Vec::new(),
        };
        let mut alice = CardDoc::new(workflow(), 7).unwrap();
        d.join(3, "edit", 7);
        let steps = [
            vec![create_task(1, "todo")],
            vec![set(1, "status", "doing")],
        ];
        for (seq, ops) in (0u64..).zip(steps) {
            let applied = alice
                .apply_with_origin(&Stamp::new(1, "a"), &ops, Origin::Local)
                .unwrap();
            let batch = BatchId { client: 7, seq };
            d.send(
                PeerId(3),
                &Message::SubmitBatch {
                    batch,
                    update: applied.update,
                },
            );
            d.persist_all();
        }
        let a = Stock::join(&mut d, 1, high);
        let b = Stock::join(&mut d, 2, low);
        // Offline: `a` moves doing → one state, `b` doing → the other. Both moves are valid.
        let other = if high_moves_to == "done" {
            "todo"
        } else {
            "done"
        };
        let from_a = set_status(&a, high_moves_to);
        let from_b = set_status(&b, other);
        // `b` reconnects first, then `a`, whose id wins the merge of the two writes.
        d.send(b.peer, &Message::Update { update: from_b });
        let mut seen = d.persist_all();
        d.send(a.peer, &Message::Update { update: from_a });
        seen.extend(d.persist_all());
        a.receive(&seen);
        b.receive(&seen);
        for m in to(&seen, PeerId(3)) {
            if let Message::Update { update } = m {
                alice.apply_update_v1(&update).unwrap();
            }
        }
        let status = d.room.doc().card(card(1)).unwrap().fields["status"].clone();
        // `b`'s move came first and stands; `a`'s, merged over it, reads as a move the
        // machine forbids (`todo → done`, `done → todo`), so the room undid it.
        let expected = FieldValue::Register(other.into());
        assert_eq!(status, expected, "case {high_moves_to}");
        let export = d.room.doc().export();
        assert_eq!(a.card_doc(workflow()).export(), export);
        assert_eq!(b.card_doc(workflow()).export(), export);
        assert_eq!(alice.export(), export);
        assert_eq!(audits(&seen).len(), 1, "the merge needed a compensation");
    }
}

/// A room holding task 1 (body "hello", 2 votes from client 7), with a stock peer (client 5)
/// and a native one (peer 2), all in sync.
fn seeded() -> (Driver, Stock) {
    let mut d = Driver::new(stock_config());
    d.join(2, "edit", 7);
    let mut alice = Client::new(7);
    let (msg, ..) = alice.batch(&[create_task(1, "todo")]);
    d.send(PeerId(2), &msg);
    let edits = [
        Op::InsertText {
            card: card(1),
            field: "body".into(),
            index: 0,
            text: "hello".into(),
            attributes: Default::default(),
        },
        Op::Increment {
            card: card(1),
            field: "votes".into(),
            by: 2,
        },
    ];
    let (msg, ..) = alice.batch(&edits);
    d.send(PeerId(2), &msg);
    d.persist_all();
    let stock = Stock::join(&mut d, 1, 5);
    (d, stock)
}

fn field(d: &Driver, name: &str) -> FieldValue {
    d.room.doc().card(card(1)).unwrap().fields[name].clone()
}

#[test]
fn keys_of_an_existing_card_are_put_back_one_by_one() {
    let (mut d, stock) = seeded();
    let votes_before = field(&d, "votes");
    let update = stock.write(|txn, cards| {
        let Some(Out::YMap(c)) = cards.get(txn, &card(1).to_string()) else {
            panic!("no card")
        };
        // Valid: a new title, and a vote of its own.
        c.insert(txn, "title", "renamed");
        let Some(Out::YMap(votes)) = c.get(txn, "votes") else {
            panic!("no votes")
        };
        votes.insert(txn, "5", 1);
        // Invalid: the text replaced by a plain string, another replica's vote rewritten.
        c.insert(txn, "body", "flat");
        votes.insert(txn, "7", 100);
    });
    d.send(stock.peer, &Message::Update { update });
    let after = d.persist_all();
    stock.receive(&after);
    let records = audits(&after);
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].violations.len(),
        2,
        "{:?}",
        records[0].violations
    );
    assert_eq!(field(&d, "title"), FieldValue::Register("renamed".into()));
    assert_eq!(field(&d, "body"), FieldValue::Text("hello".into()));
    let FieldValue::Counter(before) = votes_before else {
        panic!("{votes_before:?}")
    };
    assert_eq!(field(&d, "votes"), FieldValue::Counter(before + 1));
    assert_eq!(stock.card_doc(schema()).export(), d.room.doc().export());
    // The counter map kept its identity: the stock replica's own entry is still in it.
    let txn = stock.doc.transact();
    let cards = txn.get_map("cards").unwrap();
    let Some(Out::YMap(c)) = cards.get(&txn, &card(1).to_string()) else {
        panic!()
    };
    let Some(Out::YText(body)) = c.get(&txn, "body") else {
        panic!("body is a text again")
    };
    assert_eq!(body.get_string(&txn), "hello");
}

#[test]
fn a_native_peer_keeps_exact_rejection() {
    let (mut d, _) = seeded();
    let mallory = Stock {
        doc: Doc::with_client_id(9),
        peer: PeerId(2),
    };
    let update = d.room.doc().snapshot_v1();
    mallory
        .doc
        .transact_mut()
        .apply_update(Update::decode_v1(&update).unwrap())
        .unwrap();
    let update = mallory.write(|txn, cards| {
        let Some(Out::YMap(c)) = cards.get(txn, &card(1).to_string()) else {
            panic!()
        };
        c.insert(txn, "status", "done");
    });
    let actions = d.send(PeerId(2), &Message::SyncStep2 { update });
    assert_eq!(
        rejects_of(&actions, PeerId(2)),
        [RejectCode::InvalidTransition]
    );
    assert_eq!(persists(&actions), 0);
    assert!(audits(&actions).is_empty());
}

#[test]
fn nobody_may_write_as_the_compensator() {
    let (mut d, stock) = seeded();
    let forger = Stock {
        doc: Doc::with_client_id(COMPENSATOR_CLIENT_ID),
        peer: stock.peer,
    };
    let update = forger.write(|txn, cards| hand_written_task(txn, cards, 4, "forged"));
    let actions = d.send(stock.peer, &Message::Update { update });
    assert_eq!(rejects_of(&actions, stock.peer), [RejectCode::Forbidden]);
    assert!(d.room.doc().card(card(4)).is_none());
}

#[test]
fn a_stock_viewer_is_still_refused() {
    let mut d = Driver::new(RoomConfig::default());
    let stock = Stock::join(&mut d, 1, 5);
    let update = stock.write(|txn, cards| {
        cards.insert(txn, card(1).to_string(), MapPrelim::default());
    });
    let actions = d.send(stock.peer, &Message::Update { update });
    assert_eq!(rejects_of(&actions, stock.peer), [RejectCode::Forbidden]);
    assert_eq!(persists(&actions), 0);
}

/// A stock peer writing into a root of its own (a map, then an array and a text in the same
/// root names later): the room empties the root rather than refuse, so the peer is not
/// poisoned, nothing of it reaches anyone, and its later valid writes arrive. A write into a
/// root emptied before is emptied again.
#[test]
fn a_root_of_a_stock_peers_own_is_emptied_and_later_writes_arrive() {
    let mut d = Driver::new(stock_config());
    d.join(2, "edit", 8);
    let stock = Stock::join(&mut d, 1, 5);
    // Roots are taken before the transaction: yrs makes one with a write transaction of its own.
    let (mine, list, notes) = (
        stock.doc.get_or_insert_map("mine"),
        stock.doc.get_or_insert_array("list"),
        stock.doc.get_or_insert_text("notes"),
    );
    let own = |f: &dyn Fn(&mut TransactionMut<'_>)| {
        let mut txn = stock.doc.transact_mut();
        f(&mut txn);
        txn.encode_update_v1()
    };
    let map = own(&|txn| {
        mine.insert(txn, "k", MapPrelim::from([("nested", 1)]));
    });
    let array = own(&|txn| {
        list.insert_range(txn, 0, [1, 2, 3]);
        notes.insert(txn, 0, "hello");
    });
    let mut actions = Vec::new();
    for update in [map, array] {
        let sent = d.send(stock.peer, &Message::Update { update });
        assert!(rejects_of(&sent, stock.peer).is_empty(), "not refused");
        actions.extend(sent);
    }
    actions.extend(d.persist_all());
    stock.receive(&actions);
    let records = audits(&actions);
    assert_eq!(records.len(), 2, "{actions:?}");
    assert!(
        records
            .iter()
            .flat_map(|r| &r.violations)
            .all(|v| matches!(v, Violation::UnknownRoot(_)))
    );
    // Empty on the stock replica and the room alike.
    for doc in [stock.doc.clone(), d.room.doc().yrs_doc().clone()] {
        let txn = doc.transact();
        assert_eq!(txn.get_map("mine").map(|m| m.len(&txn)).unwrap_or(0), 0);
        assert_eq!(txn.get_array("list").map(|a| a.len(&txn)).unwrap_or(0), 0);
        let text = txn.get_text("notes").map(|t| t.get_string(&txn));
        assert_eq!(text.unwrap_or_default(), "");
    }
    // Again into the emptied root: emptied again.
    let again = own(&|txn| {
        mine.insert(txn, "k2", "v");
    });
    let mut actions = d.send(stock.peer, &Message::Update { update: again });
    actions.extend(d.persist_all());
    stock.receive(&actions);
    assert_eq!(audits(&actions).len(), 1);
    let txn = d.room.doc().yrs_doc().transact();
    assert_eq!(txn.get_map("mine").map(|m| m.len(&txn)), Some(0));
    drop(txn);
    // A valid card afterwards arrives.
    let card_update = stock.write(|txn, cards| hand_written_task(txn, cards, 9, "valid"));
    let actions = d.send(
        stock.peer,
        &Message::Update {
            update: card_update,
        },
    );
    assert!(rejects_of(&actions, stock.peer).is_empty());
    d.persist_all();
    assert!(d.room.doc().card(card(9)).is_some());
}
