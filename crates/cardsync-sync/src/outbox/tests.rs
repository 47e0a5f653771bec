//! The outbox's promises: only durable batches are sent, acks are idempotent, the bound refuses
//! new writes instead of dropping old ones, and compaction keeps every change.

use std::sync::Arc;

use cardsync_core::{CardDoc, CardId, CardKind, FieldDef, FieldKind, Op, Schema, Stamp};

use super::*;

fn schema() -> Arc<Schema> {
    Arc::new(
        Schema::new(1).card(
            "note",
            CardKind::default()
                .field("title", FieldDef::new(FieldKind::Register))
                .field("votes", FieldDef::new(FieldKind::Counter)),
        ),
    )
}

/// A doc and `n` batches, one per transaction, the way the session makes them.
fn batches(n: usize) -> (CardDoc, Vec<Batch>) {
    let mut doc = CardDoc::with_schema(schema(), 7).unwrap();
    let card = CardId::from_u128(1);
    let stamp = Stamp::new(0, "me");
    let mut out = Vec::new();
    let create = Op::CreateCard {
        card,
        kind: "note".into(),
        fields: Default::default(),
    };
    for seq in 0..n {
        let op = if seq == 0 {
            create.clone()
        } else if seq % 2 == 0 {
            Op::SetField {
                card,
                field: "title".into(),
                value: format!("t{seq}").into(),
            }
        } else {
            Op::Increment {
                card,
                field: "votes".into(),
                by: 1,
            }
        };
        let applied = doc
            .apply_with_origin(
                &stamp,
                std::slice::from_ref(&op),
                cardsync_core::Origin::Local,
            )
            .unwrap();
        out.push(Batch {
            id: BatchId {
                client: 7,
                seq: seq as u64,
            },
            stamp: stamp.clone(),
            ops: vec![op],
            update: applied.update.into(),
            clock: applied.clock,
            created_at: seq as u64,
            parts: Vec::new(),
            rejected: None,
        });
    }
    (doc, out)
}

/// An outbox that made `batches` itself (so compaction may coalesce them), none durable yet.
fn pushed(limits: OutboxLimits, batches: &[Batch]) -> Outbox {
    let mut outbox = Outbox::new(limits, Vec::new());
    for b in batches {
        outbox.push(b.clone());
    }
    outbox
}

#[test]
fn only_durable_batches_are_sent_and_acks_are_idempotent() {
    let (_, made) = batches(3);
    let mut outbox = Outbox::new(OutboxLimits::default(), Vec::new());
    for b in &made {
        outbox.push(b.clone());
    }
    assert!(outbox.take_sendable().is_empty(), "nothing durable yet");
    outbox.handle_persisted(2);
    assert_eq!(outbox.take_sendable().len(), 2);
    outbox.handle_persisted(3);
    assert_eq!(outbox.take_sendable().len(), 1);
    assert!(
        outbox.take_sendable().is_empty(),
        "sent once per connection"
    );
    outbox.mark_unsent();
    assert_eq!(outbox.take_sendable().len(), 3, "resent after reconnect");

    let acked = outbox.ack(made[1].id, made[1].clock.end);
    assert_eq!(
        acked.len(),
        2,
        "the ack's clock covers batch 0: its ack was lost"
    );
    assert!(
        outbox.ack(made[1].id, made[1].clock.end).is_empty(),
        "a duplicate ack is harmless"
    );
    assert!(outbox.ack_held(7, made[1].clock.end).is_empty());
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox.oldest_created_at(), Some(2));
}

#[test]
fn the_bound_refuses_new_writes() {
    let (_, made) = batches(3);
    let limits = OutboxLimits {
        max_batches: 2,
        ..OutboxLimits::default()
    };
    let mut outbox = Outbox::new(limits, made[..2].to_vec());
    assert_eq!(
        outbox.check_room(),
        Err(OutboxError::Full {
            batches: 2,
            bytes: outbox.bytes
        })
    );
    outbox.remove(made[0].id).unwrap();
    assert!(outbox.check_room().is_ok());
}

#[test]
fn compaction_merges_runs_and_keeps_every_change() {
    let (doc, made) = batches(200);
    let mut outbox = pushed(OutboxLimits::default(), &made);
    // The first batches went out on a connection that dropped: they stay as they are (the
    // server may hold them), and the merged run deletes an item one of them made (the title
    // of batch 2), which the merge must keep.
    outbox.handle_persisted(3);
    assert_eq!(outbox.take_sendable().len(), 3);
    outbox.mark_unsent();
    let op = outbox.compact().unwrap().expect("something merged");
    assert_eq!(outbox.len(), 4);
    assert!(matches!(op, PersistOp::ReplaceAll(ref b) if b.len() == 4));
    assert_eq!(outbox.batches().map(|b| b.ops.len()).sum::<usize>(), 200);
    let merged = outbox.batches().last().unwrap();
    assert_eq!(merged.clock, made[3].clock.start..made[199].clock.end);
    // Each transaction stays apart, for a split after a refusal.
    let transactions = merged.transactions();
    assert_eq!(transactions.len(), 197);
    assert!(
        transactions
            .iter()
            .zip(&made[3..])
            .all(|((_, ops), b)| *ops == b.ops)
    );
    // The merged batch is not durable until the ReplaceAll is; the others still are.
    assert_eq!(outbox.take_sendable().len(), 3);
    outbox.handle_persisted(outbox.last_issued());
    assert_eq!(outbox.take_sendable().len(), 1);

    // A replica applying the compacted batches ends up equal to the author.
    let mut replica = CardDoc::with_schema(schema(), 8).unwrap();
    for b in outbox.batches() {
        replica.apply_update_v1(&b.update).unwrap();
    }
    assert_eq!(replica.export(), doc.export());
    assert_eq!(outbox.compact().unwrap(), None, "nothing left to merge");
}

#[test]
fn compaction_respects_its_size_cap() {
    let (_, made) = batches(100);
    let one = made[1].weight();
    let limits = OutboxLimits {
        compact_max_bytes: 10 * one,
        ..OutboxLimits::default()
    };
    let mut outbox = pushed(limits, &made);
    outbox.compact().unwrap();
    assert!(outbox.len() >= 10, "{} batches", outbox.len());
    assert!(outbox.batches().all(|b| b.ops.len() <= 11));
}

#[test]
fn memory_store_replays_persist_ops() {
    let (_, made) = batches(3);
    let mut store = MemoryStore::default();
    for op in [
        PersistOp::PutBatch(made[0].clone()),
        PersistOp::PutBatch(made[1].clone()),
        PersistOp::RemoveBatches(vec![made[0].id]),
        PersistOp::ReplaceLast(made[2].clone()),
        PersistOp::AppendConfirmed(vec![1]),
        PersistOp::CompactConfirmed(vec![2]),
    ] {
        store.persist(&op).unwrap();
    }
    let loaded = store.load().unwrap();
    assert_eq!(loaded.outbox, vec![made[2].clone()]);
    assert_eq!(loaded.confirmed, vec![vec![2]]);
}

/// Coalescing makes one verdict out of several transactions, so it only takes batches that
/// no server can have seen: made here and never sent. Restored batches may have been sent
/// before the restart; undo batches (no ops) could not be split apart again.
#[test]
fn only_batches_made_here_and_never_sent_are_coalesced() {
    let (_, made) = batches(6);
    let mut restored = Outbox::new(OutboxLimits::default(), made.clone());
    assert_eq!(restored.compact().unwrap(), None, "restored: maybe sent");

    let mut outbox = pushed(OutboxLimits::default(), &made[..3]);
    outbox.handle_persisted(2);
    assert_eq!(outbox.take_sendable().len(), 2);
    outbox.mark_unsent(); // The connection dropped: batches 0 and 1 went out once.
    let undo = Batch {
        ops: Vec::new(),
        ..made[3].clone()
    };
    outbox.push(undo);
    for b in &made[4..] {
        outbox.push(b.clone());
    }
    outbox.compact().unwrap().expect("4 and 5 merge");
    let ids: Vec<u64> = outbox.batches().map(|b| b.id.seq).collect();
    assert_eq!(ids, [0, 1, 2, 3, 4], "2 alone, undo 3 alone, 4+5 as one");
    assert_eq!(outbox.batches().last().unwrap().parts.len(), 2);
}

/// An ack settles the acked batch and the earlier ones its clock covers, no more: a batch the
/// server rate-limited may be overtaken by a later one, and must stay to be resent.
#[test]
fn an_ack_settles_earlier_batches_only_as_far_as_its_clock() {
    let (_, made) = batches(3);
    let mut outbox = Outbox::new(OutboxLimits::default(), made.clone());
    outbox.defer(made[1].id);
    assert!(outbox.deferred_before(made[2].id));
    assert!(!outbox.deferred_before(made[1].id));
    // The server holds batch 0 and a later batch 2 (made[2] here deletes only, say), not 1.
    let acked = outbox.ack(made[2].id, made[0].clock.end);
    let acked: Vec<u64> = acked.iter().map(|b| b.id.seq).collect();
    assert_eq!(acked, [0, 2]);
    assert_eq!(outbox.batches().map(|b| b.id.seq).collect::<Vec<_>>(), [1]);
    assert_eq!(outbox.take_sendable().len(), 1, "deferred: sent again");
}
