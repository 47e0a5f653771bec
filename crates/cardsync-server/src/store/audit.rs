//! Audit records: who sent each batch a room judged, when, the verdict and what it touched,
//! kept by the store beside the log (docs/design.md §10, "Audit records, history and the
//! change feed").
//!
//! **Why in the store, and in the append's transaction.** An audit trail that can miss an
//! accepted batch is worth little, and one that names a batch the log does not hold is worse.
//! So the record of an accepted batch rides on its append ([`HeadAppend::audit`](super::HeadAppend))
//! and is written in the same transaction, numbered with the entry's sequence number: both
//! land or neither does, and it costs no commit of its own (the group commit already pays
//! the fsync). A rejection has no append: its record is written by the writer thread after
//! the group it came with ([`Store::append_audit`](super::Store::append_audit)), off the path of
//! any ack, and before the store is flushed at shutdown, so a clean shutdown loses none.
//!
//! **What a record holds.** The author is the role and subject of the token the peer was
//! admitted with, never an actor a client claims in its stamps; the time is the server's
//! clock, read by the driver (the sans-IO room stays deterministic); the summary is what the
//! room's shadow recorded the batch touching (`cardsync_sync::room::Summary`); the ops are the
//! typed ops of a batch posted over HTTP, which the server knows, and absent otherwise (the
//! wire carries only the update). What both stores do with a record's JSON is written once,
//! here; the SQL of each is in its `audit.rs`.

use cardsync_core::{CardId, Op};
use cardsync_sync::protocol::{BatchId, RejectCode};
use cardsync_sync::room::{Role, Summary};
use serde::{Deserialize, Serialize};

use super::{DocId, SeqNo, StoreError};

/// Most records one read of the trail returns.
pub const MAX_AUDIT_PAGE: usize = 1000;

/// The server's clock as audit records keep it: milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Who sent a batch: what its token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditAuthor {
    /// The token's subject (user id), or `None` for a token without one and for a stock peer
    /// admitted without a token.
    pub subject: Option<String>,
    /// The token's role.
    pub role: Role,
}

/// The verdict on a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum AuditVerdict {
    /// Accepted: durable in the log (the record's `seq`), acked and broadcast.
    Accepted,
    /// Refused with a stable reject code.
    Rejected {
        /// The code.
        code: RejectCode,
        /// The room's reason.
        reason: String,
    },
}

/// One audit record to write: everything but its document (which the append or the call
/// names), its id and its sequence number (which the store gives it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    /// When the server judged it, in milliseconds since the Unix epoch (the server's clock).
    pub at_ms: u64,
    /// Who sent it.
    pub author: AuditAuthor,
    /// Its batch id (`None` for a stock client's update, which has none).
    pub batch: Option<BatchId>,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: AuditVerdict,
    /// What it touched.
    pub summary: Summary,
    /// Its typed ops, when it came as ops over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<Op>>,
}

/// One stored audit record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Its place in the store's trail: increasing in the order records were written, the
    /// cursor of a paged read.
    pub id: u64,
    /// The document.
    pub doc: String,
    /// The log entry an accepted batch became (`None` for a rejection).
    pub seq: Option<SeqNo>,
    /// The record.
    #[serde(flatten)]
    pub audit: Audit,
}

/// Which records a read of the trail wants: one document's, optionally one card's, in a time
/// range, after a cursor, at most `limit` of them, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only records whose summary names this card.
    pub card: Option<CardId>,
    /// Only records at or after this time (ms since the Unix epoch).
    pub since_ms: Option<u64>,
    /// Only records before this time.
    pub until_ms: Option<u64>,
    /// Only records after this id (0: from the start).
    pub after: u64,
    /// At most this many (capped at [`MAX_AUDIT_PAGE`]).
    pub limit: usize,
}

impl Default for AuditQuery {
    fn default() -> Self {
        Self {
            card: None,
            since_ms: None,
            until_ms: None,
            after: 0,
            limit: 100,
        }
    }
}

impl AuditQuery {
    /// The limit as the stores apply it.
    pub(super) fn page(&self) -> i64 {
        i64::try_from(self.limit.min(MAX_AUDIT_PAGE)).unwrap_or(0)
    }
}

impl Audit {
    /// The JSON kept in the record's `detail` column.
    pub(super) fn detail(&self) -> Result<String, StoreError> {
        serde_json::to_string(self).map_err(|e| StoreError::Format(e.to_string()))
    }

    /// The card ids the record is filed under, as the stores index them.
    pub(super) fn cards(&self) -> impl Iterator<Item = String> + '_ {
        self.summary.card_ids().map(|c| c.to_string())
    }
}

/// A stored row back as a record.
pub(super) fn decode(
    doc: &DocId,
    id: u64,
    seq: Option<SeqNo>,
    detail: &str,
) -> Result<AuditRecord, StoreError> {
    let audit: Audit = serde_json::from_str(detail).map_err(|e| StoreError::CorruptAudit {
        doc: doc.to_string(),
        id,
        reason: e.to_string(),
    })?;
    Ok(AuditRecord {
        id,
        doc: doc.to_string(),
        seq,
        audit,
    })
}
