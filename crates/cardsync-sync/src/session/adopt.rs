//! Taking over a store another replica of the same document wrote.
//!
//! In a browser, one tab owns a document's durable store (a Web Lock) and the others keep
//! their outbox in memory. When the owner closes, the next tab takes the lock and adopts
//! what the owner left: its confirmed updates join the confirmed doc, its pending batches
//! (edits made offline and never acked) join the outbox ahead of this session's own, and the
//! store is rewritten to hold both. Nothing either tab made is lost, and the owner's batches
//! go out under their own client id, as they would have from the owner after a restart.

use std::collections::HashSet;

use super::{ClientSession, SessionError};
use crate::outbox::{Batch, PersistOp, Persisted};
use crate::protocol::BatchId;
use crate::time::Instant;

impl ClientSession {
    /// Adopts `persisted` (another replica's store, now this session's): see the module docs.
    /// Then every persist op this session issued since opening is superseded by the three this
    /// issues (the outbox, the confirmed snapshot, the retired client ids of both), so the
    /// driver may carry them out on the adopted store alone.
    pub fn adopt(&mut self, now: Instant, persisted: Persisted) -> Result<(), SessionError> {
        for update in &persisted.confirmed {
            self.confirmed.apply_update_v1(update)?;
            self.local.apply_update_v1(update)?;
        }
        let (tombstones, theirs): (Vec<Batch>, Vec<Batch>) = persisted
            .outbox
            .into_iter()
            .partition(|b| b.rejected.is_some());
        // Ours stay in the outbox until theirs applied: an error leaves it as it was.
        let held: HashSet<BatchId> = self.outbox.batches().map(|b| b.id).collect();
        let mut all: Vec<Batch> = theirs
            .into_iter()
            .filter(|b| !held.contains(&b.id))
            .collect();
        for batch in &all {
            self.local.apply_update_v1(&batch.update)?;
        }
        all.extend(self.outbox.take_all());
        let op = self.outbox.replace_all(all);
        self.persist_issued(op);
        self.persist(PersistOp::CompactConfirmed(self.confirmed.snapshot_v1()));
        self.confirmed_appends = 1;
        for id in persisted.retired {
            if !self.retired.contains(&id) {
                self.retired.push(id);
            }
        }
        if !self.retired.is_empty() {
            self.persist(PersistOp::RetireClients(self.retired.clone()));
        }
        self.announce(tombstones);
        self.send_ready(now);
        Ok(())
    }
}
