//! The batch pipeline: persist before ack, rejections, dependents, duplicates, permissions,
//! stock updates, and hostile updates written with raw yrs.

use cardsync_core::{CardDoc, FieldValue};

use super::*;
use crate::protocol::RejectCode;
use crate::room::{FieldRule, Permissions, UNBATCHED};

/// A driver with an editor (peer 1, client 7) and a viewer (peer 2).
pub(super) fn two_peers() -> (Driver, Client) {
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "edit", 7);
    d.join(2, "view", 8);
    (d, Client::new(7))
}

pub(super) fn rejects(actions: &[RoomAction], peer: PeerId) -> Vec<(BatchId, RejectCode)> {
    to(actions, peer)
        .into_iter()
        .filter_map(|m| match m {
            Message::Reject { batch, code, .. } => Some((batch, code)),
            _ => None,
        })
        .collect()
}

#[test]
fn valid_batch_is_persisted_before_it_is_acked_and_broadcast() {
    let (mut d, mut alice) = two_peers();
    let (msg, batch, applied) = alice.batch(&[create_task(1, "todo")]);
    let actions = d.send(PeerId(1), &msg);
    assert_eq!(persists(&actions), 1);
    assert!(
        to(&actions, PeerId(1)).is_empty(),
        "no ack before persistence"
    );
    assert!(
        to(&actions, PeerId(2)).is_empty(),
        "no broadcast before persistence"
    );
    assert_eq!(d.room.pending_persists(), 1);
    let RoomAction::Persist { token, update } = &actions[0] else {
        panic!()
    };
    d.room.handle_persisted(d.now, *token).unwrap();
    d.unpersisted.clear();
    let actions = d.drain();
    assert_eq!(
        to(&actions, PeerId(1)),
        [Message::Ack {
            batch,
            clock: applied.clock.end
        }]
    );
    // The viewer gets a y-protocols update a stock client can apply.
    let [Message::Update { update: broadcast }] = &to(&actions, PeerId(2))[..] else {
        panic!()
    };
    let mut viewer = CardDoc::new(schema(), 8).unwrap();
    viewer.apply_update_v1(broadcast).unwrap();
    assert_eq!(viewer.export(), alice.doc.export());
    // The persisted update rebuilds the document.
    let reopened = Room::new(RoomConfig::default(), schema(), tokens(), [update]).unwrap();
    assert_eq!(reopened.doc().export(), alice.doc.export());
    assert!(
        d.room
            .handle_persisted(d.now, crate::room::PersistToken(99))
            .is_err()
    );
}

#[test]
fn invalid_transition_is_rejected_and_its_dependents_too() {
    let (mut d, mut alice) = two_peers();
    let (msg, ..) = alice.batch(&[create_task(1, "todo")]);
    d.send(PeerId(1), &msg);
    d.persist_all();
    // todo → done skips "doing": the client's core would refuse it, so forge it with the
    // state machine of a laxer schema.
    let lax = Schema::new(1).card(
        "task",
        CardKind::default()
            .field("title", FieldDef::register(ValueType::String))
            .field("status", FieldDef::register(ValueType::String)),
    );
    let mut mallory = CardDoc::new(lax, 7).unwrap();
    mallory.apply_update_v1(&alice.doc.snapshot_v1()).unwrap();
    let bad = mallory
        .apply_with_origin(
            &Stamp::new(2, "m"),
            &[set(1, "status", "done")],
            Origin::Local,
        )
        .unwrap();
    let bad_batch = BatchId { client: 7, seq: 1 };
    let actions = d.send(
        PeerId(1),
        &Message::SubmitBatch {
            batch: bad_batch,
            update: bad.update.clone(),
        },
    );
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(bad_batch, RejectCode::InvalidTransition)]
    );
    // The reason names the states as a developer would write them, not as Rust's `Some(..)`.
    let reasons: Vec<String> = to(&actions, PeerId(1))
        .into_iter()
        .filter_map(|m| match m {
            Message::Reject { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert!(
        reasons[0].ends_with(r#"may not move from "todo" to "done""#),
        "{reasons:?}"
    );
    assert_eq!(persists(&actions), 0);
    assert!(to(&actions, PeerId(2)).is_empty(), "never broadcast");
    let status = |d: &Driver| d.room.doc().card(card(1)).unwrap().fields["status"].clone();
    assert_eq!(status(&d), FieldValue::Register("todo".into()));

    // A later batch of the same client id builds on it.
    let next = mallory
        .apply_with_origin(&Stamp::new(3, "m"), &[set(1, "title", "x")], Origin::Local)
        .unwrap();
    let next_batch = BatchId { client: 7, seq: 2 };
    let actions = d.send(
        PeerId(1),
        &Message::SubmitBatch {
            batch: next_batch,
            update: next.update,
        },
    );
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(next_batch, RejectCode::DependsOnRejected)]
    );
    // A resend of the rejected batch gets its original verdict.
    let actions = d.send(
        PeerId(1),
        &Message::SubmitBatch {
            batch: bad_batch,
            update: bad.update,
        },
    );
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(bad_batch, RejectCode::InvalidTransition)]
    );

    // The shadow was rebuilt: a valid batch from a fresh client id (a rollback) goes through.
    let mut rebased = Client::new(70);
    rebased
        .doc
        .apply_update_v1(&d.room.doc().snapshot_v1())
        .unwrap();
    let (msg, batch, _) = rebased.batch(&[set(1, "status", "doing")]);
    d.send(PeerId(1), &msg);
    let actions = d.persist_all();
    assert!(matches!(to(&actions, PeerId(1))[..], [Message::Ack { batch: b, .. }] if b == batch));
    assert_eq!(status(&d), FieldValue::Register("doing".into()));
}

#[test]
fn viewer_batches_are_forbidden() {
    let (mut d, _) = two_peers();
    let mut viewer = Client::new(8);
    let (msg, batch, _) = viewer.batch(&[create_task(1, "todo")]);
    let actions = d.send(PeerId(2), &msg);
    assert_eq!(
        rejects(&actions, PeerId(2)),
        [(batch, RejectCode::Forbidden)]
    );
    assert_eq!(persists(&actions), 0);
    assert!(d.room.doc().card(card(1)).is_none());
}

#[test]
fn duplicates_are_acked_again() {
    let (mut d, mut alice) = two_peers();
    let (msg, batch, applied) = alice.batch(&[create_task(1, "todo")]);
    d.send(PeerId(1), &msg);
    // Resent before the first copy is durable: the ack waits for that persist.
    let actions = d.room.handle_message(d.now, PeerId(1), &msg.encode());
    actions.unwrap();
    let actions = d.persist_all();
    let ack = Message::Ack {
        batch,
        clock: applied.clock.end,
    };
    assert_eq!(to(&actions, PeerId(1)), [ack.clone(), ack.clone()]);
    // Resent after: acked at once, nothing persisted or broadcast.
    let actions = d.send(PeerId(1), &msg);
    assert_eq!(actions.len(), 1);
    assert_eq!(to(&actions, PeerId(1)), [ack]);
}

/// A room config where only admins set `priority`.
pub(super) fn priority_for_admins() -> RoomConfig {
    RoomConfig {
        permissions: Permissions {
            field_rules: vec![FieldRule {
                kind: "task".into(),
                field: "priority".into(),
                roles: vec![Role::Admin],
            }],
        },
        ..RoomConfig::default()
    }
}

#[test]
fn field_rules_reserve_fields_to_roles() {
    let mut d = Driver::new(priority_for_admins());
    d.join(1, "edit", 7);
    d.join(3, "admin", 9);
    let mut alice = Client::new(7);
    let (msg, ..) = alice.batch(&[create_task(1, "todo")]);
    d.send(PeerId(1), &msg);
    d.persist_all();
    let (msg, batch, _) = alice.batch(&[set(1, "priority", 3)]);
    let actions = d.send(PeerId(1), &msg);
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(batch, RejectCode::Forbidden)]
    );
    let mut admin = Client::new(9);
    admin
        .doc
        .apply_update_v1(&d.room.doc().snapshot_v1())
        .unwrap();
    let (msg, ..) = admin.batch(&[set(1, "priority", 3)]);
    d.send(PeerId(3), &msg);
    d.persist_all();
    let fields = d.room.doc().card(card(1)).unwrap().fields;
    assert_eq!(fields["priority"], FieldValue::Register(3.into()));
}

#[test]
fn a_hole_in_the_clocks_is_a_dependent() {
    let (mut d, mut alice) = two_peers();
    let (first, ..) = alice.batch(&[create_task(1, "todo")]);
    let (second, batch, _) = alice.batch(&[set(1, "title", "x")]);
    let actions = d.send(PeerId(1), &second);
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(batch, RejectCode::DependsOnRejected)]
    );
    // Not final: sent in order, both go through.
    d.send(PeerId(1), &first);
    d.send(PeerId(1), &second);
    let actions = d.persist_all();
    assert_eq!(to(&actions, PeerId(1)).len(), 2);
}

#[test]
fn stock_updates_are_accepted_or_refused_by_role() {
    let config = RoomConfig {
        hello_less_role: Some(Role::Editor),
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(2, "view", 8);
    d.room.handle_connect(d.now, PeerId(1)).unwrap();
    let mut stock = CardDoc::new(schema(), 5).unwrap();
    let sv = stock.state_vector();
    stock
        .create_card(
            &Stamp::new(1, "s"),
            card(1),
            "task",
            [("status", "todo".into())],
        )
        .unwrap();
    let update = stock.diff_v1(&sv).unwrap();
    let actions = d.send(PeerId(1), &Message::Update { update });
    assert_eq!(persists(&actions), 1);
    let actions = d.persist_all();
    assert!(
        to(&actions, PeerId(1)).is_empty(),
        "stock clients get no ack"
    );
    assert!(matches!(
        to(&actions, PeerId(2))[..],
        [Message::Update { .. }]
    ));
    assert!(d.room.doc().card(card(1)).is_some());

    // The same from a hello-less viewer is refused, and not applied.
    let mut d = Driver::new(RoomConfig::default());
    d.room.handle_connect(d.now, PeerId(1)).unwrap();
    let update = stock.snapshot_v1();
    let actions = d.send(PeerId(1), &Message::SyncStep2 { update });
    let rejected = rejects(&actions, PeerId(1));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0.seq, UNBATCHED);
    assert_eq!(rejected[0].1, RejectCode::Forbidden);
    assert!(d.room.doc().card(card(1)).is_none());
}

#[test]
fn a_viewer_step2_that_adds_nothing_is_ignored() {
    let (mut d, mut alice) = two_peers();
    let (msg, ..) = alice.batch(&[create_task(1, "todo"), Op::DeleteCard { card: card(1) }]);
    d.send(PeerId(1), &msg);
    d.persist_all();
    let mut viewer = CardDoc::new(schema(), 8).unwrap();
    viewer.apply_update_v1(&d.room.doc().snapshot_v1()).unwrap();
    // Its step 2 carries its whole delete set, all of which the room holds.
    let update = viewer.diff_v1(&d.room.doc().state_vector()).unwrap();
    let actions = d.send(PeerId(2), &Message::SyncStep2 { update });
    assert!(actions.is_empty(), "{actions:?}");
}

/// Submits, as batch `seq` of client 7 (peer 1), an update that only deletes an item of client
/// 99, which the room never saw: it is refused for changes the room lacks, and marks client 7.
fn delete_unknown_as_batch(d: &mut Driver, seq: u64) {
    let batch = BatchId { client: 7, seq };
    let submit = Message::SubmitBatch {
        batch,
        update: vec![0, 1, 99, 1, 0, 1],
    };
    let actions = d.send(PeerId(1), &submit);
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(batch, RejectCode::DependsOnRejected)]
    );
}

/// A batch refused because it needs changes the room lacks is a verdict the session rolls
/// back, replaying the client id's later batches under a new id: so the room refuses those
/// later batches too, even when the refused one only deleted (it has no clocks of its own).
/// Acking one of them would land its content twice once the replay arrives.
#[test]
fn after_a_refusal_for_missing_changes_later_batches_of_the_client_are_refused_too() {
    let (mut d, mut alice) = two_peers();
    delete_unknown_as_batch(&mut d, 0);
    alice.seq = 1;
    let (msg, later, _) = alice.batch(&[create_task(1, "todo")]);
    let actions = d.send(PeerId(1), &msg);
    d.persist_all();
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(later, RejectCode::DependsOnRejected)]
    );
    assert!(d.room.doc().card(card(1)).is_none(), "nothing of it landed");
}

/// A delete-only batch that follows a rejected one of its client id brings no clocks, so no
/// clock range meets the mark; it is refused by its place after the rejected batch. The
/// session has replayed it under a new id already: accepted too, the room would hold it
/// twice over, and the slow simulation's seed 2 ended with a tag removed on the server and
/// still set on its author.
#[test]
fn a_delete_only_batch_after_a_rejected_one_of_its_client_is_refused_too() {
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;

    let (mut d, mut alice) = two_peers();
    let add = Op::AddToSet {
        card: card(1),
        field: "tags".into(),
        item: "urgent".into(),
    };
    let (msg, ..) = alice.batch(&[create_task(1, "todo"), add]);
    d.send(PeerId(1), &msg);
    d.persist_all();

    delete_unknown_as_batch(&mut d, 1);

    // Batch 2 removes the tag: only deletes of items the room holds, valid on its own.
    let sv = alice.doc.state_vector();
    let remove = Op::RemoveFromSet {
        card: card(1),
        field: "tags".into(),
        item: "urgent".into(),
    };
    alice
        .doc
        .apply_with_origin(&Stamp::new(2, "test"), &[remove], Origin::Local)
        .unwrap();
    let diff = yrs::Update::decode_v1(&alice.doc.diff_v1(&sv).unwrap()).unwrap();
    let mut deletes_only = vec![0];
    deletes_only.extend(diff.delete_set().encode_v1());
    let later = BatchId { client: 7, seq: 2 };
    let actions = d.send(
        PeerId(1),
        &Message::SubmitBatch {
            batch: later,
            update: deletes_only,
        },
    );
    d.persist_all();
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(later, RejectCode::DependsOnRejected)]
    );
    let tags = &d.room.doc().card(card(1)).unwrap().fields["tags"];
    assert_eq!(tags, &FieldValue::Set(["urgent".to_owned()].into()));
}
