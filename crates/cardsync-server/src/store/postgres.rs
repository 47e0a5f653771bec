//! The shared store: PostgreSQL, for several nodes serving the same documents
//! (docs/design.md §12), through the blocking `postgres` client.
//!
//! # Layout (schema version 3, see `postgres/schema.rs`)
//! ```sql
//! cardsync_schema(version)                                   -- one row
//! cardsync_heads(doc PRIMARY KEY, head)                      -- the last sequence number
//! cardsync_log(doc, seq, data, digest, PRIMARY KEY (doc, seq))
//! cardsync_snapshots(doc PRIMARY KEY, seq, floor, data, digest)
//! cardsync_leases(doc, holder, epoch, expires_at, PRIMARY KEY (doc, holder))
//! cardsync_audit(id BIGSERIAL PRIMARY KEY, doc, at_ms, seq, detail)   -- `postgres/audit.rs`
//! cardsync_audit_cards(doc, card, audit_id)
//! ```
//! The same shape as SQLite's format 4, so that both stores keep one contract with one
//! meaning: a snapshot covers the entries up to its `seq`, rows up to its `floor` are deleted,
//! and the head moves in the transaction that inserts its row.
//!
//! # Compare-and-append in one statement
//! [`Store::append_if_head`] locks the lease row `FOR SHARE` (the fence), then moves the head
//! with `UPDATE … SET head = head + 1 WHERE head = $expected` (or, for a document's first
//! entry, `INSERT … ON CONFLICT DO NOTHING`). Two nodes racing for the same head serialise on
//! the head row (or its key): the second one's `WHERE` is evaluated again against the committed
//! winner and matches nothing, so it gets
//! [`StoreError::HeadMoved`] and writes nothing. The log row is inserted in the same
//! transaction, and the call returns after `COMMIT`, with `synchronous_commit` at least `on`,
//! so an ack sent on it is as durable as one after SQLite's fsync.
//!
//! # Connections
//! Four connections, one per role, as the SQLite store has a writer and a reader: the writer
//! (appends), the leaser (acquiring, renewing and releasing leases), the reader (loads, catch-up
//! reads, verification) and the compactor, so that a compaction's long read or a load never
//! waits behind a commit. Leases have their own connection because a renewal is due on time:
//! on the writer it queued behind every group commit in flight, and under a saturating load a
//! node missed its renewals and was fenced although it was healthy. On its own connection a
//! renewal waits at most for the append transactions that hold its lease row `FOR SHARE` at
//! that moment (`postgres/lease.rs`). Reads run in
//! `REPEATABLE READ` read-only transactions: one consistent view per call. A connection that
//! died (the database restarted) is discarded and opened again on the next call; a read is tried
//! once more at once, a write returns its error, which the persist pipeline treats as any failed
//! write (the room closes its peers, who resend what was not acked).
//!
//! # Why blocking, and the one trap
//! The `postgres` client wraps `tokio-postgres` with a small runtime per connection, and must
//! therefore never run, or be dropped, on an async worker thread. Every store call already runs
//! on the writer or compactor thread or in `spawn_blocking`; dropping the store moves the
//! connections to a thread of their own when it happens inside a runtime.

mod audit;
mod bigint;
mod lease;
pub(crate) mod notify;
mod schema;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, Config, IsolationLevel, NoTls, Transaction};

use bigint::{from_db, to_db};

use super::fold::fold;
use super::judged::Judged;
use super::read::{SnapshotRow, check_since};
use super::verify::{Tally, check_contiguous, check_row, digest, log_location};
use super::{
    Append, Audit, AuditQuery, AuditRecord, Compaction, DocId, Entry, HeadAppend, Lease, SeqNo,
    Store, StoreError, StoredDoc, VerifyReport,
};

/// How long a connection attempt may take when the URL does not say
/// (`connect_timeout=` in the URL overrides it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Rows read per round trip by [`Store::verify`].
const VERIFY_BATCH: i32 = 256;

/// A [`Store`] in a PostgreSQL database. See the module docs of `store/postgres.rs`.
pub struct PostgresStore {
    config: Config,
    /// Where the database is, for messages: never the password.
    target: String,
    writer: Mutex<Option<Client>>,
    leaser: Mutex<Option<Client>>,
    reader: Mutex<Option<Client>>,
    compactor: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Host, port, database and user of `config`, for messages.
fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "host {} port {} database {} user {}",
        if hosts.is_empty() {
            "localhost".into()
        } else {
            hosts.join(",")
        },
        if ports.is_empty() {
            "5432".into()
        } else {
            ports.join(",")
        },
        config.get_dbname().unwrap_or("(default)"),
        config.get_user().unwrap_or("(default)"),
    )
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`),
    /// creates or migrates the schema, and opens the store's connections. A URL that does not
    /// parse is [`StoreError::BadUrl`], a database that cannot be reached
    /// [`StoreError::Unreachable`], a schema of a newer cardsync [`StoreError::NewerSchema`].
    /// Blocking: call it outside any async runtime (or in `spawn_blocking`).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::BadUrl {
                reason: "a PostgreSQL store URL starts with postgres:// or postgresql://".into(),
            });
        }
        let mut config: Config = url
            .parse()
            .map_err(|e: postgres::Error| StoreError::BadUrl {
                reason: e.to_string(),
            })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("cardsync-server");
        let target = describe(&config);
        let store = Self {
            config,
            target,
            writer: Mutex::new(None),
            leaser: Mutex::new(None),
            reader: Mutex::new(None),
            compactor: Mutex::new(None),
        };
        store.with(&store.writer, schema::migrate)?;
        store.with(&store.leaser, |_| Ok(()))?;
        store.with(&store.reader, |_| Ok(()))?;
        store.with(&store.compactor, |_| Ok(()))?;
        Ok(store)
    }

    /// Where the store is (host, port, database, user; never the password).
    pub fn target(&self) -> &str {
        &self.target
    }

    fn open(&self) -> Result<Client, StoreError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|source| StoreError::Unreachable {
                target: self.target.clone(),
                source,
            })?;
        // An ack promises durability: never run with the commit record unflushed.
        let level: String = client.query_one("SHOW synchronous_commit", &[])?.get(0);
        if level == "off" {
            client.batch_execute("SET synchronous_commit = on")?;
        }
        Ok(client)
    }

    /// Runs `f` on the connection in `slot`, opening it first if it is missing or closed.
    fn with<T>(
        &self,
        slot: &Mutex<Option<Client>>,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.attempt(slot, f).0
    }

    /// [`Self::with`], also telling whether the call failed because the connection died (the
    /// database restarted, the network dropped); the dead connection is discarded then, so the
    /// next call opens a new one.
    fn attempt<T>(
        &self,
        slot: &Mutex<Option<Client>>,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> (Result<T, StoreError>, bool) {
        let mut guard: MutexGuard<'_, Option<Client>> =
            slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let client = match guard.take() {
            Some(client) if !client.is_closed() => client,
            _ => match self.open() {
                Ok(client) => client,
                Err(e) => return (Err(e), false),
            },
        };
        let result = f(guard.insert(client));
        let died = result.is_err() && guard.as_ref().is_some_and(Client::is_closed);
        if died {
            *guard = None;
        }
        (result, died)
    }

    /// A read on the reader connection, tried once more on a new connection when the old one
    /// turns out dead: a read has no effect to repeat. (Writes are not repeated: whether a
    /// commit whose answer was lost took effect is unknown, and the persist pipeline fails the
    /// batch instead, which the client resends.)
    fn read<T>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.attempt(&self.reader, &mut f) {
            (Err(_), true) => self.with(&self.reader, f),
            (result, _) => result,
        }
    }

    fn compact_to(
        &self,
        doc: &DocId,
        lease: Option<&Lease>,
        upto: Option<SeqNo>,
        tail: u64,
    ) -> Result<Compaction, StoreError> {
        self.with(&self.compactor, |client| {
            let (old, log, upto) = {
                let mut tx = read_only(client)?;
                let head = head(&mut tx, doc)?;
                let upto = upto.unwrap_or(head);
                if upto > head {
                    return Err(StoreError::AheadOfHead {
                        doc: doc.to_string(),
                        seq: upto,
                        head,
                    });
                }
                let old = snapshot(&mut tx, doc, true)?;
                if upto <= old.seq {
                    return Ok(Compaction {
                        upto: old.seq,
                        ..Compaction::default()
                    });
                }
                let log: Vec<Vec<u8>> = entries(&mut tx, doc, old.seq, upto)?
                    .into_iter()
                    .map(|e| e.update)
                    .collect();
                tx.commit()?;
                (old, log, upto)
            };
            let snapshot_bytes = fold(doc, old.data.as_deref(), &log)?;
            let floor = old.floor.max(upto.saturating_sub(tail));
            let mut tx = client.transaction()?;
            if let Some(lease) = lease {
                lease::check(&mut tx, lease)?;
            }
            tx.execute(
                "INSERT INTO cardsync_snapshots (doc, seq, floor, data, digest)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (doc) DO UPDATE SET seq = excluded.seq, floor = excluded.floor,
                     data = excluded.data, digest = excluded.digest
                 WHERE excluded.seq > cardsync_snapshots.seq",
                &[
                    &doc.as_str(),
                    &to_db(upto),
                    &to_db(floor),
                    &snapshot_bytes,
                    &digest(&snapshot_bytes),
                ],
            )?;
            // The floor stored, not ours: a compaction by another node may have won.
            let deleted = tx.execute(
                "DELETE FROM cardsync_log WHERE doc = $1
                 AND seq <= (SELECT floor FROM cardsync_snapshots WHERE doc = $1)",
                &[&doc.as_str()],
            )?;
            tx.commit()?;
            Ok(Compaction {
                folded: log.len(),
                snapshot_bytes: snapshot_bytes.len(),
                upto,
                deleted: usize::try_from(deleted).unwrap_or(usize::MAX),
            })
        })
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        let clients: Vec<Option<Client>> =
            [&self.writer, &self.leaser, &self.reader, &self.compactor]
                .into_iter()
                .map(|slot| {
                    slot.lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .take()
                })
                .collect();
        // Closing a client blocks on its own runtime, which tokio forbids on an async thread.
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop(clients)).join();
        } else {
            drop(clients);
        }
    }
}

fn read_only(client: &mut Client) -> Result<Transaction<'_>, StoreError> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?)
}

fn head(tx: &mut Transaction<'_>, doc: &DocId) -> Result<SeqNo, StoreError> {
    let row = tx.query_opt(
        "SELECT head FROM cardsync_heads WHERE doc = $1",
        &[&doc.as_str()],
    )?;
    Ok(row.map_or(0, |r| from_db(r.get(0))))
}

fn snapshot(
    tx: &mut Transaction<'_>,
    doc: &DocId,
    with_data: bool,
) -> Result<SnapshotRow, StoreError> {
    let sql = if with_data {
        "SELECT seq, floor, data, digest FROM cardsync_snapshots WHERE doc = $1"
    } else {
        "SELECT seq, floor FROM cardsync_snapshots WHERE doc = $1"
    };
    let Some(row) = tx.query_opt(sql, &[&doc.as_str()])? else {
        return Ok(SnapshotRow::default());
    };
    let (seq, floor) = (from_db(row.get(0)), from_db(row.get(1)));
    if !with_data {
        return Ok(SnapshotRow {
            data: None,
            seq,
            floor,
        });
    }
    let (data, stored): (Vec<u8>, Vec<u8>) = (row.get(2), row.get(3));
    check_row(doc.as_str(), "snapshot", &data, &stored)?;
    Ok(SnapshotRow {
        data: Some(data),
        seq,
        floor,
    })
}

fn entries(
    tx: &mut Transaction<'_>,
    doc: &DocId,
    after: SeqNo,
    upto: SeqNo,
) -> Result<Vec<Entry>, StoreError> {
    let rows = tx.query(
        "SELECT seq, data, digest FROM cardsync_log
         WHERE doc = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
        &[&doc.as_str(), &to_db(after), &to_db(upto)],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let seq = from_db(row.get(0));
        let (update, stored): (Vec<u8>, Vec<u8>) = (row.get(1), row.get(2));
        check_row(doc.as_str(), &log_location(seq), &update, &stored)?;
        out.push(Entry { seq, update });
    }
    check_contiguous(doc.as_str(), after, out.iter().map(|e| e.seq), upto)?;
    Ok(out)
}

fn insert_log(
    tx: &mut Transaction<'_>,
    doc: &DocId,
    seq: SeqNo,
    update: &[u8],
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO cardsync_log (doc, seq, data, digest) VALUES ($1, $2, $3, $4)",
        &[&doc.as_str(), &to_db(seq), &update, &digest(update)],
    )?;
    Ok(())
}

impl Judged<'_> {
    /// Sends one `pg_notify` per document appended to, with its new head. PostgreSQL delivers
    /// notifications only when (and if) the transaction commits, so no node hears of a head
    /// that is not durable.
    fn announce(&self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        for (doc, head) in &self.heads {
            tx.execute(
                "SELECT pg_notify($1, $2)",
                &[&notify::CHANNEL, &notify::payload(doc, *head)],
            )?;
        }
        Ok(())
    }
}

/// One compare-and-append inside `tx`: the outer `Err` is a failure (abort the transaction),
/// the inner one a refusal (nothing written, carry on).
fn append_checked<'a>(
    tx: &mut Transaction<'_>,
    lease: &'a Lease,
    expected: SeqNo,
    update: &[u8],
    judged: &mut Judged<'a>,
) -> Result<Result<SeqNo, StoreError>, StoreError> {
    let doc = lease.doc.as_str();
    if let Err(refusal) = judged.lease(lease, || lease::check(tx, lease))? {
        return Ok(Err(refusal));
    }
    let moved = if judged.refused(doc) {
        None
    } else if expected == 0 {
        // The head row exists from the first entry on; an empty log has none.
        tx.query_opt(
            "INSERT INTO cardsync_heads (doc, head) VALUES ($1, 1)
             ON CONFLICT (doc) DO NOTHING RETURNING head",
            &[&doc],
        )?
    } else {
        tx.query_opt(
            "UPDATE cardsync_heads SET head = head + 1 WHERE doc = $1 AND head = $2
             RETURNING head",
            &[&doc, &to_db(expected)],
        )?
    };
    let Some(row) = moved else {
        let head = head(tx, &lease.doc)?;
        return Ok(Err(judged.moved(lease, expected, head)));
    };
    let seq = from_db(row.get(0));
    insert_log(tx, &lease.doc, seq, update)?;
    judged.appended(&lease.doc, seq);
    Ok(Ok(seq))
}

/// Reads every row of `sql` (doc, location, data, digest columns as the caller maps them) in
/// batches, checking each.
fn verify_rows(
    tx: &mut Transaction<'_>,
    sql: &str,
    tally: &mut Tally,
    location: impl Fn(&postgres::Row) -> String,
) -> Result<(), StoreError> {
    let portal = tx.bind(sql, &[])?;
    loop {
        let rows = tx.query_portal(&portal, VERIFY_BATCH)?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            let (data, stored): (Vec<u8>, Vec<u8>) = (row.get("data"), row.get("digest"));
            tally.row(row.get("doc"), &location(row), &data, &stored)?;
        }
    }
}

impl Store for PostgresStore {
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.read(|client| {
            let mut tx = read_only(client)?;
            let mut tally = Tally::default();
            verify_rows(
                &mut tx,
                "SELECT doc, data, digest FROM cardsync_snapshots",
                &mut tally,
                |_| "snapshot".into(),
            )?;
            verify_rows(
                &mut tx,
                "SELECT doc, seq, data, digest FROM cardsync_log",
                &mut tally,
                |row| log_location(from_db(row.get("seq"))),
            )?;
            tx.commit()?;
            Ok(tally.finish())
        })
    }

    fn load(&self, doc: &DocId) -> Result<StoredDoc, StoreError> {
        self.read(|client| {
            let mut tx = read_only(client)?;
            let head = head(&mut tx, doc)?;
            let snapshot = snapshot(&mut tx, doc, true)?;
            let log = entries(&mut tx, doc, snapshot.seq, head)?;
            tx.commit()?;
            Ok(StoredDoc::assemble(snapshot.data, log, head))
        })
    }

    fn append(&self, appends: &[Append]) -> Result<(), StoreError> {
        if appends.is_empty() {
            return Ok(());
        }
        self.with(&self.writer, |client| {
            let mut tx = client.transaction()?;
            let next = tx.prepare(
                "INSERT INTO cardsync_heads (doc, head) VALUES ($1, 1)
                 ON CONFLICT (doc) DO UPDATE SET head = cardsync_heads.head + 1 RETURNING head",
            )?;
            for a in appends {
                let seq = from_db(tx.query_one(&next, &[&a.doc.as_str()])?.get(0));
                insert_log(&mut tx, &a.doc, seq, &a.update)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn append_if_head(
        &self,
        lease: &Lease,
        expected: SeqNo,
        update: &[u8],
    ) -> Result<SeqNo, StoreError> {
        self.with(&self.writer, |client| {
            let mut tx = client.transaction()?;
            let mut judged = Judged::default();
            let seq = append_checked(&mut tx, lease, expected, update, &mut judged)??;
            judged.announce(&mut tx)?;
            tx.commit()?;
            Ok(seq)
        })
    }

    fn append_if_heads(
        &self,
        appends: &[HeadAppend],
    ) -> Result<Vec<Result<SeqNo, StoreError>>, StoreError> {
        if appends.is_empty() {
            return Ok(Vec::new());
        }
        // Rows are locked in document order, whatever order the appends came in: two nodes'
        // group commits touching the same documents then wait for each other instead of
        // deadlocking (each held one head row the other wanted, and PostgreSQL aborted one
        // transaction: measured as `deadlocks` in `tests/load_nodes.rs`). The sort is stable,
        // so one document's appends keep their order.
        let mut order: Vec<usize> = (0..appends.len()).collect();
        order.sort_by(|&a, &b| appends[a].lease.doc.cmp(&appends[b].lease.doc));
        self.with(&self.writer, |client| {
            let mut tx = client.transaction()?;
            let mut judged = Judged::default();
            let mut out = Vec::with_capacity(appends.len());
            for &i in &order {
                let a = &appends[i];
                let result = append_checked(&mut tx, &a.lease, a.expected, &a.update, &mut judged)?;
                if let (Ok(seq), Some(record)) = (&result, &a.audit) {
                    audit::insert(&mut tx, &a.lease.doc, Some(*seq), record)?;
                }
                out.push((i, result));
            }
            judged.announce(&mut tx)?;
            tx.commit()?;
            out.sort_by_key(|(i, _)| *i);
            Ok(out.into_iter().map(|(_, result)| result).collect())
        })
    }

    fn read_since(&self, doc: &DocId, since: SeqNo) -> Result<Vec<Entry>, StoreError> {
        self.read(|client| {
            let mut tx = read_only(client)?;
            let head = head(&mut tx, doc)?;
            let floor = snapshot(&mut tx, doc, false)?.floor;
            check_since(doc, since, head, floor)?;
            let out = entries(&mut tx, doc, since, head)?;
            tx.commit()?;
            Ok(out)
        })
    }

    fn acquire_lease(
        &self,
        doc: &DocId,
        holder: &str,
        ttl: Duration,
        force: bool,
    ) -> Result<Lease, StoreError> {
        self.with(&self.leaser, |client| {
            let mut tx = client.transaction()?;
            let lease = lease::acquire(&mut tx, doc, holder, ttl, force)?;
            tx.commit()?;
            Ok(lease)
        })
    }

    fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<(), StoreError> {
        self.with(&self.leaser, |client| {
            let mut tx = client.transaction()?;
            lease::renew(&mut tx, lease, ttl)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        self.with(&self.leaser, |client| {
            let mut tx = client.transaction()?;
            lease::release(&mut tx, lease)?;
            tx.commit()?;
            Ok(())
        })
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
        self.with(&self.writer, |client| {
            let mut tx = client.transaction()?;
            for (doc, record) in records {
                audit::insert(&mut tx, doc, None, record)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn read_audit(&self, doc: &DocId, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(|client| audit::read(client, doc, query))
    }

    fn read_accepted(
        &self,
        doc: &DocId,
        after: SeqNo,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.read(|client| audit::accepted(client, doc, after, limit))
    }

    fn prune_audit(&self, before_ms: u64) -> Result<u64, StoreError> {
        self.with(&self.writer, |client| {
            let mut tx = client.transaction()?;
            let deleted = audit::prune(&mut tx, before_ms)?;
            tx.commit()?;
            Ok(deleted)
        })
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn bus(&self) -> Box<dyn super::Bus> {
        Box::new(notify::PgBus::new(self.config.clone(), self.target.clone()))
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
