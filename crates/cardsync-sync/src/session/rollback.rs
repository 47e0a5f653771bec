//! Rollback by rebase (DESIGN.md §5).
//!
//! yrs cannot un-apply an update, and later batches of the same client id build on the
//! rejected clock range, so the server would hold them pending forever. Instead:
//! 1. rebuild the local doc from the confirmed doc, under a fresh client id;
//! 2. re-apply, as updates, the pending batches that do not build on the rejected one: those
//!    before it, and those of other client ids (if one of those did reference the rejected
//!    change, the server rejects it too, and it rolls back in turn);
//! 3. replay, as intent, the ops of the batches after it from its client id (the server
//!    rejects the originals with `depends_on_rejected`), as new transactions and new batches;
//!    ops that no longer apply vanish;
//! 4. report the net difference as `Rollback` events, and persist the new outbox.
//!
//! The rebuilt doc has a fresh undo history, so undo never resurrects a rejected change.

use cardsync_core::{Op, Origin};

use super::changes::diff_exports;
use super::{ClientSession, SessionError};
use crate::outbox::Batch;
use crate::protocol::BatchId;

impl ClientSession {
    /// Rolls back `rejected`; returns the ops that vanished.
    pub(super) fn rollback(&mut self, rejected: BatchId) -> Result<Vec<Op>, SessionError> {
        let before = self.local.export();
        let batches = self.outbox.take_all();
        let position = batches
            .iter()
            .position(|b| b.id == rejected)
            .unwrap_or(batches.len());
        let mut local = self.rebuild_local()?;
        let mut kept: Vec<Batch> = Vec::new();
        let mut vanished: Vec<Op> = Vec::new();
        let mut replay: Vec<Batch> = Vec::new();
        for (i, batch) in batches.into_iter().enumerate() {
            if i == position {
                vanished.extend(batch.ops);
            } else if i > position && batch.id.client == rejected.client {
                replay.push(batch);
            } else {
                local.apply_update_v1_with_origin(&batch.update, Origin::Rollback)?;
                kept.push(batch);
            }
        }
        self.local = local;
        self.next_seq = 0;
        for batch in replay {
            // Undo batches carry no ops; their effect cannot be replayed and is gone.
            match self
                .local
                .apply_with_origin(&batch.stamp, &batch.ops, Origin::Rollback)
            {
                Ok(applied) if !applied.update.is_empty() => {
                    let id = self.batch_id();
                    kept.push(Batch {
                        id,
                        update: applied.update,
                        clock: applied.clock,
                        ..batch
                    });
                }
                Ok(_) => {}
                Err(_) => vanished.extend(batch.ops),
            }
        }
        super::lock(&self.changes).clear();
        let op = self.outbox.replace_all(kept);
        self.persist_issued(op);
        let events = diff_exports(&before, &self.local.export());
        if !events.is_empty() {
            let batch = cardsync_core::ChangeBatch {
                origin: Origin::Rollback,
                events,
            };
            self.events.push_back(super::SessionEvent::Changes(batch));
        }
        self.send_ready();
        Ok(vanished)
    }
}
