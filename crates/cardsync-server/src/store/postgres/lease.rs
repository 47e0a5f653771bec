//! Leases in the PostgreSQL store: one row per document, judged by the database's clock.
//!
//! Every function runs inside the caller's transaction. The fence check locks the lease row
//! `FOR SHARE`, and an acquisition locks it `FOR UPDATE`, so an append in flight and a takeover
//! are ordered: the takeover waits for the append's commit, and every append after the
//! takeover sees the new epoch (docs/design.md §12). Rows are never deleted, only expired, so
//! a document's epoch only grows.

use std::time::Duration;

use postgres::{GenericClient, Transaction};

use super::bigint::{from_db, to_db};
use crate::store::{DocId, Lease, StoreError};

struct Row {
    holder: String,
    epoch: u64,
    live: bool,
}

fn read(tx: &mut Transaction<'_>, doc: &DocId, lock: &str) -> Result<Option<Row>, StoreError> {
    let row = tx.query_opt(
        &format!(
            "SELECT holder, epoch, expires_at > clock_timestamp() FROM cardsync_leases
             WHERE doc = $1 {lock}"
        ),
        &[&doc.as_str()],
    )?;
    Ok(row.map(|r| Row {
        holder: r.get(0),
        epoch: from_db(r.get(1)),
        live: r.get(2),
    }))
}

fn ttl_ms(ttl: Duration) -> f64 {
    ttl.as_secs_f64() * 1000.0
}

/// Refuses `lease` unless it is the document's current, unexpired lease; holds the row
/// `FOR SHARE` until the transaction ends.
pub(super) fn check(tx: &mut Transaction<'_>, lease: &Lease) -> Result<(), StoreError> {
    match read(tx, &lease.doc, "FOR SHARE")? {
        Some(row) if row.epoch == lease.epoch && row.holder == lease.holder && row.live => Ok(()),
        row => Err(StoreError::Fenced {
            doc: lease.doc.to_string(),
            epoch: lease.epoch,
            current: row.as_ref().map_or(0, |r| r.epoch),
            expired: row.is_some_and(|r| r.epoch == lease.epoch && !r.live),
        }),
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
        "INSERT INTO cardsync_leases (doc, holder, epoch, expires_at)
         VALUES ($1, '', 0, '-infinity') ON CONFLICT (doc) DO NOTHING",
        &[&doc.as_str()],
    )?;
    let row = read(tx, doc, "FOR UPDATE")?;
    let epoch = row.as_ref().map_or(0, |r| r.epoch);
    if let Some(row) = row
        && row.live
        && row.holder != holder
        && !force
    {
        return Err(StoreError::LeaseHeld {
            doc: doc.to_string(),
            holder: row.holder,
            epoch: row.epoch,
        });
    }
    let epoch = epoch + 1;
    tx.execute(
        "UPDATE cardsync_leases SET holder = $2, epoch = $3,
             expires_at = clock_timestamp() + $4::float8 * interval '1 millisecond'
         WHERE doc = $1",
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
         WHERE doc = $1 AND holder = $2 AND epoch = $3",
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
    let current = read(tx, &lease.doc, "")?.map_or(0, |r| r.epoch);
    Err(StoreError::Fenced {
        doc: lease.doc.to_string(),
        epoch: lease.epoch,
        current,
        expired: false,
    })
}

pub(super) fn release(client: &mut impl GenericClient, lease: &Lease) -> Result<(), StoreError> {
    client.execute(
        "UPDATE cardsync_leases SET expires_at = '-infinity'
         WHERE doc = $1 AND holder = $2 AND epoch = $3",
        &[&lease.doc.as_str(), &lease.holder, &to_db(lease.epoch)],
    )?;
    Ok(())
}
