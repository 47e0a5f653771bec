//! A batch: one local transaction (or a coalesced run of them) waiting for the server.
//!
//! It carries both the *intent* (the ops) and the *effect* (the encoded update). The update is
//! what the server validates and stores; the ops are what survives a rollback: after a
//! rejection the local doc is rebuilt and the ops of the surviving batches are replayed as new
//! transactions under a fresh client id (docs/design.md §5).
//!
//! A coalesced batch remembers where each of its transactions starts ([`Batch::parts`]). The
//! server judges the batch as a whole, so a refusal says only that *some* transaction in it is
//! refused; the session then replays each transaction as a batch of its own, so that every
//! transaction gets its own verdict, as if it had never been coalesced.
//!
//! A store may also hold *tombstones* ([`Batch::rejected`]): not batches to send, but the
//! record of a rollback whose report the UI has not had yet, written in the same persist op
//! as the rollback itself, so that the report survives a crash exactly when the rollback does
//! (the session's docs say more).

use std::ops::Range;

use bytes::Bytes;
use cardsync_core::{Op, Stamp};
use serde::{Deserialize, Serialize};

use crate::protocol::{BatchId, RejectCode};
use crate::time::Instant;

/// A rejection, as the session reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// The rejected batch.
    pub batch: BatchId,
    /// Stable code.
    pub code: RejectCode,
    /// Human reason.
    pub reason: String,
    /// When it arrived.
    pub at: Instant,
}

/// One outbox entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Client id and sequence number.
    pub id: BatchId,
    /// Who made it and when (the stamp of its first transaction).
    pub stamp: Stamp,
    /// The ops, in order, for replay after a rollback.
    pub ops: Vec<Op>,
    /// The v1 update the ops produced. Shared: the outbox entry, the persist op that stores
    /// it and the send of it hold one buffer, not a copy each.
    pub update: Bytes,
    /// Clocks of `id.client` the update covers.
    pub clock: Range<u32>,
    /// When it was made, in the driver's milliseconds (for "oldest pending age").
    pub created_at: u64,
    /// The transactions compaction coalesced into this batch, in order, splitting `ops`;
    /// empty for a batch of one transaction (the usual case; absent from older stores).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
    /// Set on a tombstone: a rejection rolled back and not reported yet, with the ops that
    /// vanished as `ops` (no update, no clocks; never sent). Only stores hold tombstones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<Rejection>,
}

/// One transaction of a coalesced batch: what replaying it on its own needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// The transaction's stamp.
    pub stamp: Stamp,
    /// How many of the batch's `ops` it made (they follow the previous part's).
    pub ops: usize,
}

impl Batch {
    /// Everything but the update, as JSON: stores keep the update as raw bytes beside it (a
    /// JSON array of numbers would triple its size).
    pub fn meta_json(&self) -> String {
        let meta = Batch {
            update: Bytes::new(),
            ..self.clone()
        };
        // A batch is plain data (strings, numbers, ops); serialising it cannot fail.
        serde_json::to_string(&meta).unwrap_or_default()
    }

    /// The batch [`Batch::meta_json`] and its update make.
    pub fn from_meta_json(
        meta: &str,
        update: impl Into<Bytes>,
    ) -> Result<Batch, serde_json::Error> {
        let mut batch: Batch = serde_json::from_str(meta)?;
        batch.update = update.into();
        Ok(batch)
    }

    /// Whether `next` continues this batch: same client id, adjacent clocks.
    pub fn is_followed_by(&self, next: &Batch) -> bool {
        self.id.client == next.id.client && self.clock.end == next.clock.start
    }

    /// Bytes this batch holds (update plus a rough size of the ops), for the outbox bound.
    pub fn weight(&self) -> usize {
        self.update.len() + 64 * self.ops.len()
    }

    /// The tombstone of a rejection that vanished `ops` (see [`Batch::rejected`]).
    pub fn tombstone(rejection: Rejection, stamp: Stamp, ops: Vec<Op>) -> Self {
        Self {
            id: rejection.batch,
            stamp,
            ops,
            update: Bytes::new(),
            clock: 0..0,
            created_at: rejection.at.as_millis(),
            parts: Vec::new(),
            rejected: Some(rejection),
        }
    }

    /// The batch's transactions, in order, each as its stamp and ops: one for a batch that
    /// was never coalesced.
    pub fn transactions(&self) -> Vec<(&Stamp, &[Op])> {
        if self.parts.is_empty() {
            return vec![(&self.stamp, &self.ops)];
        }
        let mut start = 0;
        self.parts
            .iter()
            .map(|part| {
                let end = (start + part.ops).min(self.ops.len());
                let ops = &self.ops[start.min(end)..end];
                start = end;
                (&part.stamp, ops)
            })
            .collect()
    }
}
