//! The persist pipeline: one writer thread with group commit, one compactor thread.
//!
//! # Why a dedicated writer thread
//! SQLite has one writer at a time, and with `synchronous = FULL` each commit costs an fsync
//! (milliseconds on real disks). Rooms therefore never write themselves: they hand every
//! [`RoomAction::Persist`](cardsync_sync::room::RoomAction) to this thread and carry on.
//! The thread takes everything waiting in its queue at that moment (up to [`MAX_GROUP`]) and
//! commits it in **one** transaction, then tells each room which of its persist tokens are
//! durable. Under load, hundreds of batches from many rooms share one fsync; when idle, a lone
//! batch is committed at once. The blocking work stays off the async runtime entirely.
//!
//! Every append is a compare-and-append ([`Store::append_if_heads`]): it carries the room's
//! lease and the head its batch was validated against, so the same pipeline serves one node
//! on SQLite and several nodes on one PostgreSQL (docs/design.md §12). The group is still one
//! transaction; each append in it gets its own verdict.
//!
//! # Ordering and failure
//! Appends are committed in the order rooms issued them, and a room's tokens are confirmed in
//! order, which is what `Room::handle_persisted` expects. Two ways an append does not land:
//! - **Refused** (the head moved, or the lease is fenced): nothing was written. The room's
//!   later appends of the same *chain* were validated on top of it, so they are refused too
//!   ([`StoreError::EarlierWriteFailed`]), whether in the same transaction (the store does it)
//!   or a later one (the writer does it, remembering the refused chain per room generation).
//!   The room rebuilds from the store and judges those batches again under a new chain.
//! - **Unavailable** (the database cannot be reached: down, restarting, connection lost): the
//!   writer tries the same group again with backoff (100 ms doubling to 5 s) for up to
//!   [`RETRY_FOR`], logging once when it starts and once when the store is back, with the state
//!   in `/metrics` (`store_available`). No ack leaves meanwhile, and rooms stop reading when
//!   their unconfirmed persists pile up, so the clients keep their outboxes. Trying a
//!   compare-and-append again is safe even when the lost answer hid a commit: the second try
//!   finds the head moved (by itself), and the room's rebuild finds the batch already held and
//!   acks it.
//! - **Failed** (the transaction failed): every append in it failed, and the room
//!   *generations* involved are poisoned: later appends from the same room instance fail at
//!   once instead of landing after a gap. The room closes its peers and unloads; the next
//!   connection reloads the document from what is durable, and clients resend what was never
//!   acked.
//!
//! # Audit records and the change feed
//! An accepted batch's audit record rides on its append and is written in the same
//! transaction (`store/audit.rs`). Rejections' records come as [`Persister::audit`] jobs and
//! are written after the group they arrived with, in one transaction of their own, never
//! before a commit that acks; a flush (shutdown) writes them before the store is flushed. After
//! each commit the writer announces every landed append on the change channel
//! (`changes.rs`), which never blocks it.
//!
//! # Compaction
//! Folding a log into a snapshot decodes the whole document, so it runs on its own thread,
//! never delaying a commit. The store makes it safe against appends that land meanwhile. It
//! runs under the room's lease and keeps a tail of [`COMPACT_TAIL`] entries, so that another
//! node a little behind catches up from the log instead of reloading the document.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cardsync_sync::room::PersistToken;
use tokio::sync::{mpsc as tokio_mpsc, oneshot};

use crate::changes::{Change, ChangeSender};
use crate::metrics::Metrics;
use crate::store::{Audit, Bus, DocId, HeadAppend, Lease, SeqNo, Store, StoreError};

/// Most appends committed in one transaction.
pub const MAX_GROUP: usize = 1024;

/// How long the writer keeps trying a group while the store is unavailable, before failing it.
pub const RETRY_FOR: Duration = Duration::from_secs(60);

/// First and longest wait between tries while the store is unavailable.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// Log entries a compaction keeps below the snapshot, for nodes catching up.
pub const COMPACT_TAIL: u64 = 256;

/// How one of a room's persists ended: durable, or failed. (Not `cardsync_sync`'s
/// `outbox::Persisted`, which is a client's stored state.)
#[derive(Debug)]
pub(crate) struct PersistOutcome {
    pub token: PersistToken,
    /// The entry's sequence number, or why it did not land.
    pub result: Result<SeqNo, Arc<StoreError>>,
}

/// Who asks for an append: a room instance (its generation) and its chain of appends, which
/// the room starts anew after each rebuild.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chain {
    pub generation: u64,
    pub chain: u64,
}

enum Job {
    Append {
        from: Chain,
        append: HeadAppend,
        token: PersistToken,
        done: tokio_mpsc::UnboundedSender<PersistOutcome>,
    },
    /// Audit records of rejected batches (no log entry): written after the group.
    Audit(Vec<(DocId, Audit)>),
    Flush(oneshot::Sender<Result<(), StoreError>>),
}

/// The handle rooms use to persist. Cloning is cheap.
#[derive(Clone)]
pub(crate) struct Persister {
    jobs: mpsc::Sender<Job>,
    compactions: mpsc::Sender<(Lease, SeqNo)>,
    changes: ChangeSender,
}

/// The threads behind a [`Persister`], to stop at shutdown.
pub(crate) struct PersistThreads {
    writer: JoinHandle<()>,
    compactor: JoinHandle<()>,
}

impl Persister {
    /// Starts the writer and compactor threads on `store`; the change channel keeps the last
    /// `feed_buffer` commits for the change feed's readers.
    pub fn start(
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        feed_buffer: usize,
    ) -> (Self, PersistThreads) {
        let (jobs, job_rx) = mpsc::channel();
        let (compactions, compact_rx) = mpsc::channel();
        let changes = crate::changes::channel(feed_buffer);
        let writer = {
            let store = Arc::clone(&store);
            let metrics = Arc::clone(&metrics);
            let changes = changes.clone();
            std::thread::Builder::new()
                .name("cardsync-writer".into())
                .spawn(move || write_loop(&*store, &metrics, &changes, &job_rx))
                .expect("cannot spawn the store writer thread")
        };
        let compactor = std::thread::Builder::new()
            .name("cardsync-compactor".into())
            .spawn(move || compact_loop(&*store, &metrics, &compact_rx))
            .expect("cannot spawn the store compactor thread");
        (
            Self {
                jobs,
                compactions,
                changes,
            },
            PersistThreads { writer, compactor },
        )
    }

    /// Queues an append; the outcome arrives on `done`.
    pub fn append(
        &self,
        from: Chain,
        append: HeadAppend,
        token: PersistToken,
        done: &tokio_mpsc::UnboundedSender<PersistOutcome>,
    ) {
        let job = Job::Append {
            from,
            append,
            token,
            done: done.clone(),
        };
        if let Err(mpsc::SendError(Job::Append { token, done, .. })) = self.jobs.send(job) {
            let result = Err(Arc::new(StoreError::Stopped));
            let _ = done.send(PersistOutcome { token, result });
        }
    }

    /// Queues the audit records of rejected batches; written after the next group commit.
    pub fn audit(&self, records: Vec<(DocId, Audit)>) {
        if self.jobs.send(Job::Audit(records)).is_err() {
            tracing::error!("audit records lost: the store writer has stopped");
        }
    }

    /// A new reader of the change channel (`changes.rs`): every commit from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<Change>> {
        self.changes.subscribe()
    }

    /// Asks for a compaction of the lease's document up to `upto`, in the background.
    pub fn compact(&self, lease: Lease, upto: SeqNo) {
        let _ = self.compactions.send((lease, upto));
    }

    /// Waits until everything queued before is committed, then flushes the store.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        if self.jobs.send(Job::Flush(tx)).is_err() {
            return Err(StoreError::Stopped);
        }
        rx.await.unwrap_or(Err(StoreError::Stopped))
    }
}

impl PersistThreads {
    /// Waits for both threads to finish (every [`Persister`] clone must be dropped first).
    pub fn join(self) {
        for (name, handle) in [("writer", self.writer), ("compactor", self.compactor)] {
            if handle.join().is_err() {
                tracing::error!(thread = name, "store thread panicked");
            }
        }
    }
}

struct Waiting {
    from: Chain,
    token: PersistToken,
    done: tokio_mpsc::UnboundedSender<PersistOutcome>,
}

/// What the writer remembers between groups.
#[derive(Default)]
struct Memory {
    /// Room generations whose transaction failed: their later appends fail at once.
    poisoned: HashSet<u64>,
    /// Per room generation, the last chain with a refused append: later appends of that
    /// chain (or an older one) are refused at once.
    refused: HashMap<u64, u64>,
}

impl Memory {
    fn refusal(&self, from: Chain) -> Option<StoreError> {
        if self.poisoned.contains(&from.generation) {
            return Some(StoreError::EarlierWriteFailed);
        }
        (self.refused.get(&from.generation) >= Some(&from.chain))
            .then_some(StoreError::EarlierWriteFailed)
    }
}

fn write_loop(
    store: &dyn Store,
    metrics: &Metrics,
    changes: &ChangeSender,
    jobs: &mpsc::Receiver<Job>,
) {
    let mut memory = Memory::default();
    let bus = store.bus();
    let mut rejected = Vec::new();
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (mut appends, mut waiting) = (Vec::new(), Vec::new());
        for job in group {
            match job {
                Job::Append {
                    from,
                    append,
                    token,
                    done,
                } => {
                    if let Some(e) = memory.refusal(from) {
                        let result = Err(Arc::new(e));
                        let _ = done.send(PersistOutcome { token, result });
                        continue;
                    }
                    appends.push(append);
                    waiting.push(Waiting { from, token, done });
                }
                Job::Audit(records) => rejected.extend(records),
                Job::Flush(reply) => {
                    commit(
                        store,
                        &*bus,
                        metrics,
                        changes,
                        &mut memory,
                        &mut appends,
                        &mut waiting,
                    );
                    write_audit(store, &mut rejected);
                    let _ = reply.send(store.flush());
                }
            }
        }
        commit(
            store,
            &*bus,
            metrics,
            changes,
            &mut memory,
            &mut appends,
            &mut waiting,
        );
        write_audit(store, &mut rejected);
    }
}

/// Writes the rejections' audit records, after the commit that acks (never before it).
fn write_audit(store: &dyn Store, records: &mut Vec<(DocId, Audit)>) {
    if records.is_empty() {
        return;
    }
    if let Err(e) = store.append_audit(records) {
        tracing::error!(error = %e, records = records.len(), "cannot write audit records of rejected batches");
    }
    records.clear();
}

fn commit(
    store: &dyn Store,
    bus: &dyn Bus,
    metrics: &Metrics,
    changes: &ChangeSender,
    memory: &mut Memory,
    appends: &mut Vec<HeadAppend>,
    waiting: &mut Vec<Waiting>,
) {
    if appends.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let appended = append_retrying(store, metrics, appends);
    metrics.store_latency(started.elapsed());
    let results: Vec<Result<SeqNo, Arc<StoreError>>> = match appended {
        Ok(results) => {
            let landed = results.iter().filter(|r| r.is_ok()).count();
            metrics.persisted(landed as u64);
            results.into_iter().map(|r| r.map_err(Arc::new)).collect()
        }
        Err(e) => {
            metrics.persist_failed();
            tracing::error!(error = %e, appends = appends.len(), "store append failed");
            memory
                .poisoned
                .extend(waiting.iter().map(|w| w.from.generation));
            let e = Arc::new(e);
            waiting.iter().map(|_| Err(Arc::clone(&e))).collect()
        }
    };
    for (a, result) in appends.drain(..).zip(&results) {
        if let Ok(head) = result {
            bus.notify(&a.lease.doc, *head);
            // No reader, or only lagging ones: the change is dropped, the writer never waits.
            let _ = changes.send(Arc::new(Change {
                doc: a.lease.doc,
                seq: *head,
                update: a.update,
                audit: a.audit,
            }));
        }
    }
    for (w, result) in waiting.drain(..).zip(results) {
        if result.is_err() {
            let last = memory.refused.entry(w.from.generation).or_default();
            *last = (*last).max(w.from.chain);
        }
        let _ = w.done.send(PersistOutcome {
            token: w.token,
            result,
        });
    }
}

/// [`Store::append_if_heads`], tried again with backoff while the store is unavailable.
fn append_retrying(
    store: &dyn Store,
    metrics: &Metrics,
    appends: &[HeadAppend],
) -> Result<Vec<Result<SeqNo, StoreError>>, StoreError> {
    let started = Instant::now();
    let mut wait = BACKOFF.0;
    loop {
        match store.append_if_heads(appends) {
            Err(e) if e.is_unavailable() && started.elapsed() < RETRY_FOR => {
                if metrics.store_available(false) {
                    tracing::error!(error = %e, "store unavailable; holding acks and retrying with backoff");
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(BACKOFF.1);
            }
            result => {
                if result.is_ok() && !metrics.store_available(true) {
                    tracing::warn!(after = ?started.elapsed(), "store available again");
                }
                return result;
            }
        }
    }
}

fn compact_loop(store: &dyn Store, metrics: &Metrics, jobs: &mpsc::Receiver<(Lease, SeqNo)>) {
    while let Ok((lease, upto)) = jobs.recv() {
        let doc = &lease.doc;
        match store.compact_leased(&lease, upto, COMPACT_TAIL) {
            Ok(done) => {
                metrics.compacted();
                tracing::debug!(%doc, folded = done.folded, bytes = done.snapshot_bytes, "compacted");
            }
            Err(e @ StoreError::Fenced { .. }) => {
                tracing::debug!(%doc, error = %e, "compaction skipped: lease ended");
            }
            Err(e) => tracing::error!(%doc, error = %e, "compaction failed"),
        }
    }
}
