//! The outbox: local batches from the moment they are made until the server acks or rejects
//! them.
//!
//! Entries move through three facts: *durable* (the driver confirmed the store has it),
//! *sent* (handed to the connection), and gone (acked or rejected). Only durable entries are
//! sent, so nothing the server acks can be lost by a crash. On reconnect every unacked entry is
//! sent again; acks are idempotent ("the server holds client C up to clock N"), so a lost or
//! duplicated ack is harmless.
//!
//! While offline, runs of small batches are *compacted* into few larger ones. A run is one
//! client id's consecutive batches, so their updates join by copying their blocks' bytes
//! ([`cardsync_core::concat_updates_v1`], linear), never with `yrs::merge_updates_v1`, which
//! is super-linear (docs/design.md §4). Only batches this
//! outbox made and never handed to a connection are coalesced: the server may hold (or have
//! refused) one that was sent, and a coalesced batch is judged, and rolled back, as a whole.
//! Batches restored from a store count as sent (whether they were is not recorded), and so do
//! the batches a rollback re-encodes (a split must not be coalesced again) and undo batches
//! (they have no ops, so a split could not replay them). A coalesced batch keeps its
//! transactions apart in [`Batch::parts`], so a refusal can still be split into one verdict
//! per transaction (see [`Batch`]).
//!
//! The outbox is bounded; past the bound, new local writes are refused with
//! [`OutboxError::Full`] rather than silently dropped.

mod batch;
mod store;

use std::collections::VecDeque;

pub use batch::{Batch, Part, Rejection};
use serde::{Deserialize, Serialize};
pub use store::{MemoryStore, OutboxStore, PersistOp, Persisted, apply};
use thiserror::Error;

use crate::protocol::BatchId;

/// Bounds of the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxLimits {
    /// Most batches held before local writes are refused.
    pub max_batches: usize,
    /// Most bytes held before local writes are refused.
    pub max_bytes: usize,
    /// Largest batch compaction builds.
    pub compact_max_bytes: usize,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        Self {
            max_batches: 100_000,
            max_bytes: 64 << 20,
            compact_max_bytes: 256 << 10,
        }
    }
}

/// The outbox refused a write.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum OutboxError {
    /// The bound is reached; sync (or discard) before writing more.
    #[error("outbox full: {batches} batches, {bytes} bytes")]
    Full {
        /// Batches held.
        batches: usize,
        /// Bytes held.
        bytes: usize,
    },
    /// Compaction met an update that does not decode (a corrupted store).
    #[error("outbox holds an undecodable update: {0}")]
    Corrupt(String),
}

impl OutboxError {
    /// The stable code JavaScript sees.
    pub fn code(&self) -> &'static str {
        match self {
            OutboxError::Full { .. } => "outbox_full",
            OutboxError::Corrupt(_) => "store_corrupt",
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    batch: Batch,
    /// Sequence number of the persist op that last wrote this entry.
    written_by: u64,
    sent: bool,
    /// Made here and never sent: compaction may coalesce it.
    fusable: bool,
    /// The server refused it as rate-limited since it was last written: it waits for a resend.
    deferred: bool,
}

/// The queue of unacknowledged batches.
#[derive(Debug)]
pub struct Outbox {
    entries: VecDeque<Entry>,
    limits: OutboxLimits,
    bytes: usize,
    /// Persist ops issued so far, and how many the driver confirmed.
    issued: u64,
    durable: u64,
}

impl Outbox {
    /// An outbox holding `batches` restored from a store (all durable, none sent).
    pub fn new(limits: OutboxLimits, batches: Vec<Batch>) -> Self {
        let bytes = batches.iter().map(Batch::weight).sum();
        let entries = batches
            .into_iter()
            .map(|batch| Entry {
                batch,
                written_by: 0,
                sent: false,
                fusable: false,
                deferred: false,
            })
            .collect();
        Self {
            entries,
            limits,
            bytes,
            issued: 0,
            durable: 0,
        }
    }

    /// Number of batches.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is nothing pending.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// When the oldest pending batch was made.
    pub fn oldest_created_at(&self) -> Option<u64> {
        self.entries.iter().map(|e| e.batch.created_at).min()
    }

    /// The batches, oldest first.
    pub fn batches(&self) -> impl Iterator<Item = &Batch> {
        self.entries.iter().map(|e| &e.batch)
    }

    /// Refuses when the outbox is at its bound.
    pub fn check_room(&self) -> Result<(), OutboxError> {
        if self.entries.len() >= self.limits.max_batches || self.bytes >= self.limits.max_bytes {
            return Err(OutboxError::Full {
                batches: self.entries.len(),
                bytes: self.bytes,
            });
        }
        Ok(())
    }

    fn issue(&mut self) -> u64 {
        self.issued += 1;
        self.issued
    }

    /// Numbers a persist op that does not write batches (confirmed state, removals), so the
    /// driver confirms every op through one sequence.
    pub fn issue_other(&mut self) -> u64 {
        self.issue()
    }

    /// Adds a batch; the returned op must be persisted before the batch can be sent.
    pub fn push(&mut self, batch: Batch) -> PersistOp {
        let written_by = self.issue();
        self.bytes += batch.weight();
        self.entries.push_back(Entry {
            fusable: !batch.ops.is_empty(),
            batch: batch.clone(),
            written_by,
            sent: false,
            deferred: false,
        });
        PersistOp::PutBatch(batch)
    }

    /// The driver made every persist op up to `issued` durable.
    pub fn handle_persisted(&mut self, issued: u64) {
        self.durable = self.durable.max(issued.min(self.issued));
    }

    /// The sequence number of the last persist op issued (what `handle_persisted` confirms).
    pub fn last_issued(&self) -> u64 {
        self.issued
    }

    /// Durable batches not yet sent on this connection, marked sent.
    pub fn take_sendable(&mut self) -> Vec<Batch> {
        let durable = self.durable;
        self.entries
            .iter_mut()
            .filter(|e| !e.sent && e.written_by <= durable)
            .map(|e| {
                e.sent = true;
                e.fusable = false;
                e.batch.clone()
            })
            .collect()
    }

    /// The connection dropped: everything unacked goes out again on the next one.
    pub fn mark_unsent(&mut self) {
        for e in &mut self.entries {
            e.sent = false;
        }
    }

    /// The server asked for `batch` again later (rate-limited): it goes out with the next send.
    pub fn defer(&mut self, batch: BatchId) {
        for e in self.entries.iter_mut().filter(|e| e.batch.id == batch) {
            e.sent = false;
            e.deferred = true;
        }
    }

    /// Whether a batch before `batch` was deferred and is not settled yet: then the server
    /// judged `batch` without it, so a refusal for what `batch` builds on is no verdict.
    pub fn deferred_before(&self, batch: BatchId) -> bool {
        self.entries
            .iter()
            .take_while(|e| e.batch.id != batch)
            .any(|e| e.deferred)
    }

    fn remove_where(&mut self, mut gone: impl FnMut(&Batch) -> bool) -> Vec<Batch> {
        let mut removed = Vec::new();
        self.entries.retain(|e| {
            let drop = gone(&e.batch);
            if drop {
                removed.push(e.batch.clone());
            }
            !drop
        });
        self.bytes -= removed.iter().map(Batch::weight).sum::<usize>();
        removed
    }

    /// The server acked `batch` and holds its client id up to `clock`: removes it, and the
    /// earlier batches of that client id the clock covers (their own acks may have been lost),
    /// oldest first. Acking twice is harmless. (Acks go by batch, not only by clock: a batch
    /// that only deletes uses no clocks.) An earlier batch the clock does not cover stays,
    /// whatever its `seq`: the server judges batches as they arrive, and one it rate-limited
    /// may be overtaken by a later one that deletes only.
    pub fn ack(&mut self, batch: BatchId, clock: u32) -> Vec<Batch> {
        self.remove_where(|b| {
            b.id == batch
                || (b.id.client == batch.client
                    && b.id.seq < batch.seq
                    && !b.clock.is_empty()
                    && b.clock.end <= clock)
        })
    }

    /// The confirmed state holds `client` up to `clock` (e.g. after a sync step 2 brought back
    /// batches whose ack was lost): removes the batches that inserted and are fully covered.
    pub fn ack_held(&mut self, client: u64, clock: u32) -> Vec<Batch> {
        self.remove_where(|b| b.id.client == client && !b.clock.is_empty() && b.clock.end <= clock)
    }

    /// Removes one batch (rejected), if present.
    pub fn remove(&mut self, id: BatchId) -> Option<Batch> {
        self.remove_where(|b| b.id == id).pop()
    }

    /// Takes every batch out (a rollback replays and re-adds the survivors).
    pub fn take_all(&mut self) -> Vec<Batch> {
        self.bytes = 0;
        self.entries.drain(..).map(|e| e.batch).collect()
    }

    /// Replaces the content (after a rollback); returns the op to persist.
    pub fn replace_all(&mut self, batches: Vec<Batch>) -> PersistOp {
        let written_by = self.issue();
        self.bytes = batches.iter().map(Batch::weight).sum();
        self.entries = batches
            .iter()
            .cloned()
            .map(|batch| Entry {
                batch,
                written_by,
                sent: false,
                fusable: false,
                deferred: false,
            })
            .collect();
        PersistOp::ReplaceAll(batches)
    }

    /// Merges runs of adjacent batches of one client id that were made here and never sent
    /// (see the module docs) into batches of at most `compact_max_bytes`. Returns the op to
    /// persist, or `None` when nothing merged.
    pub fn compact(&mut self) -> Result<Option<PersistOp>, OutboxError> {
        // Group greedily: (entries, their total weight).
        let mut groups: Vec<(Vec<Entry>, usize)> = Vec::new();
        for entry in self.entries.drain(..) {
            let weight = entry.batch.weight();
            if let Some((group, total)) = groups.last_mut() {
                let last = &group[group.len() - 1];
                if last.fusable
                    && entry.fusable
                    && last.batch.is_followed_by(&entry.batch)
                    && *total + weight <= self.limits.compact_max_bytes
                {
                    group.push(entry);
                    *total += weight;
                    continue;
                }
            }
            groups.push((vec![entry], weight));
        }
        if groups.iter().all(|(g, _)| g.len() == 1) {
            self.entries = groups.into_iter().flat_map(|(g, _)| g).collect();
            return Ok(None);
        }
        let next_op = self.issued + 1;
        let mut rebuilt = VecDeque::with_capacity(groups.len());
        for (group, _) in &groups {
            if let [single] = group.as_slice() {
                rebuilt.push_back(single.clone());
                continue;
            }
            match merge_group(group) {
                // Only merged entries are new content; the rest is durable as it was.
                Ok(batch) => rebuilt.push_back(Entry {
                    batch,
                    written_by: next_op,
                    sent: false,
                    fusable: true,
                    deferred: false,
                }),
                Err(e) => {
                    self.entries = groups.into_iter().flat_map(|(g, _)| g).collect();
                    return Err(e);
                }
            }
        }
        self.entries = rebuilt;
        self.bytes = self.entries.iter().map(|e| e.batch.weight()).sum();
        self.issue();
        Ok(Some(PersistOp::ReplaceAll(
            self.batches().cloned().collect(),
        )))
    }
}

fn merge_group(group: &[Entry]) -> Result<Batch, OutboxError> {
    let updates: Vec<&[u8]> = group.iter().map(|e| &e.batch.update[..]).collect();
    // A group is one client's consecutive batches, so its updates are a run that joins by
    // copying bytes; the general merge is the fallback should a stored update not be one.
    let update = match cardsync_core::concat_updates_v1(&updates) {
        Ok(Some(update)) => Ok(update),
        Ok(None) => cardsync_core::merge_updates_v1(&updates),
        Err(e) => Err(e),
    }
    .map_err(|e| OutboxError::Corrupt(e.to_string()))?;
    let first = &group[0].batch;
    let last = &group[group.len() - 1].batch;
    let parts = group
        .iter()
        .flat_map(|e| e.batch.transactions())
        .map(|(stamp, ops)| Part {
            stamp: stamp.clone(),
            ops: ops.len(),
        })
        .collect();
    Ok(Batch {
        id: first.id,
        stamp: first.stamp.clone(),
        ops: group
            .iter()
            .flat_map(|e| e.batch.ops.iter().cloned())
            .collect(),
        update: update.into(),
        clock: first.clock.start..last.clock.end,
        created_at: first.created_at,
        parts,
        rejected: None,
    })
}

#[cfg(test)]
mod tests;
