//! Checks of stored updates: a digest per row, and the core's screen of untrusted bytes.
//!
//! SQLite checks its own pages, not what is in them: a flipped bit inside an update blob, or
//! a row written by a buggy tool, passes `quick_check`. Each row therefore carries the SHA-256
//! of its bytes, and each update must pass `cardsync_core`'s
//! [`screen_update_v1`](cardsync_core::untrusted::screen_update_v1) (structure only, no allocation)
//! before a room replays it. Either failure names the document and the row.

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::{StoreError, VerifyReport};

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

/// Checks every snapshot and log row of the store.
pub(crate) fn verify_all(conn: &Connection) -> Result<VerifyReport, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let mut report = VerifyReport::default();
    let mut docs = std::collections::BTreeSet::new();
    let mut check = |doc: String, location: String, data: Vec<u8>, digest: Vec<u8>| {
        check_row(&doc, &location, &data, &digest)?;
        report.updates += 1;
        report.bytes += data.len() as u64;
        docs.insert(doc);
        Ok::<(), StoreError>(())
    };
    {
        let mut stmt = tx.prepare("SELECT doc, data, digest FROM snapshots")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            check(row.get(0)?, "snapshot".into(), row.get(1)?, row.get(2)?)?;
        }
    }
    {
        let mut stmt = tx.prepare("SELECT id, doc, data, digest FROM updates")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            check(row.get(1)?, format!("log #{id}"), row.get(2)?, row.get(3)?)?;
        }
    }
    report.documents = docs.len();
    Ok(report)
}
