//! Folding a snapshot and log entries into one new snapshot, for both stores' compactions.
//!
//! It goes through `cardsync_core::merge_updates_v1` (a scratch document, not yrs' own
//! merge, docs/design.md §4), which decodes the whole document, so a store calls it outside
//! any write transaction: appends carry on meanwhile.

use super::{DocId, StoreError};

/// Merges `snapshot` (if any) and `log`, oldest first, into one v1 update.
pub(crate) fn fold(
    doc: &DocId,
    snapshot: Option<&[u8]>,
    log: &[Vec<u8>],
) -> Result<Vec<u8>, StoreError> {
    let parts: Vec<&[u8]> = snapshot
        .into_iter()
        .chain(log.iter().map(Vec::as_slice))
        .collect();
    cardsync_core::merge_updates_v1(&parts).map_err(|source| StoreError::Merge {
        doc: doc.to_string(),
        source,
    })
}
