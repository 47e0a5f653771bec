//! The registry of loaded rooms: lazy loading, the room limit, and eviction without races.
//!
//! A room is loaded when its first connection arrives and unloaded once it has had no
//! connection and nothing left to persist for `idle_room_ms`. Both ends go through one lock:
//! a connection joins by queueing its `Connect` into the room's inbox *while holding the
//! lock*, and a room evicts itself only while holding the lock *and* finding its inbox empty.
//! So a connection can never be queued to a room that has just decided to go away; it either
//! reaches the live room or creates a new one (which loads what the old one persisted,
//! because eviction waits for every persist to finish).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use cardsync_core::{Op, Schema};
use cardsync_sync::protocol::{BatchId, close_code};
use cardsync_sync::room::{PeerId, RoomConfig};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use axum::body::Bytes;

use crate::auth::Secret;
use crate::budget::{Budget, Charge};
use crate::config::ServerConfig;
use crate::conn::Outgoing;
use crate::metrics::Metrics;
use crate::persist::Persister;
use crate::room_task;
use crate::store::{DocId, SeqNo, Store};
use crate::validators::AppValidators;

/// What a connection sends its room.
#[derive(Debug)]
pub(crate) enum Inbox {
    /// A new connection, with the token from its URL if any, and its send queue.
    Connect {
        peer: PeerId,
        token: Option<String>,
        out: mpsc::Sender<Outgoing>,
    },
    /// A binary frame, as the socket layer delivered it (no copy), when it did (for ack
    /// latency), and its share of the budget for bytes in flight.
    Frame {
        peer: PeerId,
        frame: Bytes,
        at: tokio::time::Instant,
        charge: Charge,
    },
    /// The typed ops of the batch a peer is about to submit (the HTTP API's writer knows
    /// them; the wire carries only the update), for the batch's audit record.
    Intent {
        peer: PeerId,
        batch: BatchId,
        ops: Vec<Op>,
    },
    /// The connection ended.
    Disconnect { peer: PeerId },
    /// The bus says the document's log reached `head` (another node appended): catch up.
    Wake { head: SeqNo },
}

/// Why a connection could not join a room. Each maps to a close code and reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinRefusal {
    /// `max_rooms` documents are loaded.
    TooManyRooms,
    /// The room's inbox is full (it is far behind).
    RoomBusy,
    /// The server is shutting down.
    ShuttingDown,
}

impl JoinRefusal {
    pub fn close(self) -> Outgoing {
        match self {
            JoinRefusal::TooManyRooms => Outgoing::close(
                close_code::TRY_AGAIN_LATER,
                "server at its room limit; retry later",
            ),
            JoinRefusal::RoomBusy => {
                Outgoing::close(close_code::TRY_AGAIN_LATER, "room busy; retry later")
            }
            JoinRefusal::ShuttingDown => {
                Outgoing::close(close_code::GOING_AWAY, "server shutting down")
            }
        }
    }
}

pub(crate) struct RoomEntry {
    pub inbox: mpsc::Sender<Inbox>,
    pub generation: u64,
}

#[derive(Default)]
pub(crate) struct Registry {
    pub rooms: HashMap<DocId, RoomEntry>,
    pub shutting_down: bool,
    pub tasks: JoinSet<()>,
}

/// Everything the connection handlers and room tasks share.
pub(crate) struct Shared {
    pub config: ServerConfig,
    pub room_config: RoomConfig,
    pub schema: Arc<Schema>,
    pub secret: Secret,
    pub store: Arc<dyn Store>,
    pub persister: Persister,
    pub metrics: Arc<Metrics>,
    pub registry: Mutex<Registry>,
    /// Connection slots (`max_connections`).
    pub connections: Arc<Semaphore>,
    /// Bytes in flight (`max_bytes_in_flight`).
    pub budget: Budget,
    /// Becomes `true` once shutdown starts.
    pub shutdown: watch::Receiver<bool>,
    /// This process's name as a lease holder: unique per process, so a restarted node never
    /// inherits the leases (and the state) of its previous run.
    pub node: String,
    pub epoch: tokio::time::Instant,
    /// The validators each room runs, chosen by document when it loads.
    pub validators: AppValidators,
    next_peer: AtomicU64,
    next_generation: AtomicU64,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: ServerConfig,
        schema: Arc<Schema>,
        secret: Secret,
        store: Arc<dyn Store>,
        persister: Persister,
        metrics: Arc<Metrics>,
        shutdown: watch::Receiver<bool>,
        validators: AppValidators,
    ) -> Self {
        Self {
            validators,
            room_config: config.effective_room(),
            connections: Arc::new(Semaphore::new(config.limits.max_connections)),
            budget: Budget::new(config.limits.max_bytes_in_flight),
            config,
            schema,
            secret,
            store,
            persister,
            metrics,
            registry: Mutex::new(Registry::default()),
            shutdown,
            node: node_name(),
            epoch: tokio::time::Instant::now(),
            next_peer: AtomicU64::new(1),
            next_generation: AtomicU64::new(1),
        }
    }

    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How long a room's lease lasts. On a store no other node writes to (SQLite), a lease
    /// fences nobody, so it is taken for a year and never renewed: a renewal is a write
    /// transaction, and on SQLite an fsync that would stall the writer's group commits.
    pub fn lease_ttl(&self) -> std::time::Duration {
        if self.store.is_shared() {
            std::time::Duration::from_millis(self.config.storage.lease_ms.max(30))
        } else {
            std::time::Duration::from_secs(365 * 24 * 3600)
        }
    }

    /// How often a room on a shared store checks for entries it missed.
    pub fn head_check(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.config.storage.head_check_ms.max(10))
    }

    pub fn next_peer(&self) -> PeerId {
        PeerId(self.next_peer.fetch_add(1, Ordering::Relaxed))
    }

    /// The rooms' clock: milliseconds since `epoch`, as the sans-IO room takes time.
    pub fn now(&self) -> cardsync_sync::Instant {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        cardsync_sync::Instant::from_millis(ms)
    }
}

/// A lease holder name unique to this process: host, process id and start time.
fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "node".into());
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{host}-{}-{started:x}", std::process::id())
}

/// Tells the room of `doc`, if this node serves it, that the log reached `head`. A room whose
/// inbox is full misses it: its periodic check catches up.
pub(crate) fn wake(shared: &Shared, doc: &DocId, head: SeqNo) {
    if let Some(entry) = shared.registry().rooms.get(doc) {
        let _ = entry.inbox.try_send(Inbox::Wake { head });
    }
}

/// Wakes every room (the bus reconnected: wake-ups may have been missed).
pub(crate) fn wake_all(shared: &Shared) {
    for entry in shared.registry().rooms.values() {
        let _ = entry.inbox.try_send(Inbox::Wake { head: SeqNo::MAX });
    }
}

/// Queues `peer` into the room of `doc`, loading the room first if needed. Returns the
/// room's inbox for the connection's frames.
pub(crate) fn join(
    shared: &Arc<Shared>,
    doc: &DocId,
    peer: PeerId,
    token: Option<String>,
    out: mpsc::Sender<Outgoing>,
) -> Result<mpsc::Sender<Inbox>, JoinRefusal> {
    let mut registry = shared.registry();
    if registry.shutting_down {
        return Err(JoinRefusal::ShuttingDown);
    }
    let connect = Inbox::Connect { peer, token, out };
    if let Some(entry) = registry.rooms.get(doc) {
        return match entry.inbox.try_send(connect) {
            Ok(()) => Ok(entry.inbox.clone()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(JoinRefusal::RoomBusy),
            // The task ended without unregistering (it panicked): start afresh below.
            Err(mpsc::error::TrySendError::Closed(Inbox::Connect { peer, token, out })) => {
                registry.rooms.remove(doc);
                drop(registry);
                join(shared, doc, peer, token, out)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(JoinRefusal::RoomBusy),
        };
    }
    if registry.rooms.len() >= shared.config.limits.max_rooms {
        return Err(JoinRefusal::TooManyRooms);
    }
    let (inbox, rx) = mpsc::channel(shared.config.limits.room_queue.max(1));
    let generation = shared.next_generation.fetch_add(1, Ordering::Relaxed);
    // A fresh channel has room for one message.
    let _ = inbox.try_send(connect);
    registry.rooms.insert(
        doc.clone(),
        RoomEntry {
            inbox: inbox.clone(),
            generation,
        },
    );
    while registry.tasks.try_join_next().is_some() {}
    let task = room_task::run(Arc::clone(shared), doc.clone(), generation, rx);
    registry.tasks.spawn(task);
    Ok(inbox)
}

/// Removes the room `doc` of `generation` if its inbox is empty. Returns whether it did.
pub(crate) fn try_evict(
    shared: &Shared,
    doc: &DocId,
    generation: u64,
    inbox: &mpsc::Receiver<Inbox>,
) -> bool {
    let mut registry = shared.registry();
    // Checked under the lock: `join` queues under it too, so nothing can slip in after.
    if !inbox.is_empty() {
        return false;
    }
    if registry
        .rooms
        .get(doc)
        .is_some_and(|e| e.generation == generation)
    {
        registry.rooms.remove(doc);
    }
    true
}

/// Unregisters a room that failed (load or store error), whatever its inbox holds.
pub(crate) fn remove(shared: &Shared, doc: &DocId, generation: u64) {
    let mut registry = shared.registry();
    if registry
        .rooms
        .get(doc)
        .is_some_and(|e| e.generation == generation)
    {
        registry.rooms.remove(doc);
    }
}
