//! Refusals that are no verdict, client ids across restarts, and rollbacks reported only
//! once durable: regressions the network simulation (`tests/sync_sim.rs`) found.

use super::*;

fn reject(h: &mut Harness, batch: BatchId, code: RejectCode) {
    let reason = "test".to_owned();
    let message = Message::Reject {
        batch,
        code,
        reason,
    };
    h.client.handle_frame(NOW, &message.encode()).unwrap();
    h.drive();
}

fn rejected(events: &[SyncEvent]) -> Vec<(RejectCode, Vec<Op>)> {
    events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Rejected {
                rejection,
                vanished,
            } => Some((rejection.code, vanished.clone())),
            _ => None,
        })
        .collect()
}

/// `RateLimited` says "not now": the batch stays (it used to be rolled back, losing a valid
/// edit), nothing is sent until a backoff has passed, then the refused batches go out again
/// in order, ahead of newer ones. A `DependsOnRejected` for a batch behind a deferred one is
/// the server missing that predecessor, so it is deferred too, not rolled back.
#[test]
fn a_rate_limited_batch_stays_and_is_resent_in_order_after_the_backoff() {
    let mut h = Harness::new(11);
    h.connect();
    let ids: Vec<BatchId> = (1..=3)
        .map(|c| h.client.apply(NOW, &stamp(), &[create(c, "x")]).unwrap())
        .map(Option::unwrap)
        .collect();
    h.drive();
    let (first, update) = h.submitted.remove(0);
    h.server.apply_update_v1(&update).unwrap();
    let ack = Message::Ack {
        batch: first,
        clock: 0,
    };
    h.client.handle_frame(NOW, &ack.encode()).unwrap();
    h.submitted.clear();
    h.events();
    reject(&mut h, ids[1], RejectCode::RateLimited);
    reject(&mut h, ids[2], RejectCode::DependsOnRejected);

    assert!(rejected(&h.events()).is_empty(), "nothing rolled back");
    assert!((1..=3).all(|c| h.client.local().card(CardId::from_u128(c)).is_some()));
    let status = h.client.status(NOW);
    assert_eq!(status.pending, 2);
    let at = h.client.poll_timeout().expect("a retry is due");
    assert_eq!(status.next_retry, Some(at));
    assert!((NOW.0 + 250..=NOW.0 + 500).contains(&at.0), "{at}");

    // A newer edit waits behind them.
    let newer = h.client.apply(NOW, &stamp(), &[create(4, "x")]).unwrap();
    h.drive();
    assert!(h.submitted.is_empty());
    h.client.handle_timeout(Instant(at.0 - 1));
    h.drive();
    assert!(h.submitted.is_empty(), "not before the backoff");
    h.client.handle_timeout(at);
    h.drive();
    let sent: Vec<BatchId> = h.submitted.iter().map(|(id, _)| *id).collect();
    assert_eq!(sent, [ids[1], ids[2], newer.unwrap()]);
    assert_eq!(h.client.poll_timeout(), None);

    // Refused again: the wait doubles.
    reject(&mut h, ids[1], RejectCode::RateLimited);
    let again = h.client.poll_timeout().unwrap();
    assert!((NOW.0 + 500..=NOW.0 + 1_000).contains(&again.0), "{again}");
    h.client.handle_timeout(again);
    h.drive();
    assert_eq!(h.submitted.last().unwrap().0, ids[1]);
    h.submitted.pop();
    h.ack_all();
    assert_eq!(h.client.status(NOW).pending, 0);
    assert_eq!(h.server.export(), h.client.local().export());
}

/// Offline compaction coalesces transactions into one batch, which the server judges as a
/// whole. Its refusal is then no verdict on any one transaction: the session replays each as
/// a batch of its own, and only the refused one rolls back (it used to take the valid card
/// creation with it).
#[test]
fn a_refused_coalesced_batch_is_split_and_each_transaction_judged_alone() {
    let config = SessionConfig {
        token: "t".into(),
        compact_after: 2,
        ..SessionConfig::default()
    };
    let mut h = Harness {
        client: session_with(config, 12, Persisted::default()),
        ..Harness::new(12)
    };
    h.connect();
    h.client.apply(NOW, &stamp(), &[create(1, "x")]).unwrap();
    h.drive();
    h.ack_all();
    h.client.handle_disconnected(NOW).unwrap();
    let bad = Op::SetField {
        card: CardId::from_u128(1),
        field: "title".into(),
        value: "not yours".into(),
    };
    h.client.apply(NOW, &stamp(), &[create(2, "new")]).unwrap();
    h.client
        .apply(NOW, &stamp(), std::slice::from_ref(&bad))
        .unwrap();
    h.drive();
    let pending: Vec<&Batch> = h.client.pending().collect();
    assert_eq!(pending.len(), 1, "coalesced offline");
    assert_eq!(pending[0].parts.len(), 2);
    h.connect();
    let (fused, _) = h.submitted.remove(0);
    h.events();

    reject(&mut h, fused, RejectCode::Forbidden);
    assert!(rejected(&h.events()).is_empty(), "no verdict on either yet");
    assert_eq!(
        title(h.client.local(), 1),
        Some(FieldValue::Register("not yours".into()))
    );
    let resent: Vec<(BatchId, Vec<u8>)> = std::mem::take(&mut h.submitted);
    assert_eq!(resent.len(), 2, "one batch per transaction");
    assert!(resent.iter().all(|(id, _)| id.client != fused.client));
    let kept: Vec<Vec<Op>> = h.client.pending().map(|b| b.ops.clone()).collect();
    assert_eq!(kept, [vec![create(2, "new")], vec![bad.clone()]]);

    h.submitted = vec![resent[0].clone()];
    h.ack_all();
    reject(&mut h, resent[1].0, RejectCode::Forbidden);
    assert_eq!(rejected(&h.events()), [(RejectCode::Forbidden, vec![bad])]);
    assert!(h.client.local().card(CardId::from_u128(2)).is_some());
    assert_eq!(
        title(h.client.local(), 1),
        Some(FieldValue::Register("x".into()))
    );
    assert_eq!(h.client.status(NOW).pending, 0);
    assert_eq!(h.server.export(), h.client.local().export());
}

/// A driver that seeds its RNG the same way on every start (the natural use of
/// `SplitMix64::new(seed)`) must not get the client id of the restored batches back: new
/// batches would be numbered from 0 again, two outbox entries would share one `BatchId`, and
/// one ack would settle both.
#[test]
fn a_restart_with_the_same_seed_never_reuses_a_client_id() {
    let mut h = Harness::new(13);
    h.connect();
    h.client
        .apply(NOW, &stamp(), &[create(1, "acked")])
        .unwrap();
    h.drive();
    h.ack_all();
    let acked_id = h.client.local().client_id();
    h.client.handle_disconnected(NOW).unwrap();
    h.client.apply(NOW, &stamp(), &[create(2, "a")]).unwrap();
    h.drive();

    let mut used = vec![acked_id];
    for card in 3..6 {
        // Restart from the store with the very same seed, write, persist.
        h.client = session(13, h.store.load().unwrap());
        let id = h.client.local().client_id();
        assert!(!used.contains(&id), "{id} drawn again");
        used.push(id);
        h.client.apply(NOW, &stamp(), &[create(card, "b")]).unwrap();
        h.drive();
    }
    let ids: Vec<BatchId> = h.client.pending().map(|b| b.id).collect();
    assert_eq!(ids.len(), 4);
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 4, "{ids:?}");
    h.connect();
    h.ack_all();
    assert_eq!(h.client.status(NOW).pending, 0);
    assert_eq!(h.server.export(), h.client.local().export());

    // With nothing pending, the confirmed doc still remembers every id that wrote.
    let restarted = session(13, h.store.load().unwrap());
    assert!(!used.contains(&restarted.local().client_id()));
}

/// A client id whose every batch was rejected leaves nothing in the confirmed doc or the
/// outbox, yet the server refuses anything later from it (`depends_on_rejected`): an RNG
/// seeded as before must not hand it back after a restart, or the first edit would vanish.
#[test]
fn a_restart_with_the_same_seed_never_redraws_a_retired_client_id() {
    let mut h = Harness::new(21);
    h.connect();
    let first = h.client.local().client_id();
    h.client.apply(NOW, &stamp(), &[create(1, "bad")]).unwrap();
    h.drive();
    let (batch, _) = h.submitted.remove(0);
    reject(&mut h, batch, RejectCode::Forbidden);
    assert_eq!(h.client.status(NOW).pending, 0);
    assert_ne!(h.client.local().client_id(), first);
    assert_eq!(h.store.state().retired, [first]);

    let restarted = session(21, h.store.load().unwrap());
    assert_ne!(
        restarted.local().client_id(),
        first,
        "a retired id was drawn again"
    );
    // Without the record, the same seed does draw it again: the test can fail.
    let mut forgetful = h.store.load().unwrap();
    forgetful.retired.clear();
    assert_eq!(session(21, forgetful).local().client_id(), first);
    // The restarted session keeps the record for its own rollbacks and adoptions.
    assert_eq!(restarted.retired, [first]);
}

/// A rollback is reported once durable, and its report survives a crash exactly when the
/// rollback does: reported at once, a crash before the rollback is stored would restore the
/// batches, and a replay that failed could succeed the second time (an op reported gone, then
/// acked); and a crash after it is stored but before the driver confirmed it must not lose the
/// report. The rollback's persist op carries a tombstone that a restart reports.
#[test]
fn a_rollback_is_reported_once_durable_and_survives_a_crash_with_it() {
    let mut h = Harness::new(14);
    h.connect();
    let bad = h
        .client
        .apply(NOW, &stamp(), &[create(1, "bad")])
        .unwrap()
        .unwrap();
    h.drive();
    h.events();
    let reject = Message::Reject {
        batch: bad,
        code: RejectCode::Forbidden,
        reason: "no".into(),
    };
    h.client.handle_frame(NOW, &reject.encode()).unwrap();
    assert!(h.client.local().card(CardId::from_u128(1)).is_none());
    assert!(rejected(&h.events()).is_empty(), "not durable yet");
    let actions: Vec<SessionAction> = std::iter::from_fn(|| h.client.poll_action()).collect();
    // The retirement of the old client id first, then the rewritten outbox.
    let [
        SessionAction::Persist {
            op: retire @ PersistOp::RetireClients(_),
            ..
        },
        SessionAction::Persist { seq, op },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    let PersistOp::ReplaceAll(stored) = op else {
        panic!("{op:?}")
    };
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].rejected.as_ref().map(|r| r.code),
        Some(RejectCode::Forbidden)
    );

    // Crash before the op is stored: nothing was reported, the batch comes back to be resent.
    let before = session(14, h.store.load().unwrap());
    assert_eq!(before.pending().count(), 1);

    // Crash after it is stored, before it is confirmed: the restart reports it, once.
    let mut store = h.store.clone();
    store.persist(retire).unwrap();
    store.persist(op).unwrap();
    let mut after = session(14, store.load().unwrap());
    assert_eq!(after.pending().count(), 0, "a tombstone is no batch");
    let events: Vec<SyncEvent> = std::iter::from_fn(|| after.poll_event()).collect();
    assert_eq!(
        rejected(&events),
        [(RejectCode::Forbidden, vec![create(1, "bad")])]
    );
    let Some(SessionAction::Persist {
        op: PersistOp::RemoveBatches(ids),
        ..
    }) = after.poll_action()
    else {
        panic!("the tombstone is removed")
    };
    assert_eq!(ids, [bad]);

    // Without a crash: reported when the driver confirms.
    h.client.handle_persisted(NOW, *seq);
    assert_eq!(rejected(&h.events()).len(), 1);
    assert_eq!(h.client.status(NOW).last_rejection.unwrap().batch, bad);
}
