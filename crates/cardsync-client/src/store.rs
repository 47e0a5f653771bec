//! The client's durable state in one SQLite file: the outbox and the confirmed state.
//!
//! The session never does I/O; it issues [`PersistOp`]s in order and sends a batch only once
//! the driver confirms it is durable. This store carries the ops out, one SQLite transaction
//! each, in WAL mode with `synchronous = FULL`: a client may tell its user "saved" once a
//! batch is durable here, and that must survive the laptop's battery running out too.
//!
//! ```sql
//! outbox(pos INTEGER PRIMARY KEY AUTOINCREMENT, client, seq, meta TEXT, data BLOB)
//! confirmed(id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB)
//! retired(pos INTEGER PRIMARY KEY AUTOINCREMENT, client UNIQUE)
//! ```
//! `meta` is the batch as JSON without its update (ops, stamp, clock range); the update sits
//! beside it as a blob, so the bulk of the bytes is not inflated by JSON.

use std::path::Path;

use cardsync_sync::outbox::{Batch, OutboxStore, PersistOp, Persisted};
use rusqlite::{Connection, Transaction, params};
use thiserror::Error;

/// The client's outbox store ([`SqliteOutboxStore`]) refused to open, read or write. (The
/// server's document store has its own `cardsync_server::store::StoreError`.)
#[derive(Debug, Error)]
pub enum OutboxStoreError {
    /// SQLite failed (I/O, a damaged or foreign file).
    #[error("client store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored batch's metadata does not parse.
    #[error("client store holds a damaged batch at position {pos}: {source}")]
    Batch {
        /// Row.
        pos: i64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// `PRAGMA quick_check` found damage.
    #[error("client store is corrupt: {0}")]
    Corrupt(String),
}

/// An [`OutboxStore`] in a SQLite file.
#[derive(Debug)]
pub struct SqliteOutboxStore {
    conn: Connection,
}

impl SqliteOutboxStore {
    /// Opens or creates the store at `path` and checks its integrity.
    pub fn open(path: &Path) -> Result<Self, OutboxStoreError> {
        let conn = Connection::open(path)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(OutboxStoreError::Corrupt(check));
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS outbox (
                 pos INTEGER PRIMARY KEY AUTOINCREMENT, client INTEGER NOT NULL,
                 seq INTEGER NOT NULL, meta TEXT NOT NULL, data BLOB NOT NULL) STRICT;
             CREATE TABLE IF NOT EXISTS confirmed (
                 id INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL) STRICT;
             CREATE TABLE IF NOT EXISTS retired (
                 pos INTEGER PRIMARY KEY AUTOINCREMENT,
                 client INTEGER NOT NULL UNIQUE) STRICT;",
        )?;
        Ok(Self { conn })
    }
}

fn put(tx: &Transaction<'_>, batch: &Batch) -> Result<(), OutboxStoreError> {
    let meta = batch.meta_json();
    tx.execute(
        "INSERT INTO outbox (client, seq, meta, data) VALUES (?1, ?2, ?3, ?4)",
        params![
            batch.id.client as i64,
            batch.id.seq as i64,
            meta,
            &batch.update[..]
        ],
    )?;
    Ok(())
}

impl OutboxStore for SqliteOutboxStore {
    type Error = OutboxStoreError;

    fn load(&mut self) -> Result<Persisted, OutboxStoreError> {
        let mut state = Persisted::default();
        let mut stmt = self
            .conn
            .prepare("SELECT data FROM confirmed ORDER BY id")?;
        state.confirmed = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<Result<_, _>>()?;
        let mut stmt = self
            .conn
            .prepare("SELECT client FROM retired ORDER BY pos")?;
        state.retired = stmt
            .query_map([], |r| r.get::<_, i64>(0).map(|c| c as u64))?
            .collect::<Result<_, _>>()?;
        let mut stmt = self
            .conn
            .prepare("SELECT pos, meta, data FROM outbox ORDER BY pos")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let pos: i64 = row.get(0)?;
            let meta: String = row.get(1)?;
            let batch = Batch::from_meta_json(&meta, row.get::<_, Vec<u8>>(2)?)
                .map_err(|source| OutboxStoreError::Batch { pos, source })?;
            state.outbox.push(batch);
        }
        Ok(state)
    }

    fn persist(&mut self, op: &PersistOp) -> Result<(), OutboxStoreError> {
        let tx = self.conn.transaction()?;
        match op {
            PersistOp::PutBatch(batch) => put(&tx, batch)?,
            PersistOp::ReplaceLast(batch) => {
                tx.execute(
                    "DELETE FROM outbox WHERE pos = (SELECT MAX(pos) FROM outbox)",
                    [],
                )?;
                put(&tx, batch)?;
            }
            PersistOp::RemoveBatches(ids) => {
                let mut stmt = tx.prepare("DELETE FROM outbox WHERE client = ?1 AND seq = ?2")?;
                for id in ids {
                    stmt.execute(params![id.client as i64, id.seq as i64])?;
                }
            }
            PersistOp::ReplaceAll(batches) => {
                tx.execute("DELETE FROM outbox", [])?;
                for batch in batches {
                    put(&tx, batch)?;
                }
            }
            PersistOp::AppendConfirmed(update) => {
                tx.execute("INSERT INTO confirmed (data) VALUES (?1)", [update])?;
            }
            PersistOp::CompactConfirmed(snapshot) => {
                tx.execute("DELETE FROM confirmed", [])?;
                tx.execute("INSERT INTO confirmed (data) VALUES (?1)", [snapshot])?;
            }
            PersistOp::RetireClients(ids) => {
                let mut stmt = tx.prepare("INSERT OR IGNORE INTO retired (client) VALUES (?1)")?;
                for id in ids {
                    stmt.execute([*id as i64])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cardsync_core::Stamp;
    use cardsync_sync::outbox::{MemoryStore, apply};
    use cardsync_sync::protocol::BatchId;

    fn batch(seq: u64) -> Batch {
        Batch {
            id: BatchId { client: 9, seq },
            stamp: Stamp::new(seq, "t"),
            ops: Vec::new(),
            update: vec![seq as u8; 3].into(),
            clock: 0..1,
            created_at: seq,
            parts: Vec::new(),
            rejected: None,
        }
    }

    #[test]
    fn every_op_survives_a_reopen_like_the_memory_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let ops = [
            PersistOp::PutBatch(batch(0)),
            PersistOp::PutBatch(batch(1)),
            PersistOp::ReplaceLast(batch(2)),
            PersistOp::PutBatch(batch(3)),
            PersistOp::RemoveBatches(vec![batch(0).id]),
            PersistOp::AppendConfirmed(vec![1, 2]),
            PersistOp::AppendConfirmed(vec![3]),
            PersistOp::CompactConfirmed(vec![4]),
            PersistOp::AppendConfirmed(vec![5]),
            PersistOp::ReplaceAll(vec![batch(5), batch(6)]),
            PersistOp::RetireClients(vec![9, 4]),
            PersistOp::PutBatch(batch(7)),
            PersistOp::RetireClients(vec![4, 11]),
        ];
        let mut expected = Persisted::default();
        {
            let mut store = SqliteOutboxStore::open(&path).unwrap();
            for op in &ops {
                store.persist(op).unwrap();
                apply(&mut expected, op);
            }
        }
        let mut memory = MemoryStore::default();
        for op in &ops {
            memory.persist(op).unwrap();
        }
        let loaded = SqliteOutboxStore::open(&path).unwrap().load().unwrap();
        assert_eq!(loaded, expected);
        assert_eq!(&loaded, memory.state());
    }
}
