//! The task that drives one sans-IO [`Room`]: the only owner of that document's state.
//!
//! Everything about a room happens on its task, one input at a time: connections' frames and
//! their comings and goings (the inbox), persist confirmations from the writer thread, the
//! room's own timer (hello deadlines), idleness and shutdown. After each input the task
//! drains the room's actions (the drain rule of `cardsync_sync`): frames go to the
//! connections' send queues, closes to the connections, persists to the writer thread. No
//! lock is held around the room, so rooms of different documents run in parallel on the
//! runtime's threads while each stays strictly sequential.
//!
//! The room stops reading its inbox while half a send queue of its persists is unconfirmed.
//! Acks and broadcasts leave only when their persist is confirmed, so one confirmation can
//! release that many frames to a peer at once: the bound keeps that burst inside the send
//! queue of a peer that keeps reading (past it, the peer would be cut as "too far behind"),
//! and it carries a slow disk's backpressure to the senders' sockets instead of letting the
//! writer thread's queue grow.
//!
//! A room goes away in one of three ways: idle eviction (no peer, nothing to persist), a
//! shutdown (close every peer with [`GOING_AWAY`](close_code::GOING_AWAY), wait until every
//! persist is confirmed), or a failure (load error or store error: close every peer with
//! [`INTERNAL_ERROR`](close_code::INTERNAL_ERROR) and unload; the next connection reloads the
//! document from what is durable).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use cardsync_sync::protocol::{MSG_CARDSYNC, Message, close_code};
use cardsync_sync::room::{PeerId, PersistToken, Room, RoomAction};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};

use crate::auth::TokenAuth;
use crate::budget::Charge;
use crate::conn::Outgoing;
use crate::error::LoadError;
use crate::persist::PersistOutcome;
use crate::rooms::{self, Inbox, Shared};
use crate::store::{Append, DocId};

/// Loads the room of `doc` and drives it until it goes away.
pub(crate) async fn run(
    shared: Arc<Shared>,
    doc: DocId,
    generation: u64,
    mut inbox: mpsc::Receiver<Inbox>,
) {
    shared.metrics.room_opened();
    let _gauge = RoomGauge(Arc::clone(&shared));
    let (room, log_len) = match load(&shared, &doc).await {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!(%doc, error = %e, "cannot load document");
            rooms::remove(&shared, &doc, generation);
            refuse_queued(&mut inbox, "document unavailable: storage error");
            return;
        }
    };
    tracing::debug!(%doc, log_len, "room loaded");
    let (persisted_tx, persisted_rx) = mpsc::unbounded_channel();
    let driver = Driver {
        shared,
        doc,
        generation,
        room,
        peers: HashMap::new(),
        persisted_tx,
        in_flight: VecDeque::new(),
        arrival: Instant::now(),
        charge: None,
        log_len,
        draining: false,
    };
    driver.run(inbox, persisted_rx).await;
}

struct RoomGauge(Arc<Shared>);

impl Drop for RoomGauge {
    fn drop(&mut self) {
        self.0.metrics.room_closed();
    }
}

async fn load(shared: &Arc<Shared>, doc: &DocId) -> Result<(Room<TokenAuth>, usize), LoadError> {
    let (store, doc) = (Arc::clone(&shared.store), doc.clone());
    let (config, schema) = (shared.room_config.clone(), Arc::clone(&shared.schema));
    let auth = TokenAuth::new(shared.secret.clone(), doc.clone());
    tokio::task::spawn_blocking(move || {
        let stored = store.load(&doc)?;
        let room = Room::new(config, schema, auth, &stored.updates)?;
        Ok((room, stored.log_len))
    })
    .await?
}

/// Refuses every connection still queued in the inbox of a room that cannot serve.
fn refuse_queued(inbox: &mut mpsc::Receiver<Inbox>, reason: &str) {
    inbox.close();
    while let Ok(message) = inbox.try_recv() {
        if let Inbox::Connect { out, .. } = message {
            let _ = out.try_send(Outgoing::close(close_code::INTERNAL_ERROR, reason));
        }
    }
}

struct Driver {
    shared: Arc<Shared>,
    doc: DocId,
    generation: u64,
    room: Room<TokenAuth>,
    /// Send queues of the connected peers.
    peers: HashMap<PeerId, mpsc::Sender<Outgoing>>,
    persisted_tx: mpsc::UnboundedSender<PersistOutcome>,
    /// Persists not yet confirmed, with when the frame that caused each arrived and its
    /// charge of the budget for bytes in flight, given back once the update is durable.
    in_flight: VecDeque<(PersistToken, Instant, Option<Charge>)>,
    /// When the frame being handled arrived.
    arrival: Instant,
    /// The charge of the frame being handled: it moves to `in_flight` if the frame leads to a
    /// persist, and is given back after the frame otherwise.
    charge: Option<Charge>,
    /// Log entries since the last compaction request.
    log_len: usize,
    /// Shutting down: peers are closed, waiting for the last persists.
    draining: bool,
}

/// What ended a room's loop.
enum End {
    Evicted,
    Drained,
    Failed,
}

impl Driver {
    async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Inbox>,
        mut persisted: mpsc::UnboundedReceiver<PersistOutcome>,
    ) {
        let mut shutdown = self.shared.shutdown.clone();
        let idle_after = Duration::from_millis(self.shared.config.limits.idle_room_ms);
        let max_unconfirmed = (self.shared.config.limits.send_queue / 2).max(1);
        let end = loop {
            if self.draining && self.room.pending_persists() == 0 {
                break End::Drained;
            }
            let idle = self.peers.is_empty() && self.room.pending_persists() == 0;
            let due = self.room.poll_timeout();
            let room_timer =
                self.shared.epoch + Duration::from_millis(due.map_or(0, |t| t.as_millis()));
            tokio::select! {
                Some(done) = persisted.recv() => {
                    if !self.persisted(done) {
                        break End::Failed;
                    }
                }
                message = inbox.recv(), if self.room.pending_persists() < max_unconfirmed => match message {
                    Some(message) => self.handle(message),
                    None => break End::Evicted,
                },
                () = sleep_until(room_timer), if due.is_some() => {
                    self.room.handle_timeout(self.shared.now());
                }
                () = sleep(idle_after), if idle && !self.draining => {
                    if rooms::try_evict(&self.shared, &self.doc, self.generation, &inbox) {
                        break End::Evicted;
                    }
                }
                Ok(_) = shutdown.wait_for(|stop| *stop), if !self.draining => self.start_draining(),
            }
            self.drain_actions();
            self.charge = None;
        };
        match end {
            End::Evicted => tracing::debug!(doc = %self.doc, "room unloaded (idle)"),
            End::Drained => {
                rooms::remove(&self.shared, &self.doc, self.generation);
                refuse_queued(&mut inbox, "server shutting down");
                tracing::debug!(doc = %self.doc, "room drained");
            }
            End::Failed => {
                rooms::remove(&self.shared, &self.doc, self.generation);
                for (_, out) in self.peers.drain() {
                    let _ = out.try_send(Outgoing::close(
                        close_code::INTERNAL_ERROR,
                        "storage failure; reconnect",
                    ));
                }
                refuse_queued(&mut inbox, "storage failure; reconnect");
            }
        }
    }

    fn handle(&mut self, message: Inbox) {
        let now = self.shared.now();
        match message {
            Inbox::Connect { peer, token, out } => {
                if self.draining {
                    let _ = out.try_send(Outgoing::close(
                        close_code::GOING_AWAY,
                        "server shutting down",
                    ));
                    return;
                }
                self.peers.insert(peer, out);
                let connected = match token {
                    Some(token) => self.room.handle_connect_with_token(now, peer, &token),
                    None => self.room.handle_connect(now, peer),
                };
                if let Err(e) = connected {
                    tracing::error!(%peer, error = %e, "room refused a connect");
                }
            }
            Inbox::Frame {
                peer,
                frame,
                at,
                charge,
            } => {
                self.arrival = at;
                self.charge = Some(charge);
                // Stamps of time-ordered registers are wall-clock milliseconds: the room
                // checks them against this (docs/design.md §3, "Time-ordered registers").
                let wall = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                self.room.handle_wall_clock(wall);
                // An unknown peer is one the room closed; its frames in flight are dropped.
                let _ = self.room.handle_message(now, peer, &frame);
            }
            Inbox::Disconnect { peer } => {
                self.peers.remove(&peer);
                self.room.handle_disconnect(now, peer);
            }
        }
    }

    /// A persist finished. Returns `false` if it failed (the room must go).
    fn persisted(&mut self, done: PersistOutcome) -> bool {
        if let Err(e) = done.result {
            tracing::error!(doc = %self.doc, error = %e, "persist failed; unloading the room");
            return false;
        }
        let now = Instant::now();
        while self
            .in_flight
            .front()
            .is_some_and(|(t, ..)| *t <= done.token)
        {
            if let Some((_, at, _charge)) = self.in_flight.pop_front() {
                self.shared
                    .metrics
                    .ack_latency(now.saturating_duration_since(at));
            }
        }
        if let Err(e) = self.room.handle_persisted(self.shared.now(), done.token) {
            tracing::error!(doc = %self.doc, error = %e, "room refused a persist confirmation");
        }
        true
    }

    fn start_draining(&mut self) {
        self.draining = true;
        let now = self.shared.now();
        for (peer, out) in std::mem::take(&mut self.peers) {
            let _ = out.try_send(Outgoing::close(
                close_code::GOING_AWAY,
                "server shutting down",
            ));
            self.room.handle_disconnect(now, peer);
        }
    }

    fn drain_actions(&mut self) {
        while let Some(action) = self.room.poll_action() {
            match action {
                RoomAction::Send { peer, frame } => {
                    self.count(&frame);
                    self.send(peer, Outgoing::Frame(frame));
                }
                RoomAction::Close { peer, reason } => {
                    self.shared.metrics.closed_by_room();
                    tracing::info!(doc = %self.doc, %peer, %reason, "room closed a connection");
                    if let Some(out) = self.peers.remove(&peer) {
                        let _ = out.try_send(Outgoing::close(reason.ws_code(), reason.as_str()));
                    }
                }
                RoomAction::Audit(record) => {
                    self.shared.metrics.compensated();
                    let violations: Vec<String> =
                        record.violations.iter().map(ToString::to_string).collect();
                    tracing::warn!(
                        doc = %self.doc,
                        peer = %record.peer,
                        clients = ?record.clients,
                        ?violations,
                        "compensated a stock peer's invalid update"
                    );
                }
                RoomAction::Pause { peer, until } => {
                    let until = self.shared.epoch + Duration::from_millis(until.as_millis());
                    self.send(peer, Outgoing::Pause(until));
                }
                RoomAction::Persist { token, update } => {
                    self.in_flight
                        .push_back((token, self.arrival, self.charge.take()));
                    let append = Append {
                        doc: self.doc.clone(),
                        update,
                    };
                    let persister = &self.shared.persister;
                    persister.append(self.generation, append, token, &self.persisted_tx);
                    self.log_len += 1;
                    if self.log_len >= self.shared.config.storage.compact_after.max(1) {
                        self.log_len = 0;
                        persister.compact(self.doc.clone());
                    }
                }
            }
        }
    }

    /// Queues a frame for a peer. A peer whose queue is full has stopped reading: it is
    /// dropped (its connection sees its queue close and closes the socket), so that it
    /// cannot make the room buffer without bound.
    fn send(&mut self, peer: PeerId, out: Outgoing) {
        let Some(queue) = self.peers.get(&peer) else {
            return;
        };
        if queue.try_send(out).is_err() {
            tracing::warn!(doc = %self.doc, %peer, "send queue full; dropping the connection");
            self.peers.remove(&peer);
            self.room.handle_disconnect(self.shared.now(), peer);
        }
    }

    /// Counts acks and rejections for the metrics. Only cardsync extension frames can be
    /// either, and they are small; document updates are never decoded here.
    fn count(&self, frame: &[u8]) {
        if frame.first() != Some(&(MSG_CARDSYNC as u8)) {
            return;
        }
        match Message::decode(frame, usize::MAX) {
            Ok(Message::Ack { .. }) => self.shared.metrics.acked(),
            Ok(Message::Reject { .. }) => self.shared.metrics.rejected(),
            _ => {}
        }
    }
}
