//! Leases in the SQLite store: one row per document, judged by SQLite's clock.
//!
//! Every function runs inside the caller's write transaction, so a fence check and the write
//! it guards are one atomic step (docs/design.md §12). The row is never deleted, only expired,
//! so a document's epoch only grows: a holder from before a release can never match again.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::store::{DocId, Lease, StoreError};

/// SQLite's clock, in milliseconds since the Unix epoch.
const NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

struct Row {
    holder: String,
    epoch: u64,
    live: bool,
}

fn read(conn: &Connection, doc: &DocId) -> Result<Option<Row>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT holder, epoch, expires_ms > {NOW_MS} FROM leases WHERE doc = ?1"),
            [doc.as_str()],
            |r| {
                Ok(Row {
                    holder: r.get(0)?,
                    epoch: r.get(1)?,
                    live: r.get(2)?,
                })
            },
        )
        .optional()?)
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Refuses `lease` unless it is the document's current, unexpired lease.
pub(super) fn check(conn: &Connection, lease: &Lease) -> Result<(), StoreError> {
    let row = read(conn, &lease.doc)?;
    match row {
        Some(row) if row.epoch == lease.epoch && row.holder == lease.holder && row.live => Ok(()),
        Some(row) => Err(StoreError::Fenced {
            doc: lease.doc.to_string(),
            epoch: lease.epoch,
            current: row.epoch,
            expired: row.epoch == lease.epoch && !row.live,
        }),
        None => Err(StoreError::Fenced {
            doc: lease.doc.to_string(),
            epoch: lease.epoch,
            current: 0,
            expired: false,
        }),
    }
}

pub(super) fn acquire(
    tx: &Transaction<'_>,
    doc: &DocId,
    holder: &str,
    ttl: Duration,
    force: bool,
) -> Result<Lease, StoreError> {
    let row = read(tx, doc)?;
    if let Some(row) = &row
        && row.live
        && row.holder != holder
        && !force
    {
        return Err(StoreError::LeaseHeld {
            doc: doc.to_string(),
            holder: row.holder.clone(),
            epoch: row.epoch,
        });
    }
    let epoch = row.map_or(0, |r| r.epoch) + 1;
    tx.execute(
        &format!(
            "INSERT INTO leases (doc, holder, epoch, expires_ms) VALUES (?1, ?2, ?3, {NOW_MS} + ?4)
             ON CONFLICT (doc) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch,
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
             WHERE doc = ?1 AND holder = ?2 AND epoch = ?3"
        ),
        params![lease.doc.as_str(), lease.holder, lease.epoch, ttl_ms(ttl)],
    )?;
    if changed == 1 {
        return Ok(());
    }
    let current = read(tx, &lease.doc)?.map_or(0, |r| r.epoch);
    Err(StoreError::Fenced {
        doc: lease.doc.to_string(),
        epoch: lease.epoch,
        current,
        expired: false,
    })
}

pub(super) fn release(conn: &Connection, lease: &Lease) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE leases SET expires_ms = 0 WHERE doc = ?1 AND holder = ?2 AND epoch = ?3",
        params![lease.doc.as_str(), lease.holder, lease.epoch],
    )?;
    Ok(())
}
