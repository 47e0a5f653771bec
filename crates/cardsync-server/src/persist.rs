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
//! # Ordering and failure
//! Appends are committed in the order rooms issued them, and a room's tokens are confirmed in
//! order, which is what `Room::handle_persisted` expects. If a commit fails, every append in
//! it failed, and the room *generations* involved are poisoned: later appends from the same
//! room instance fail at once instead of landing after a gap. The room closes its peers and
//! unloads; the next connection reloads the document from what is durable, and clients
//! resend what was never acked.
//!
//! # Compaction
//! Folding a log into a snapshot decodes the whole document, so it runs on its own thread,
//! never delaying a commit. The store makes it safe against appends that land meanwhile.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use cardsync_sync::room::PersistToken;
use tokio::sync::{mpsc as tokio_mpsc, oneshot};

use crate::metrics::Metrics;
use crate::store::{Append, DocId, Store, StoreError};

/// Most appends committed in one transaction.
pub const MAX_GROUP: usize = 1024;

/// How one of a room's persists ended: durable, or failed. (Not `cardsync_sync`'s
/// `outbox::Persisted`, which is a client's stored state.)
#[derive(Debug)]
pub(crate) struct PersistOutcome {
    pub token: PersistToken,
    pub result: Result<(), Arc<StoreError>>,
}

enum Job {
    Append {
        generation: u64,
        append: Append,
        token: PersistToken,
        done: tokio_mpsc::UnboundedSender<PersistOutcome>,
    },
    Flush(oneshot::Sender<Result<(), StoreError>>),
}

/// The handle rooms use to persist. Cloning is cheap.
#[derive(Clone)]
pub(crate) struct Persister {
    jobs: mpsc::Sender<Job>,
    compactions: mpsc::Sender<DocId>,
}

/// The threads behind a [`Persister`], to stop at shutdown.
pub(crate) struct PersistThreads {
    writer: JoinHandle<()>,
    compactor: JoinHandle<()>,
}

impl Persister {
    /// Starts the writer and compactor threads on `store`.
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> (Self, PersistThreads) {
        let (jobs, job_rx) = mpsc::channel();
        let (compactions, compact_rx) = mpsc::channel();
        let writer = {
            let store = Arc::clone(&store);
            let metrics = Arc::clone(&metrics);
            std::thread::Builder::new()
                .name("cardsync-writer".into())
                .spawn(move || write_loop(&*store, &metrics, &job_rx))
                .expect("cannot spawn the store writer thread")
        };
        let compactor = std::thread::Builder::new()
            .name("cardsync-compactor".into())
            .spawn(move || compact_loop(&*store, &metrics, &compact_rx))
            .expect("cannot spawn the store compactor thread");
        (
            Self { jobs, compactions },
            PersistThreads { writer, compactor },
        )
    }

    /// Queues an append; the outcome arrives on `done`.
    pub fn append(
        &self,
        generation: u64,
        append: Append,
        token: PersistToken,
        done: &tokio_mpsc::UnboundedSender<PersistOutcome>,
    ) {
        let job = Job::Append {
            generation,
            append,
            token,
            done: done.clone(),
        };
        if let Err(mpsc::SendError(Job::Append { token, done, .. })) = self.jobs.send(job) {
            let result = Err(Arc::new(StoreError::Stopped));
            let _ = done.send(PersistOutcome { token, result });
        }
    }

    /// Asks for a compaction of `doc` in the background.
    pub fn compact(&self, doc: DocId) {
        let _ = self.compactions.send(doc);
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
    generation: u64,
    token: PersistToken,
    done: tokio_mpsc::UnboundedSender<PersistOutcome>,
}

fn write_loop(store: &dyn Store, metrics: &Metrics, jobs: &mpsc::Receiver<Job>) {
    let mut poisoned: HashSet<u64> = HashSet::new();
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
                    generation,
                    append,
                    token,
                    done,
                } => {
                    if poisoned.contains(&generation) {
                        let result = Err(Arc::new(StoreError::EarlierWriteFailed));
                        let _ = done.send(PersistOutcome { token, result });
                        continue;
                    }
                    appends.push(append);
                    waiting.push(Waiting {
                        generation,
                        token,
                        done,
                    });
                }
                Job::Flush(reply) => {
                    commit(store, metrics, &mut poisoned, &mut appends, &mut waiting);
                    let _ = reply.send(store.flush());
                }
            }
        }
        commit(store, metrics, &mut poisoned, &mut appends, &mut waiting);
    }
}

fn commit(
    store: &dyn Store,
    metrics: &Metrics,
    poisoned: &mut HashSet<u64>,
    appends: &mut Vec<Append>,
    waiting: &mut Vec<Waiting>,
) {
    if appends.is_empty() {
        return;
    }
    let result = store.append(appends).map_err(Arc::new);
    match &result {
        Ok(()) => metrics.persisted(appends.len() as u64),
        Err(e) => {
            metrics.persist_failed();
            tracing::error!(error = %e, appends = appends.len(), "store append failed");
            poisoned.extend(waiting.iter().map(|w| w.generation));
        }
    }
    appends.clear();
    for w in waiting.drain(..) {
        let _ = w.done.send(PersistOutcome {
            token: w.token,
            result: result.clone(),
        });
    }
}

fn compact_loop(store: &dyn Store, metrics: &Metrics, docs: &mpsc::Receiver<DocId>) {
    while let Ok(doc) = docs.recv() {
        match store.compact(&doc) {
            Ok(done) => {
                metrics.compacted();
                tracing::debug!(%doc, folded = done.folded, bytes = done.snapshot_bytes, "compacted");
            }
            Err(e) => tracing::error!(%doc, error = %e, "compaction failed"),
        }
    }
}
