//! Rollback by rebase (docs/design.md §5).
//!
//! yrs cannot un-apply an update, and later batches of the same client id build on the
//! rejected clock range, so the server would hold them pending forever. Instead:
//! 1. rebuild the local doc from the confirmed doc, under a fresh client id;
//! 2. re-apply, as updates, the pending batches that do not build on the rejected one: those
//!    before it, and those of other client ids (if one of those did reference the rejected
//!    change, the server rejects it too, and it rolls back in turn);
//! 3. replay, as intent, the ops of the batches after it from its client id (the server
//!    rejects the originals with `depends_on_rejected`), one transaction at a time, as new
//!    transactions and new batches; transactions that no longer apply vanish;
//! 4. report the net difference as `Rollback` events, and persist the new outbox, with the
//!    tombstone of the rejection (what vanished) in the same op; the `Rejected` event follows
//!    once that op is durable (`inbound.rs` says why).
//!
//! The rejected batch itself vanishes, unless it *splits*: a batch that compaction coalesced
//! from several transactions was refused as a whole, which is no verdict on any one of them,
//! so its transactions are replayed in step 3 too, each as a batch of its own, for the server
//! to judge one by one (the re-encoded batches are never coalesced again).
//!
//! The rebuilt doc has a fresh undo history, so undo never resurrects a rejected change.

use cardsync_core::{Op, Origin, Stamp};

use super::changes::diff_exports;
use super::{ClientSession, Rejection, SessionError};
use crate::outbox::Batch;
use crate::time::Instant;

/// A transaction to replay as intent: its stamp, ops and creation time.
struct Replay {
    stamp: Stamp,
    ops: Vec<Op>,
    created_at: u64,
}

fn replays(batch: &Batch) -> impl Iterator<Item = Replay> + '_ {
    batch.transactions().into_iter().map(|(stamp, ops)| Replay {
        stamp: stamp.clone(),
        ops: ops.to_vec(),
        created_at: batch.created_at,
    })
}

impl ClientSession {
    /// Rolls back the batch of `rejection` (replaying its transactions if `split`). What
    /// vanished is reported once durable, unless a split lost nothing.
    pub(super) fn rollback(
        &mut self,
        now: Instant,
        rejection: Rejection,
        split: bool,
    ) -> Result<(), SessionError> {
        let rejected = rejection.batch;
        let before = self.local.export();
        let batches = self.outbox.take_all();
        let position = batches
            .iter()
            .position(|b| b.id == rejected)
            .unwrap_or(batches.len());
        let mut local = self.rebuild_local(&batches)?;
        let mut kept: Vec<Batch> = Vec::new();
        let mut vanished: Vec<Op> = Vec::new();
        let mut replay: Vec<Replay> = Vec::new();
        let rejected_stamp = batches.get(position).map(|b| b.stamp.clone());
        for (i, batch) in batches.iter().enumerate() {
            if i == position && !split {
                vanished.extend(batch.ops.iter().cloned());
            } else if i >= position && batch.id.client == rejected.client {
                replay.extend(replays(batch));
            } else {
                local.apply_update_v1_with_origin(&batch.update, Origin::Rollback)?;
                kept.push(batch.clone());
            }
        }
        // Changes of the old local doc the driver has not taken yet are still news.
        let untaken = std::mem::replace(&mut self.local, local).take_changes();
        self.next_seq = 0;
        for Replay {
            stamp,
            ops,
            created_at,
        } in replay
        {
            // Undo batches carry no ops; their effect cannot be replayed and is gone.
            match self.local.apply_with_origin(&stamp, &ops, Origin::Rollback) {
                Ok(applied) if !applied.update.is_empty() => {
                    let id = self.batch_id();
                    kept.push(Batch {
                        id,
                        stamp,
                        ops,
                        update: applied.update.into(),
                        clock: applied.clock,
                        created_at,
                        parts: Vec::new(),
                        rejected: None,
                    });
                }
                Ok(_) => {}
                Err(_) => vanished.extend(ops),
            }
        }
        // The rebuild's own transactions are not news: the net difference below is.
        self.local.take_changes();
        for batch in untaken {
            self.local.push_changes(batch);
        }
        let op = self.outbox.replace_all(kept);
        if let Some(stamp) = rejected_stamp.filter(|_| !(split && vanished.is_empty())) {
            let durable_at = self.outbox.last_issued();
            let tombstone = Batch::tombstone(rejection, stamp, vanished);
            self.unannounced.push_back((durable_at, tombstone));
        }
        self.persist_issued(op);
        let events = diff_exports(&before, &self.local.export());
        if !events.is_empty() {
            let batch = cardsync_core::ChangeBatch {
                origin: Origin::Rollback,
                events,
            };
            self.local.push_changes(batch);
        }
        self.send_ready(now);
        Ok(())
    }
}
