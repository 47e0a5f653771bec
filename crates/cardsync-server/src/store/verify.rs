//! Checks of stored updates: a digest per row, the core's screen of untrusted bytes, and a log
//! without holes.
//!
//! A database checks its own pages, not what is in them: a flipped bit inside an update blob,
//! or a row written by a buggy tool, passes SQLite's `quick_check` and PostgreSQL's page
//! checksums alike. Each row therefore carries the SHA-256 of its bytes, and each update must
//! pass `cardsync_core`'s [`screen_update_v1`](cardsync_core::untrusted::screen_update_v1)
//! (structure only, no allocation) before a room replays it. A row deleted by hand would make
//! a document load short without a single bad byte, so a read also checks that the sequence
//! numbers it got run without a gap up to the head. Every failure names the document and the
//! row. Both stores use these functions, so both refuse the same damage the same way.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::{SeqNo, StoreError, VerifyReport};

/// The digest stored beside an update.
pub(crate) fn digest(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// Checks one stored update against its digest and the core's screen.
pub(crate) fn check_row(
    doc: &str,
    location: &str,
    data: &[u8],
    stored_digest: &[u8],
) -> Result<(), StoreError> {
    let damaged = |reason: String| StoreError::CorruptUpdate {
        doc: doc.to_owned(),
        location: location.to_owned(),
        reason,
    };
    if digest(data) != stored_digest {
        return Err(damaged(
            "its bytes do not match their SHA-256 digest".into(),
        ));
    }
    cardsync_core::untrusted::screen_update_v1(data)
        .map_err(|e| damaged(format!("it fails the decode guard: {e}")))
}

/// The location of a log row in errors.
pub(crate) fn log_location(seq: SeqNo) -> String {
    format!("log #{seq}")
}

/// Checks that `seqs` (ascending, as read) are exactly `after + 1 ..= head`.
pub(crate) fn check_contiguous(
    doc: &str,
    after: SeqNo,
    seqs: impl IntoIterator<Item = SeqNo>,
    head: SeqNo,
) -> Result<(), StoreError> {
    let mut next = after + 1;
    for seq in seqs {
        if seq != next {
            return Err(StoreError::CorruptUpdate {
                doc: doc.to_owned(),
                location: log_location(next),
                reason: format!("the row is missing (the next row is #{seq})"),
            });
        }
        next += 1;
    }
    if next != head + 1 {
        return Err(StoreError::CorruptUpdate {
            doc: doc.to_owned(),
            location: log_location(next),
            reason: format!("the row is missing (the head is {head})"),
        });
    }
    Ok(())
}

/// Counts what [`Store::verify`](super::Store::verify) checked, row by row.
#[derive(Default)]
pub(crate) struct Tally {
    report: VerifyReport,
    docs: BTreeSet<String>,
}

impl Tally {
    /// Checks one row and counts it.
    pub(crate) fn row(
        &mut self,
        doc: String,
        location: &str,
        data: &[u8],
        stored_digest: &[u8],
    ) -> Result<(), StoreError> {
        check_row(&doc, location, data, stored_digest)?;
        self.report.updates += 1;
        self.report.bytes += data.len() as u64;
        self.docs.insert(doc);
        Ok(())
    }

    /// The report.
    pub(crate) fn finish(mut self) -> VerifyReport {
        self.report.documents = self.docs.len();
        self.report
    }
}
