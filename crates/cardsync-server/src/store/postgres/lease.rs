//! Leases in the PostgreSQL store: one row per document and holder, judged by the database's
//! clock.
//!
//! Every function runs inside the caller's transaction. The fence check locks the holder's
//! lease row `FOR SHARE`; a forced takeover updates the other holders' rows, which takes
//! their row locks, so it waits for an append in flight under one of them, and every append
//! after it sees the lease ended (docs/design.md §12). Acquisitions of one document are
//! serialised by a transaction advisory lock on the document, so each takes an epoch one
//! above the document's highest. Rows are never deleted, only expired, so a document's epochs
//! only grow.

use std::time::Duration;

use postgres::Transaction;

use super::bigint::{from_db, to_db};
use crate::store::{DocId, Lease, StoreError};

struct Row {
    epoch: u64,
    live: bool,
}

fn read(tx: &mut Transaction<'_>, lease: &Lease, lock: &str) -> Result<Option<Row>, StoreError> {
    let row = tx.query_opt(
        &format!(
            "SELECT epoch, expires_at > clock_timestamp() FROM cardsync_leases
             WHERE doc = $1 AND holder = $2 {lock}"
        ),
        &[&lease.doc.as_str(), &lease.holder],
    )?;
    Ok(row.map(|r| Row {
        epoch: from_db(r.get(0)),
        live: r.get(1),
    }))
}

fn top_epoch(tx: &mut Transaction<'_>, doc: &DocId) -> Result<u64, StoreError> {
    let row = tx.query_one(
        "SELECT coalesce(max(epoch), 0) FROM cardsync_leases WHERE doc = $1",
        &[&doc.as_str()],
    )?;
    Ok(from_db(row.get(0)))
}

fn ttl_ms(ttl: Duration) -> f64 {
    ttl.as_secs_f64() * 1000.0
}

fn fenced(
    tx: &mut Transaction<'_>,
    lease: &Lease,
    row: Option<&Row>,
) -> Result<StoreError, StoreError> {
    Ok(StoreError::Fenced {
        doc: lease.doc.to_string(),
        epoch: lease.epoch,
        current: top_epoch(tx, &lease.doc)?,
        expired: row.is_some_and(|r| r.epoch == lease.epoch && !r.live),
    })
}

/// Refuses `lease` unless it is its holder's current, unexpired lease of the document; holds
/// the row `FOR SHARE` until the transaction ends.
pub(super) fn check(tx: &mut Transaction<'_>, lease: &Lease) -> Result<(), StoreError> {
    match read(tx, lease, "FOR SHARE")? {
        Some(row) if row.epoch == lease.epoch && row.live => Ok(()),
        row => Err(fenced(tx, lease, row.as_ref())?),
    }
}

pub(super) fn acquire(
    tx: &mut Transaction<'_>,
    doc: &DocId,
    holder: &str,
    ttl: Duration,
    force: bool,
) -> Result<Lease, StoreError> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext('cardsync_leases'), hashtext($1))",
        &[&doc.as_str()],
    )?;
    let epoch = top_epoch(tx, doc)? + 1;
    if force {
        tx.execute(
            "UPDATE cardsync_leases SET expires_at = '-infinity' WHERE doc = $1 AND holder <> $2",
            &[&doc.as_str(), &holder],
        )?;
    }
    tx.execute(
        "INSERT INTO cardsync_leases (doc, holder, epoch, expires_at)
         VALUES ($1, $2, $3, clock_timestamp() + $4::float8 * interval '1 millisecond')
         ON CONFLICT (doc, holder) DO UPDATE SET epoch = excluded.epoch,
             expires_at = excluded.expires_at",
        &[&doc.as_str(), &holder, &to_db(epoch), &ttl_ms(ttl)],
    )?;
    Ok(Lease {
        doc: doc.clone(),
        holder: holder.to_owned(),
        epoch,
    })
}

pub(super) fn renew(
    tx: &mut Transaction<'_>,
    lease: &Lease,
    ttl: Duration,
) -> Result<(), StoreError> {
    let changed = tx.execute(
        "UPDATE cardsync_leases SET expires_at = clock_timestamp() + $4::float8 * interval '1 millisecond'
         WHERE doc = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()",
        &[
            &lease.doc.as_str(),
            &lease.holder,
            &to_db(lease.epoch),
            &ttl_ms(ttl),
        ],
    )?;
    if changed == 1 {
        return Ok(());
    }
    let row = read(tx, lease, "")?;
    Err(fenced(tx, lease, row.as_ref())?)
}

pub(super) fn release(tx: &mut Transaction<'_>, lease: &Lease) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE cardsync_leases SET expires_at = '-infinity'
         WHERE doc = $1 AND holder = $2 AND epoch = $3",
        &[&lease.doc.as_str(), &lease.holder, &to_db(lease.epoch)],
    )?;
    Ok(())
}
