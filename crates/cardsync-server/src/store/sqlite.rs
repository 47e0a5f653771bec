//! The embedded store: one SQLite file in WAL mode.
//!
//! # Layout (format 4, see `sqlite/schema.rs` for the migrations from format 1)
//! ```sql
//! meta(key PRIMARY KEY, value)                          -- format = 2
//! heads(doc PRIMARY KEY, head)                          -- the last sequence number
//! updates(id INTEGER PRIMARY KEY AUTOINCREMENT, doc, seq, data, digest)   -- the log
//! snapshots(doc PRIMARY KEY, seq, floor, data, digest)  -- at most one per document
//! leases(doc, holder, epoch, expires_ms, PRIMARY KEY (doc, holder))
//! audit(id INTEGER PRIMARY KEY AUTOINCREMENT, doc, at_ms, seq, detail)  -- `sqlite/audit.rs`
//! audit_cards(doc, card, audit_id)                      -- records filed per card
//! ```
//! A snapshot covers the entries up to its `seq`; rows up to its `floor` are deleted, and the
//! ones between (the tail) stay for readers catching up. `heads` moves in the transaction that
//! inserts the row, so a head always names a row that exists or a row folded into the snapshot.
//!
//! # One writer, and leases anyway
//! A single node is trivially the only writer of its file, so the server's batch path
//! ([`Store::append`]) takes no lease. The leased path is implemented too, with the same
//! promises as PostgreSQL's, so that the conformance suite holds both stores to one contract
//! and two handles on one file behave like two nodes: each handle's writes are `IMMEDIATE`
//! transactions, which SQLite runs one at a time, and lease expiry reads SQLite's clock.

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

mod audit;
mod lease;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};
use serde::{Deserialize, Serialize};

use super::fold::fold;
use super::judged::Judged;
use super::read::{SnapshotRow, check_since};
use super::verify::{Tally, check_contiguous, check_row, digest, log_location};
use super::{
    Append, Audit, AuditQuery, AuditRecord, Compaction, DocId, Entry, HeadAppend, Lease, SeqNo,
    Store, StoreError, StoredDoc, VerifyReport,
};

/// SQLite's `synchronous` setting for the WAL; see the module docs of `store/sqlite.rs` for the choice.
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

/// A [`Store`] in one SQLite file. See the module docs of `store/sqlite.rs`.
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
        let mut writer = Connection::open(path).map_err(classify)?;
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
        schema::create_or_migrate(&mut writer)?;
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

    /// Every document the store holds (with a log entry or a snapshot), in id order: what
    /// `cardsync-server migrate` copies.
    pub fn documents(&self) -> Result<Vec<DocId>, StoreError> {
        let conn = lock(&self.reader);
        let mut stmt =
            conn.prepare("SELECT doc FROM heads UNION SELECT doc FROM snapshots ORDER BY doc")?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .map(|id| {
                DocId::new(&id).map_err(|e| StoreError::Format(format!("document id {id:?}: {e}")))
            })
            .collect()
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

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves no half-done SQLite transaction behind (rusqlite
    // rolls back on drop), so the connection is still good.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn head(conn: &Connection, doc: &DocId) -> Result<SeqNo, StoreError> {
    Ok(conn
        .query_row(
            "SELECT head FROM heads WHERE doc = ?1",
            [doc.as_str()],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// Reads the snapshot row, digest-checked when `with_data`.
fn snapshot(conn: &Connection, doc: &DocId, with_data: bool) -> Result<SnapshotRow, StoreError> {
    let row = conn
        .query_row(
            "SELECT seq, floor, data, digest FROM snapshots WHERE doc = ?1",
            [doc.as_str()],
            |r| {
                Ok((
                    r.get::<_, SeqNo>(0)?,
                    r.get::<_, SeqNo>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((seq, floor, data, stored_digest)) = row else {
        return Ok(SnapshotRow::default());
    };
    if !with_data {
        return Ok(SnapshotRow {
            data: None,
            seq,
            floor,
        });
    }
    check_row(doc.as_str(), "snapshot", &data, &stored_digest)?;
    Ok(SnapshotRow {
        data: Some(data),
        seq,
        floor,
    })
}

/// The log entries after `after` up to `upto`, checked, and without holes up to `upto`.
fn entries(
    conn: &Connection,
    doc: &DocId,
    after: SeqNo,
    upto: SeqNo,
) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, data, digest FROM updates WHERE doc = ?1 AND seq > ?2 AND seq <= ?3
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![doc.as_str(), after, upto])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let seq: SeqNo = row.get(0)?;
        let update: Vec<u8> = row.get(1)?;
        let stored_digest: Vec<u8> = row.get(2)?;
        check_row(doc.as_str(), &log_location(seq), &update, &stored_digest)?;
        out.push(Entry { seq, update });
    }
    check_contiguous(doc.as_str(), after, out.iter().map(|e| e.seq), upto)?;
    Ok(out)
}

/// Appends one update as the document's next entry, inside `tx`; returns its sequence number.
fn append_one(tx: &Transaction<'_>, doc: &DocId, update: &[u8]) -> Result<SeqNo, StoreError> {
    let seq: SeqNo = tx
        .prepare_cached(
            "INSERT INTO heads (doc, head) VALUES (?1, 1)
             ON CONFLICT (doc) DO UPDATE SET head = head + 1 RETURNING head",
        )?
        .query_row([doc.as_str()], |r| r.get(0))?;
    tx.prepare_cached("INSERT INTO updates (doc, seq, data, digest) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![doc.as_str(), seq, update, digest(update)])?;
    Ok(seq)
}

/// One compare-and-append inside `tx`: the outer `Err` is a failure (abort the transaction),
/// the inner one a refusal (nothing written, carry on). The head moves in the same statement
/// that checks it (`UPDATE … WHERE head = expected RETURNING`), as in PostgreSQL.
fn append_checked<'a>(
    tx: &Transaction<'_>,
    lease: &'a Lease,
    expected: SeqNo,
    update: &[u8],
    judged: &mut Judged<'a>,
) -> Result<Result<SeqNo, StoreError>, StoreError> {
    let doc = lease.doc.as_str();
    if let Err(refusal) = judged.lease(lease, || lease::check(tx, lease))? {
        return Ok(Err(refusal));
    }
    let moved: Option<SeqNo> = if judged.refused(doc) {
        None
    } else if expected == 0 {
        tx.prepare_cached(
            "INSERT INTO heads (doc, head) VALUES (?1, 1) ON CONFLICT (doc) DO NOTHING
             RETURNING head",
        )?
        .query_row([doc], |r| r.get(0))
        .optional()?
    } else {
        tx.prepare_cached(
            "UPDATE heads SET head = head + 1 WHERE doc = ?1 AND head = ?2 RETURNING head",
        )?
        .query_row(params![doc, expected], |r| r.get(0))
        .optional()?
    };
    let Some(seq) = moved else {
        let head = head(tx, &lease.doc)?;
        return Ok(Err(judged.moved(lease, expected, head)));
    };
    tx.prepare_cached("INSERT INTO updates (doc, seq, data, digest) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![doc, seq, update, digest(update)])?;
    judged.appended(&lease.doc, seq);
    Ok(Ok(seq))
}

impl SqliteStore {
    /// Both compactions: fold the snapshot and the entries up to `upto` (the head when
    /// `None`), then, in one write transaction that checks `lease` if given, store the
    /// snapshot and delete the rows up to `upto - tail`.
    fn compact_to(
        &self,
        doc: &DocId,
        lease: Option<&Lease>,
        upto: Option<SeqNo>,
        tail: u64,
    ) -> Result<Compaction, StoreError> {
        let _one_at_a_time = self
            .compacting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (old, log, upto) = {
            let reader = lock(&self.reader);
            let tx = reader.unchecked_transaction()?;
            let head = head(&tx, doc)?;
            let upto = upto.unwrap_or(head);
            if upto > head {
                return Err(StoreError::AheadOfHead {
                    doc: doc.to_string(),
                    seq: upto,
                    head,
                });
            }
            let old = snapshot(&tx, doc, true)?;
            if upto <= old.seq {
                return Ok(Compaction {
                    upto: old.seq,
                    ..Compaction::default()
                });
            }
            let log: Vec<Vec<u8>> = entries(&tx, doc, old.seq, upto)?
                .into_iter()
                .map(|e| e.update)
                .collect();
            (old, log, upto)
        };
        let snapshot_bytes = fold(doc, old.data.as_deref(), &log)?;
        let floor = old.floor.max(upto.saturating_sub(tail));
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(lease) = lease {
            lease::check(&tx, lease)?;
        }
        tx.execute(
            "INSERT INTO snapshots (doc, seq, floor, data, digest) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (doc) DO UPDATE SET seq = excluded.seq, floor = excluded.floor,
                 data = excluded.data, digest = excluded.digest
             WHERE excluded.seq > snapshots.seq",
            params![
                doc.as_str(),
                upto,
                floor,
                snapshot_bytes,
                digest(&snapshot_bytes)
            ],
        )?;
        // The floor stored, not ours: a compaction through another handle may have won.
        let deleted = tx.execute(
            "DELETE FROM updates WHERE doc = ?1
             AND seq <= (SELECT floor FROM snapshots WHERE doc = ?1)",
            [doc.as_str()],
        )?;
        tx.commit()?;
        Ok(Compaction {
            folded: log.len(),
            snapshot_bytes: snapshot_bytes.len(),
            upto,
            deleted,
        })
    }
}

impl Store for SqliteStore {
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        let conn = lock(&self.reader);
        let tx = conn.unchecked_transaction()?;
        let mut tally = Tally::default();
        {
            let mut stmt = tx.prepare("SELECT doc, data, digest FROM snapshots")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let (data, stored): (Vec<u8>, Vec<u8>) = (row.get(1)?, row.get(2)?);
                tally.row(row.get(0)?, "snapshot", &data, &stored)?;
            }
        }
        {
            let mut stmt = tx.prepare("SELECT doc, seq, data, digest FROM updates")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let (data, stored): (Vec<u8>, Vec<u8>) = (row.get(2)?, row.get(3)?);
                tally.row(row.get(0)?, &log_location(row.get(1)?), &data, &stored)?;
            }
        }
        Ok(tally.finish())
    }

    fn load(&self, doc: &DocId) -> Result<StoredDoc, StoreError> {
        let conn = lock(&self.reader);
        let tx = conn.unchecked_transaction()?;
        let head = head(&tx, doc)?;
        let snapshot = snapshot(&tx, doc, true)?;
        let log = entries(&tx, doc, snapshot.seq, head)?;
        Ok(StoredDoc::assemble(snapshot.data, log, head))
    }

    fn append(&self, appends: &[Append]) -> Result<(), StoreError> {
        if appends.is_empty() {
            return Ok(());
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for a in appends {
            append_one(&tx, &a.doc, &a.update)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn append_if_head(
        &self,
        lease: &Lease,
        expected: SeqNo,
        update: &[u8],
    ) -> Result<SeqNo, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seq = append_checked(&tx, lease, expected, update, &mut Judged::default())??;
        tx.commit()?;
        Ok(seq)
    }

    fn append_if_heads(
        &self,
        appends: &[HeadAppend],
    ) -> Result<Vec<Result<SeqNo, StoreError>>, StoreError> {
        if appends.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut judged = Judged::default();
        let out = appends
            .iter()
            .map(|a| {
                let landed = append_checked(&tx, &a.lease, a.expected, &a.update, &mut judged)?;
                if let (Ok(seq), Some(record)) = (&landed, &a.audit) {
                    audit::insert(&tx, &a.lease.doc, Some(*seq), record)?;
                }
                Ok(landed)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        tx.commit()?;
        Ok(out)
    }

    fn read_since(&self, doc: &DocId, since: SeqNo) -> Result<Vec<Entry>, StoreError> {
        let conn = lock(&self.reader);
        let tx = conn.unchecked_transaction()?;
        let head = head(&tx, doc)?;
        let floor = snapshot(&tx, doc, false)?.floor;
        check_since(doc, since, head, floor)?;
        entries(&tx, doc, since, head)
    }

    fn acquire_lease(
        &self,
        doc: &DocId,
        holder: &str,
        ttl: Duration,
        force: bool,
    ) -> Result<Lease, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let lease = lease::acquire(&tx, doc, holder, ttl, force)?;
        tx.commit()?;
        Ok(lease)
    }

    fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        lease::renew(&tx, lease, ttl)?;
        tx.commit()?;
        Ok(())
    }

    fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        lease::release(&conn, lease)
    }

    fn compact(&self, doc: &DocId) -> Result<Compaction, StoreError> {
        self.compact_to(doc, None, None, 0)
    }

    fn compact_leased(
        &self,
        lease: &Lease,
        upto: SeqNo,
        tail: u64,
    ) -> Result<Compaction, StoreError> {
        self.compact_to(&lease.doc, Some(lease), Some(upto), tail)
    }

    fn append_audit(&self, records: &[(DocId, Audit)]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (doc, record) in records {
            audit::insert(&tx, doc, None, record)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn read_audit(&self, doc: &DocId, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        audit::read(&lock(&self.reader), doc, query)
    }

    fn read_accepted(
        &self,
        doc: &DocId,
        after: SeqNo,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        audit::accepted(&lock(&self.reader), doc, after, limit)
    }

    fn prune_audit(&self, before_ms: u64) -> Result<u64, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = audit::prune(&tx, before_ms)?;
        tx.commit()?;
        Ok(deleted)
    }

    fn is_shared(&self) -> bool {
        false
    }

    fn bus(&self) -> Box<dyn super::Bus> {
        Box::new(super::NoBus)
    }

    fn flush(&self) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
