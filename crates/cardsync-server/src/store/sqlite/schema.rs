//! The SQLite store's tables, and the migration of files written by earlier versions.
//!
//! `meta.format` records the layout. A file is brought to [`FORMAT`] step by step, each step
//! in one transaction (SQLite's DDL is transactional, so a crash mid-migration leaves the old
//! format), and a file of a newer format is refused with [`StoreError::NewerSchema`] before
//! anything is written. A new file is created at format 1 and migrated like an old one, so the
//! migration runs, and is tested, on every fresh store.
//!
//! - **Format 1**: `snapshots(doc, data, digest)`, `updates(id, doc, data, digest)`.
//! - **Format 2** adds sequence numbers and leases (docs/design.md §10): `updates.seq`
//!   (1, 2, … per document; a document that already had a snapshot has it count as entry 1),
//!   `heads(doc, head)`, `snapshots.seq` (the entries the snapshot covers) and `.floor` (rows up
//!   to it are deleted), and `leases(doc, holder, epoch, expires_ms)`.
//! - **Format 3**: a lease row per document *and holder* (`PRIMARY KEY (doc, holder)`), so
//!   that several nodes serve one document at once, each fenced on its own (docs/design.md
//!   §12).
//! - **Format 4**: the audit trail (`sqlite/audit.rs`): `audit(id, doc, at_ms, seq, detail)`
//!   and `audit_cards(doc, card, audit_id)`.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::store::StoreError;

/// The store format this code writes and reads.
pub(super) const FORMAT: i64 = 4;

/// Creates a new store's tables, or checks and migrates an existing file's.
pub(super) fn create_or_migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
         CREATE TABLE IF NOT EXISTS snapshots (
             doc TEXT PRIMARY KEY, data BLOB NOT NULL, digest BLOB NOT NULL) STRICT;
         CREATE TABLE IF NOT EXISTS updates (
             id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL,
             data BLOB NOT NULL, digest BLOB NOT NULL) STRICT;
         CREATE INDEX IF NOT EXISTS updates_by_doc ON updates (doc, id);
         INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '1');",
    )?;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let format = read_format(&tx)?;
        match format {
            FORMAT => return Ok(()),
            1 => tx.execute_batch(TO_2)?,
            2 => tx.execute_batch(TO_3)?,
            3 => tx.execute_batch(TO_4)?,
            newer if newer > FORMAT => {
                return Err(StoreError::NewerSchema {
                    found: newer,
                    supported: FORMAT,
                });
            }
            older => {
                return Err(StoreError::Format(format!(
                    "store format {older} is not one this server ever wrote"
                )));
            }
        }
        tx.commit()?;
    }
}

fn read_format(conn: &Connection) -> Result<i64, StoreError> {
    let format: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .optional()?;
    let format = format.ok_or_else(|| StoreError::Format("the meta table has no format".into()))?;
    format
        .parse()
        .map_err(|_| StoreError::Format(format!("store format {format:?} is not a number")))
}

/// Format 1 to 2: number each document's log, record heads, add leases.
const TO_2: &str = "
    ALTER TABLE snapshots ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE snapshots ADD COLUMN floor INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE updates ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    UPDATE snapshots SET seq = 1, floor = 1;
    UPDATE updates SET seq = numbered.n
        + (SELECT count(*) FROM snapshots s WHERE s.doc = updates.doc)
        FROM (SELECT id, row_number() OVER (PARTITION BY doc ORDER BY id) AS n FROM updates)
            AS numbered
        WHERE updates.id = numbered.id;
    CREATE TABLE heads (doc TEXT PRIMARY KEY, head INTEGER NOT NULL) STRICT;
    INSERT INTO heads (doc, head)
        SELECT doc, max(seq) FROM (
            SELECT doc, seq FROM updates UNION ALL SELECT doc, seq FROM snapshots)
        GROUP BY doc;
    CREATE TABLE leases (
        doc TEXT PRIMARY KEY, holder TEXT NOT NULL,
        epoch INTEGER NOT NULL, expires_ms INTEGER NOT NULL) STRICT;
    DROP INDEX updates_by_doc;
    CREATE UNIQUE INDEX updates_by_seq ON updates (doc, seq);
    UPDATE meta SET value = '2' WHERE key = 'format';
";

/// Format 2 to 3: one lease row per document and holder. The rows kept are each document's
/// last lease, so epochs keep growing from where they were.
const TO_3: &str = "
    CREATE TABLE leases_3 (
        doc TEXT NOT NULL, holder TEXT NOT NULL,
        epoch INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
        PRIMARY KEY (doc, holder)) STRICT;
    INSERT INTO leases_3 (doc, holder, epoch, expires_ms)
        SELECT doc, holder, epoch, expires_ms FROM leases;
    DROP TABLE leases;
    ALTER TABLE leases_3 RENAME TO leases;
    UPDATE meta SET value = '3' WHERE key = 'format';
";

/// Format 3 to 4: the audit trail. A record of an accepted batch names its log entry, at most
/// one per entry.
const TO_4: &str = "
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL, at_ms INTEGER NOT NULL,
        seq INTEGER, detail TEXT NOT NULL) STRICT;
    CREATE INDEX audit_by_doc ON audit (doc, id);
    CREATE INDEX audit_by_time ON audit (at_ms);
    CREATE UNIQUE INDEX audit_by_seq ON audit (doc, seq) WHERE seq IS NOT NULL;
    CREATE TABLE audit_cards (
        doc TEXT NOT NULL, card TEXT NOT NULL, audit_id INTEGER NOT NULL,
        PRIMARY KEY (doc, card, audit_id)) STRICT;
    CREATE INDEX audit_cards_by_id ON audit_cards (audit_id);
    UPDATE meta SET value = '4' WHERE key = 'format';
";
