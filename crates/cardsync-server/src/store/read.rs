//! What both stores do with what they read, written once: a document's snapshot row, a load
//! assembled from the snapshot and the log after it, and the bounds of a read-since.
//!
//! The SQL differs between SQLite and PostgreSQL; the meaning of the rows does not. Keeping
//! these rules here means the conformance suite checks one implementation of them, not two
//! copies that could drift.

use super::{DocId, Entry, SeqNo, StoreError, StoredDoc};

/// A document's snapshot row.
#[derive(Default)]
pub(super) struct SnapshotRow {
    /// The folded state (`None` when only its bounds were read, or there is none).
    pub data: Option<Vec<u8>>,
    /// The log entries it covers.
    pub seq: SeqNo,
    /// Log rows up to here are deleted (compaction keeps a tail above it).
    pub floor: SeqNo,
}

impl StoredDoc {
    /// The snapshot (if any) followed by the log entries after it, up to `head`.
    pub(super) fn assemble(snapshot: Option<Vec<u8>>, log: Vec<Entry>, head: SeqNo) -> Self {
        let log_len = log.len();
        let mut updates = Vec::with_capacity(log_len + 1);
        updates.extend(snapshot);
        updates.extend(log.into_iter().map(|e| e.update));
        Self {
            updates,
            log_len,
            head,
        }
    }
}

/// Refuses a read-since that starts beyond the head or below the rows compaction kept.
pub(super) fn check_since(
    doc: &DocId,
    since: SeqNo,
    head: SeqNo,
    floor: SeqNo,
) -> Result<(), StoreError> {
    if since > head {
        return Err(StoreError::AheadOfHead {
            doc: doc.to_string(),
            seq: since,
            head,
        });
    }
    if since < floor {
        return Err(StoreError::Compacted {
            doc: doc.to_string(),
            since,
            floor,
        });
    }
    Ok(())
}
