//! A batch: one local transaction (or a coalesced run of them) waiting for the server.
//!
//! It carries both the *intent* (the ops) and the *effect* (the encoded update). The update is
//! what the server validates and stores; the ops are what survives a rollback: after a
//! rejection the local doc is rebuilt and the ops of the surviving batches are replayed as new
//! transactions under a fresh client id (DESIGN.md §5).

use std::ops::Range;

use cardsync_core::{Op, Stamp};
use serde::{Deserialize, Serialize};

use crate::protocol::BatchId;

/// One outbox entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Client id and sequence number.
    pub id: BatchId,
    /// Who made it and when (the stamp of its first transaction).
    pub stamp: Stamp,
    /// The ops, in order, for replay after a rollback.
    pub ops: Vec<Op>,
    /// The v1 update the ops produced.
    pub update: Vec<u8>,
    /// Clocks of `id.client` the update covers.
    pub clock: Range<u32>,
    /// When it was made, in the driver's milliseconds (for "oldest pending age").
    pub created_at: u64,
}

impl Batch {
    /// Whether `next` continues this batch: same client id, adjacent clocks.
    pub fn is_followed_by(&self, next: &Batch) -> bool {
        self.id.client == next.id.client && self.clock.end == next.clock.start
    }

    /// Bytes this batch holds (update plus a rough size of the ops), for the outbox bound.
    pub fn weight(&self) -> usize {
        self.update.len() + 64 * self.ops.len()
    }
}
