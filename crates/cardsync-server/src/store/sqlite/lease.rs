//! Leases in the SQLite store: one row per document and holder, judged by SQLite's clock.
//!
//! Every function runs inside the caller's write transaction, so a fence check and the write
//! it guards are one atomic step (docs/design.md §12). Rows are never deleted, only expired,
//! and each acquisition takes an epoch one above the document's highest, so a document's
//! epochs only grow: a holder from before a release can never match again.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::store::{DocId, Lease, StoreError};

/// SQLite's clock, in milliseconds since the Unix epoch.
const NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

struct Row {
    epoch: u64,
    live: bool,
}

fn read(conn: &Connection, doc: &DocId, holder: &str) -> Result<Option<Row>, StoreError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT epoch, expires_ms > {NOW_MS} FROM leases WHERE doc = ?1 AND holder = ?2"
            ),
            [doc.as_str(), holder],
            |r| {
                Ok(Row {
                    epoch: r.get(0)?,
                    live: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The highest epoch ever handed out for `doc` (0: none).
fn top_epoch(conn: &Connection, doc: &DocId) -> Result<u64, StoreError> {
    Ok(conn.query_row(
        "SELECT coalesce(max(epoch), 0) FROM leases WHERE doc = ?1",
        [doc.as_str()],
        |r| r.get(0),
    )?)
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2)
}

fn fenced(conn: &Connection, lease: &Lease, row: Option<&Row>) -> Result<StoreError, StoreError> {
    Ok(StoreError::Fenced {
        doc: lease.doc.to_string(),
        epoch: lease.epoch,
        current: top_epoch(conn, &lease.doc)?,
        expired: row.is_some_and(|r| r.epoch == lease.epoch && !r.live),
    })
}

/// Refuses `lease` unless it is its holder's current, unexpired lease of the document.
pub(super) fn check(conn: &Connection, lease: &Lease) -> Result<(), StoreError> {
    match read(conn, &lease.doc, &lease.holder)? {
        Some(row) if row.epoch == lease.epoch && row.live => Ok(()),
        row => Err(fenced(conn, lease, row.as_ref())?),
    }
}

pub(super) fn acquire(
    tx: &Transaction<'_>,
    doc: &DocId,
    holder: &str,
    ttl: Duration,
    force: bool,
) -> Result<Lease, StoreError> {
    let epoch = top_epoch(tx, doc)? + 1;
    if force {
        tx.execute(
            "UPDATE leases SET expires_ms = 0 WHERE doc = ?1 AND holder <> ?2",
            params![doc.as_str(), holder],
        )?;
    }
    tx.execute(
        &format!(
            "INSERT INTO leases (doc, holder, epoch, expires_ms) VALUES (?1, ?2, ?3, {NOW_MS} + ?4)
             ON CONFLICT (doc, holder) DO UPDATE SET epoch = excluded.epoch,
                 expires_ms = excluded.expires_ms"
        ),
        params![doc.as_str(), holder, epoch, ttl_ms(ttl)],
    )?;
    Ok(Lease {
        doc: doc.clone(),
        holder: holder.to_owned(),
        epoch,
    })
}

pub(super) fn renew(tx: &Transaction<'_>, lease: &Lease, ttl: Duration) -> Result<(), StoreError> {
    let changed = tx.execute(
        &format!(
            "UPDATE leases SET expires_ms = {NOW_MS} + ?4
             WHERE doc = ?1 AND holder = ?2 AND epoch = ?3 AND expires_ms > {NOW_MS}"
        ),
        params![lease.doc.as_str(), lease.holder, lease.epoch, ttl_ms(ttl)],
    )?;
    if changed == 1 {
        return Ok(());
    }
    let row = read(tx, &lease.doc, &lease.holder)?;
    Err(fenced(tx, lease, row.as_ref())?)
}

pub(super) fn release(conn: &Connection, lease: &Lease) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leases SET expires_ms = 0 WHERE doc = ?1 AND holder = ?2 AND epoch = ?3",
        params![lease.doc.as_str(), lease.holder, lease.epoch],
    )?;
    Ok(())
}
