//! The embedded store: one SQLite file in WAL mode.
//!
//! # Layout
//! ```sql
//! meta(key PRIMARY KEY, value)                  -- format = 1
//! snapshots(doc PRIMARY KEY, data, digest)      -- at most one per document
//! updates(id INTEGER PRIMARY KEY AUTOINCREMENT, doc, data, digest)   -- the log
//! ```
//! `AUTOINCREMENT` keeps log ids increasing forever, even after a compaction deleted the
//! highest ones, so "every entry up to id N" means the same thing before and after it.
//!
//! # Durability: WAL with `synchronous = FULL` (the default)
//! A room acks a batch once [`Store::append`] returns, and an ack is a promise that the batch
//! survives a crash (docs/design.md §5). In WAL mode SQLite offers two honest settings:
//! - **`FULL`** (default): the WAL is fsynced at every commit. A committed append survives a
//!   process crash, `kill -9`, a kernel panic and a power cut. That is what an ack promises,
//!   so it is the default.
//! - **`NORMAL`**: the WAL is fsynced only at checkpoints. A commit survives the process
//!   dying (`kill -9`, a panic: the data is in the OS page cache, which outlives the process),
//!   but the last commits before a power cut or kernel crash can roll back, after the clients
//!   were told "durable". The database stays consistent either way. Choose it only on storage
//!   that protects its cache (a battery-backed controller) or where losing the last moments
//!   of acked edits after a power cut is acceptable; [`Synchronous::Normal`] exists for that.
//!
//! The cost of `FULL` is one fsync per commit, not per batch: the writer thread commits all
//! appends waiting at that moment in one transaction (group commit, `persist.rs`), so under
//! load many batches share an fsync.
//!
//! # Integrity at start
//! [`SqliteStore::open`] refuses a file that is not a SQLite database
//! ([`StoreError::NotADatabase`]) or fails `PRAGMA quick_check` ([`StoreError::Corrupt`], which
//! catches truncated files: their b-trees point at pages that are gone), and
//! [`Store::verify`] then checks every stored update (digest and the core's screen).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::verify::{check_row, digest};
use super::{Append, Compaction, DocId, Store, StoreError, StoredDoc, VerifyReport};

/// The store format this code writes and reads.
const FORMAT: &str = "1";

/// SQLite's `synchronous` setting for the WAL; see the [module docs](self) for the choice.
/// The same values name it in the config file (`full`, `normal`) and on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Synchronous {
    /// fsync at every commit: acked batches survive power loss.
    #[default]
    Full,
    /// fsync at checkpoints: acked batches survive a process crash, not a power cut.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// A [`Store`] in one SQLite file. See the [module docs](self).
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// The one connection that writes (SQLite allows one writer at a time anyway).
    writer: Mutex<Connection>,
    /// Reads (loads, compaction input) go here, so that in WAL mode they never wait for a
    /// commit's fsync and never block the writer.
    reader: Mutex<Connection>,
    /// Serialises compactions, so two of one document cannot interleave.
    compacting: Mutex<()>,
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`, in WAL mode with the given `synchronous`
    /// setting, and checks the file's integrity (`PRAGMA quick_check`). Run [`Store::verify`]
    /// afterwards to check the stored updates too.
    ///
    /// ```
    /// use cardsync_server::store::{Append, DocId, SqliteStore, Store, Synchronous};
    /// let dir = tempfile::tempdir()?;
    /// let store = SqliteStore::open(&dir.path().join("cardsync.db"), Synchronous::Full)?;
    /// let doc = DocId::new("board")?;
    /// assert_eq!(store.load(&doc)?.updates.len(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: &Path, synchronous: Synchronous) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let classify = |e: rusqlite::Error| classify(&shown, e);
        let writer = Connection::open(path).map_err(classify)?;
        writer
            .busy_timeout(Duration::from_secs(5))
            .map_err(classify)?;
        let mode: String = writer
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(classify)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Format(format!(
                "{shown}: cannot switch to WAL mode (journal_mode is {mode})"
            )));
        }
        writer
            .execute_batch(&format!(
                "PRAGMA synchronous = {}; PRAGMA foreign_keys = ON;",
                synchronous.pragma()
            ))
            .map_err(classify)?;
        quick_check(&writer).map_err(|e| match e {
            StoreError::Sqlite(e) => classify(e),
            other => other,
        })?;
        create_or_check_schema(&writer)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let reader = Connection::open_with_flags(path, flags).map_err(classify)?;
        reader
            .busy_timeout(Duration::from_secs(5))
            .map_err(classify)?;
        reader
            .execute_batch("PRAGMA query_only = ON;")
            .map_err(classify)?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            compacting: Mutex::new(()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Turns SQLite's "not a database" and "malformed" into the typed errors a caller can act on.
fn classify(path: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase {
            path: path.to_owned(),
            source: e,
        },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            details: e.to_string(),
        },
        _ => StoreError::Sqlite(e),
    }
}

fn quick_check(conn: &Connection) -> Result<(), StoreError> {
    let mut stmt = conn.prepare("PRAGMA quick_check(20)")?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            details: rows.join("; "),
        })
    }
}

fn create_or_check_schema(conn: &Connection) -> Result<(), StoreError> {
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
    let format: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match format.as_deref() {
        Some(FORMAT) => Ok(()),
        Some(other) => Err(StoreError::Format(format!(
            "store format {other}; this server reads format {FORMAT}"
        ))),
        None => Err(StoreError::Format("the meta table has no format".into())),
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves no half-done SQLite transaction behind (rusqlite
    // rolls back on drop), so the connection is still good.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A document's rows as read in one read transaction.
struct Rows {
    snapshot: Option<Vec<u8>>,
    log: Vec<Vec<u8>>,
    /// The highest log id read.
    last_id: Option<i64>,
}

fn read_rows(conn: &Connection, doc: &DocId) -> Result<Rows, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let snapshot = tx
        .query_row(
            "SELECT data, digest FROM snapshots WHERE doc = ?1",
            [doc.as_str()],
            |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )
        .optional()?;
    if let Some((data, digest)) = &snapshot {
        check_row(doc.as_str(), "snapshot", data, digest)?;
    }
    let mut stmt =
        tx.prepare_cached("SELECT id, data, digest FROM updates WHERE doc = ?1 ORDER BY id")?;
    let mut rows = stmt.query([doc.as_str()])?;
    let (mut log, mut last_id) = (Vec::new(), None);
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let data: Vec<u8> = row.get(1)?;
        let digest: Vec<u8> = row.get(2)?;
        check_row(doc.as_str(), &format!("log #{id}"), &data, &digest)?;
        log.push(data);
        last_id = Some(id);
    }
    Ok(Rows {
        snapshot: snapshot.map(|(data, _)| data),
        log,
        last_id,
    })
}

impl Store for SqliteStore {
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        super::verify::verify_all(&lock(&self.reader))
    }

    fn load(&self, doc: &DocId) -> Result<StoredDoc, StoreError> {
        let rows = read_rows(&lock(&self.reader), doc)?;
        let log_len = rows.log.len();
        let mut updates = Vec::with_capacity(log_len + 1);
        updates.extend(rows.snapshot);
        updates.extend(rows.log);
        Ok(StoredDoc { updates, log_len })
    }

    fn append(&self, appends: &[Append]) -> Result<(), StoreError> {
        if appends.is_empty() {
            return Ok(());
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt =
                tx.prepare_cached("INSERT INTO updates (doc, data, digest) VALUES (?1, ?2, ?3)")?;
            for a in appends {
                stmt.execute(params![a.doc.as_str(), a.update, digest(&a.update)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn compact(&self, doc: &DocId) -> Result<Compaction, StoreError> {
        let _one_at_a_time = self
            .compacting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let rows = read_rows(&lock(&self.reader), doc)?;
        let Some(last_id) = rows.last_id else {
            return Ok(Compaction::default());
        };
        let parts: Vec<&[u8]> = rows
            .snapshot
            .iter()
            .chain(rows.log.iter())
            .map(Vec::as_slice)
            .collect();
        let snapshot =
            cardsync_core::merge_updates_v1(&parts).map_err(|source| StoreError::Merge {
                doc: doc.to_string(),
                source,
            })?;
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO snapshots (doc, data, digest) VALUES (?1, ?2, ?3)
             ON CONFLICT (doc) DO UPDATE SET data = excluded.data, digest = excluded.digest",
            params![doc.as_str(), snapshot, digest(&snapshot)],
        )?;
        tx.execute(
            "DELETE FROM updates WHERE doc = ?1 AND id <= ?2",
            params![doc.as_str(), last_id],
        )?;
        tx.commit()?;
        Ok(Compaction {
            folded: rows.log.len(),
            snapshot_bytes: snapshot.len(),
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
