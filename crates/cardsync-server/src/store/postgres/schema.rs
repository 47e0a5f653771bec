//! The PostgreSQL store's tables, and the migration step every node runs at start.
//!
//! `cardsync_schema` holds one row, the schema version. At start a node takes a transaction
//! advisory lock (so that nodes starting together migrate one after the other), reads the
//! version, applies every step above it in the same transaction and records the new version;
//! PostgreSQL's DDL is transactional, so a node dying mid-migration leaves the old schema. A
//! version above [`VERSION`], written by a newer cardsync, is refused with
//! [`StoreError::NewerSchema`] before anything is touched. Every table is prefixed
//! `cardsync_`, so the store can share a database with the application's own tables.
//!
//! - **Version 1**: `cardsync_heads(doc, head)`, `cardsync_log(doc, seq, data, digest)`,
//!   `cardsync_snapshots(doc, seq, floor, data, digest)`, `cardsync_leases(doc, holder, epoch,
//!   expires_at)`: the same layout as SQLite's format 2 (`sqlite/schema.rs`).
//! - **Version 2**: a lease row per document *and holder*, `PRIMARY KEY (doc, holder)`, so
//!   several nodes serve one document at once (SQLite's format 3).
//! - **Version 3**: the audit trail, `cardsync_audit(id, doc, at_ms, seq, detail)` and
//!   `cardsync_audit_cards(doc, card, audit_id)` (SQLite's format 4).

use postgres::Client;

use crate::store::StoreError;

/// The schema version this code writes and reads.
pub(super) const VERSION: i32 = 3;

/// An arbitrary constant: the advisory lock key of the migration.
const MIGRATION_LOCK: i64 = 0x6361_7264_7379_6e63; // "cardsync"

const TO_1: &str = "
    CREATE TABLE cardsync_heads (doc TEXT PRIMARY KEY, head BIGINT NOT NULL);
    CREATE TABLE cardsync_log (
        doc TEXT NOT NULL, seq BIGINT NOT NULL, data BYTEA NOT NULL, digest BYTEA NOT NULL,
        PRIMARY KEY (doc, seq));
    CREATE TABLE cardsync_snapshots (
        doc TEXT PRIMARY KEY, seq BIGINT NOT NULL, floor BIGINT NOT NULL,
        data BYTEA NOT NULL, digest BYTEA NOT NULL);
    CREATE TABLE cardsync_leases (
        doc TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL);
";

const TO_2: &str = "
    ALTER TABLE cardsync_leases DROP CONSTRAINT cardsync_leases_pkey;
    ALTER TABLE cardsync_leases ADD PRIMARY KEY (doc, holder);
";

const TO_3: &str = "
    CREATE TABLE cardsync_audit (
        id BIGSERIAL PRIMARY KEY, doc TEXT NOT NULL, at_ms BIGINT NOT NULL, seq BIGINT,
        detail TEXT NOT NULL);
    CREATE INDEX cardsync_audit_by_doc ON cardsync_audit (doc, id);
    CREATE INDEX cardsync_audit_by_time ON cardsync_audit (at_ms);
    CREATE UNIQUE INDEX cardsync_audit_by_seq ON cardsync_audit (doc, seq)
        WHERE seq IS NOT NULL;
    CREATE TABLE cardsync_audit_cards (
        doc TEXT NOT NULL, card TEXT NOT NULL, audit_id BIGINT NOT NULL,
        PRIMARY KEY (doc, card, audit_id));
    CREATE INDEX cardsync_audit_cards_by_id ON cardsync_audit_cards (audit_id);
";

/// Creates or migrates the tables, or refuses a newer schema.
pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS cardsync_schema (version INTEGER NOT NULL)")?;
    let found: Option<i32> = tx
        .query_one("SELECT max(version) FROM cardsync_schema", &[])?
        .get(0);
    let found = found.unwrap_or(0);
    if found > VERSION {
        return Err(StoreError::NewerSchema {
            found: i64::from(found),
            supported: i64::from(VERSION),
        });
    }
    if found < 1 {
        tx.batch_execute(TO_1)?;
    }
    if found < 2 {
        tx.batch_execute(TO_2)?;
    }
    if found < 3 {
        tx.batch_execute(TO_3)?;
    }
    if found < VERSION {
        tx.execute("DELETE FROM cardsync_schema", &[])?;
        tx.execute(
            "INSERT INTO cardsync_schema (version) VALUES ($1)",
            &[&VERSION],
        )?;
    }
    tx.commit()?;
    Ok(())
}
