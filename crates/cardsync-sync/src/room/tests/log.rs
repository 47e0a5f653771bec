//! Two rooms of one document on two nodes, sharing one log (docs/design.md §12): entries
//! another node appended reach a room's peers; a batch whose append was refused because the
//! head moved is judged again against the new state, accepted or rejected with the normal
//! reasons, and nothing of it reaches other peers before that.

use cardsync_core::{FieldValue, Value};

use super::batches::rejects;
use super::*;
use crate::protocol::RejectCode;
use crate::room::RoomError;

/// A room on node 1 (editor client 17 as peer 1, a viewer as peer 2) and one on node 2
/// (editor client 9 as peer 1), both opened on `log`.
fn two_nodes(log: &[Vec<u8>]) -> (Driver, Driver) {
    let open = || Driver {
        room: Room::new(RoomConfig::default(), schema(), tokens(), log).unwrap(),
        now: Instant(1_000),
        unpersisted: Vec::new(),
    };
    let (mut n1, mut n2) = (open(), open());
    n1.join(1, "edit", 17);
    n1.join(2, "view", 8);
    n2.join(1, "edit", 9);
    (n1, n2)
}

/// Submits `ops` from `client` as peer 1 of `node`; returns the batch and the update to
/// append.
fn submit(node: &mut Driver, client: &mut Client, ops: &[Op]) -> (BatchId, Vec<u8>) {
    let (msg, batch, _) = client.batch(ops);
    let actions = node.send(PeerId(1), &msg);
    let update = actions
        .iter()
        .find_map(|a| match a {
            RoomAction::Persist { update, .. } => Some(update.clone()),
            _ => None,
        })
        .expect("a persist");
    (batch, update)
}

fn status(doc: &CardDoc, id: u128) -> Option<FieldValue> {
    doc.card(card(id))?.fields.get("status").cloned()
}

fn updates_to(actions: &[RoomAction], peer: PeerId) -> Vec<Vec<u8>> {
    to(actions, peer)
        .into_iter()
        .filter_map(|m| match m {
            Message::Update { update } => Some(update),
            _ => None,
        })
        .collect()
}

#[test]
fn entries_from_another_node_reach_every_peer_and_count_as_durable() {
    let (mut n1, mut n2) = two_nodes(&[]);
    let (mut seven, mut nine) = (Client::new(17), Client::new(9));
    // Node 2 accepts a card and appends it.
    let (_, entry) = submit(&mut n2, &mut nine, &[create_task(1, "todo")]);
    n2.persist_all();
    n1.room
        .handle_log_entries(n1.now, [entry.as_slice()])
        .unwrap();
    let actions = n1.drain();
    for peer in [PeerId(1), PeerId(2)] {
        assert_eq!(
            updates_to(&actions, peer),
            std::slice::from_ref(&entry),
            "{peer}"
        );
    }
    assert!(n1.room.doc().card(card(1)).is_some());
    // Node 1's editor builds on it: judged against the state that holds the card.
    seven.doc.apply_update_v1(&entry).unwrap();
    let (batch, _) = submit(&mut n1, &mut seven, &[set(1, "status", "doing")]);
    // While that persist is in flight, entries must wait.
    assert!(matches!(
        n1.room.handle_log_entries(n1.now, [entry.as_slice()]),
        Err(RoomError::PersistsInFlight { pending: 1 })
    ));
    let acked = n1.persist_all();
    assert!(
        to(&acked, PeerId(1))
            .iter()
            .any(|m| matches!(m, Message::Ack { batch: b, .. } if *b == batch))
    );
}

#[test]
fn a_batch_refused_for_a_moved_head_is_judged_again_and_rejected() {
    let mut seed = Client::new(3);
    let (_, _, created) = seed.batch(&[create_task(1, "todo")]);
    let mut log = vec![created.update.clone()];
    let (mut n1, mut n2) = two_nodes(&log);
    let (mut seven, mut nine) = (Client::new(17), Client::new(9));
    seven.doc.apply_update_v1(&log[0]).unwrap();
    nine.doc.apply_update_v1(&log[0]).unwrap();
    // Node 2 moves the card on to done, and appends first.
    for to_status in ["doing", "done"] {
        let (_, entry) = submit(&mut n2, &mut nine, &[set(1, "status", to_status)]);
        log.push(entry);
    }
    n2.persist_all();
    // Node 1 judged its own todo → doing against the old head: valid there. (Its client id
    // is the higher, so its write would win the register's merge: done → doing, refused.)
    let (batch, _) = submit(&mut n1, &mut seven, &[set(1, "status", "doing")]);
    assert_eq!(n1.room.pending_persists(), 1);
    // The store refuses it (the head moved): node 1 rebuilds from the log, judges it again.
    let dropped = n1.room.handle_log_moved(n1.now, &log).unwrap();
    assert_eq!(dropped.len(), 1);
    n1.unpersisted.clear();
    let actions = n1.drain();
    assert_eq!(persists(&actions), 0);
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(batch, RejectCode::InvalidTransition)]
    );
    assert_eq!(
        status(n1.room.doc(), 1),
        Some(FieldValue::Register(Value::from("done")))
    );
    // The viewer got what node 2 appended, and never the refused batch.
    let mut viewer = CardDoc::new(schema(), 8).unwrap();
    viewer.apply_update_v1(&log[0]).unwrap();
    for update in updates_to(&actions, PeerId(2)) {
        viewer.apply_update_v1(&update).unwrap();
    }
    assert_eq!(
        status(&viewer, 1),
        Some(FieldValue::Register(Value::from("done")))
    );
    assert_eq!(n1.room.pending_persists(), 0);
}

#[test]
fn a_batch_refused_for_a_moved_head_is_judged_again_and_appended() {
    let (mut n1, mut n2) = two_nodes(&[]);
    let (mut seven, mut nine) = (Client::new(17), Client::new(9));
    let (_, entry) = submit(&mut n2, &mut nine, &[create_task(2, "todo")]);
    n2.persist_all();
    let log = vec![entry];
    let (batch, _) = submit(&mut n1, &mut seven, &[create_task(1, "todo")]);
    let dropped = n1.room.handle_log_moved(n1.now, &log).unwrap();
    n1.unpersisted.retain(|t| !dropped.contains(t));
    let actions = n1.drain();
    assert_eq!(persists(&actions), 1, "appended again, at the new head");
    assert!(
        to(&actions, PeerId(1))
            .iter()
            .all(|m| !matches!(m, Message::Ack { .. }))
    );
    let acked = n1.persist_all();
    assert!(
        to(&acked, PeerId(1))
            .iter()
            .any(|m| matches!(m, Message::Ack { batch: b, .. } if *b == batch))
    );
    for id in [1, 2] {
        assert!(n1.room.doc().card(card(id)).is_some(), "card {id}");
    }
    // The viewer ends with both: node 2's from the catch-up, node 1's from the broadcast.
    let mut viewer = CardDoc::new(schema(), 8).unwrap();
    for update in updates_to(&actions, PeerId(2))
        .into_iter()
        .chain(updates_to(&acked, PeerId(2)))
    {
        viewer.apply_update_v1(&update).unwrap();
    }
    assert_eq!(viewer.export(), n1.room.doc().export());
}

/// Found by the two-node simulation (`tests/cluster_sim.rs`): a client resends a batch on a
/// new connection while its first append is in flight, so the room takes the resend for a
/// duplicate and keeps it to re-ack once that append is durable. The append is then refused
/// (the head moved) and the first connection is gone, so the rebuilt room no longer holds the
/// batch. The re-ack must not be sent as if it did: the batch is judged again for the peer
/// that resent it, appended, and acked only once durable.
#[test]
fn a_resend_waiting_on_a_refused_append_is_judged_again_not_acked() {
    let (mut n1, mut n2) = two_nodes(&[]);
    let (mut seven, mut nine) = (Client::new(17), Client::new(9));
    let (_, entry) = submit(&mut n2, &mut nine, &[create_task(2, "todo")]);
    n2.persist_all();
    let log = vec![entry];
    // Client 17's batch is applied on node 1; its append is in flight.
    let (msg, batch, _) = seven.batch(&[create_task(1, "todo")]);
    let actions = n1.send(PeerId(1), &msg);
    assert_eq!(persists(&actions), 1);
    // The client reconnects and resends it: a duplicate of what the room holds, in memory.
    n1.room.handle_disconnect(n1.now, PeerId(1));
    n1.join(3, "edit", 17);
    let actions = n1.send(PeerId(3), &msg);
    assert!(to(&actions, PeerId(3)).is_empty(), "{actions:?}");
    // The append is refused: node 2 appended first.
    let dropped = n1.room.handle_log_moved(n1.now, &log).unwrap();
    n1.unpersisted.retain(|t| !dropped.contains(t));
    let actions = n1.drain();
    let acked = |actions: &[RoomAction]| {
        to(actions, PeerId(3))
            .iter()
            .any(|m| matches!(m, Message::Ack { batch: b, .. } if *b == batch))
    };
    assert!(
        !acked(&actions),
        "acked before anything durable holds it: {:?}",
        to(&actions, PeerId(3))
    );
    assert_eq!(persists(&actions), 1, "judged again and appended");
    assert!(acked(&n1.persist_all()));
    assert!(n1.room.doc().card(card(1)).is_some());
}

/// Found by the two-node simulation (`tests/cluster_sim.rs`): two peers of node 1 write the
/// same register concurrently, and both appends are refused because the head moved. The room
/// must judge again what each peer *sent*, not the effect it persisted: the second batch's
/// effect was computed on a replica where the first batch's write overwrote it, so it holds
/// its write as already deleted. Judged again without the first batch (refused this time), that
/// effect would delete the register's value outright and be acked, while the client's own doc
/// shows its write: silent loss. Judged on what was sent, it is refused like the first one.
#[test]
fn batches_refused_for_a_moved_head_are_judged_again_on_what_their_peers_sent() {
    let mut seed = Client::new(3);
    let (_, _, created) = seed.batch(&[create_task(1, "todo")]);
    let mut log = vec![created.update.clone()];
    let (mut n1, mut n2) = two_nodes(&log);
    n1.join(3, "edit", 15);
    let (mut seventeen, mut fifteen, mut nine) = (Client::new(17), Client::new(15), Client::new(9));
    for client in [&mut seventeen, &mut fifteen, &mut nine] {
        client.doc.apply_update_v1(&log[0]).unwrap();
    }
    // Node 2 moves the card on to done and appends first.
    for to_status in ["doing", "done"] {
        let (_, entry) = submit(&mut n2, &mut nine, &[set(1, "status", to_status)]);
        log.push(entry);
    }
    n2.persist_all();
    // Node 1's two editors each move todo → doing, valid against the old head. Client 15's
    // write lands under client 17's (the lower id loses the register's merge).
    let (first, _) = submit(&mut n1, &mut seventeen, &[set(1, "status", "doing")]);
    let (msg, second, _) = fifteen.batch(&[set(1, "status", "doing")]);
    assert_eq!(persists(&n1.send(PeerId(3), &msg)), 1);
    let dropped = n1.room.handle_log_moved(n1.now, &log).unwrap();
    assert_eq!(dropped.len(), 2);
    n1.unpersisted.clear();
    let actions = n1.drain();
    // Either write wins over node 2's done (both ids are higher): done → doing, refused.
    assert_eq!(
        rejects(&actions, PeerId(1)),
        [(first, RejectCode::InvalidTransition)]
    );
    assert_eq!(
        rejects(&actions, PeerId(3)),
        [(second, RejectCode::InvalidTransition)]
    );
    assert_eq!(persists(&actions), 0);
    assert_eq!(
        status(n1.room.doc(), 1),
        Some(FieldValue::Register(Value::from("done")))
    );
}

/// A rejection reached while a persist is in flight was reached on a state that holds that
/// persist, which a moved head can still take back (`room/settle.rs`). So it waits: it is sent
/// when the persist completes, and meanwhile a later batch of its client id is refused as
/// depending on it, as a mark would refuse it. If the log moves instead, it is judged again on
/// the rebuilt state and sent once.
#[test]
fn a_rejection_waits_for_the_persists_before_it_and_is_judged_again_if_the_log_moved() {
    let mut seed = Client::new(3);
    let (_, _, created) = seed.batch(&[create_task(1, "todo")]);
    let log = vec![created.update.clone()];
    let (mut n1, _) = two_nodes(&log);
    let (mut seventeen, mut viewer) = (Client::new(17), Client::new(8));
    for client in [&mut seventeen, &mut viewer] {
        client.doc.apply_update_v1(&log[0]).unwrap();
    }
    // Client 17's move is in flight; the viewer's write is refused.
    let _ = submit(&mut n1, &mut seventeen, &[set(1, "status", "doing")]);
    let (refused, bad, _) = viewer.batch(&[set(1, "title", "mine")]);
    let actions = n1.send(PeerId(2), &refused);
    assert_eq!(
        rejects(&actions, PeerId(2)),
        [],
        "sent before the persist completed"
    );
    // A later batch of the viewer follows the held one: refused too, and it waits as well.
    let (later, after, _) = viewer.batch(&[set(1, "title", "later")]);
    assert_eq!(rejects(&n1.send(PeerId(2), &later), PeerId(2)), []);
    // The log moved (another node appended a title): everything is judged again, in order.
    let mut nine = Client::new(9);
    nine.doc.apply_update_v1(&log[0]).unwrap();
    let (_, _, moved) = nine.batch(&[set(1, "title", "from node 2")]);
    let log = vec![log[0].clone(), moved.update.clone()];
    let dropped = n1.room.handle_log_moved(n1.now, &log).unwrap();
    n1.unpersisted.retain(|t| !dropped.contains(t));
    let mut actions = n1.drain();
    // Client 17's move is appended again; the rejections still wait for it.
    assert_eq!(persists(&actions), 1);
    assert_eq!(rejects(&actions, PeerId(2)), []);
    actions.extend(n1.persist_all());
    assert_eq!(
        rejects(&actions, PeerId(2)),
        [
            (bad, RejectCode::Forbidden),
            (after, RejectCode::DependsOnRejected)
        ]
    );
    // With nothing in flight, a rejection is sent at once (by the mark, now recorded).
    let (again, next, _) = viewer.batch(&[set(1, "title", "again")]);
    let rejected = rejects(&n1.send(PeerId(2), &again), PeerId(2));
    assert_eq!(rejected, [(next, RejectCode::DependsOnRejected)]);
}
