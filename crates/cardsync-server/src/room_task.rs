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
//! # The room on the log (docs/design.md §12)
//! The task holds the room's place in the document's log: `head`, the sequence number of the
//! last entry its replica holds durably, and `expected`, the head its next append is
//! validated against (`head` plus the appends in flight). It serves under a lease of its own
//! (`lease.rs` of each store), taken at load and, on a shared store, renewed by a helper task
//! every third of `lease_ms`, off the ack path (on SQLite, one node, the lease is long and
//! never renewed: see `Shared::lease_ttl`). Every append is a compare-and-append at `expected` with
//! that lease. Three things the store can answer besides "appended":
//! - **the head moved** (another node appended first): the room stops reading its inbox,
//!   waits for the outcomes of its appends in flight (all refused, see `persist.rs`), then
//!   reloads the document and hands it to `Room::handle_log_moved`, which rebuilds the
//!   replica without closing any peer and judges the refused batches again;
//! - **fenced** (the lease ended: a pause past it, an operator's takeover): the room gives
//!   up, closing its peers with [`GOING_AWAY`](close_code::GOING_AWAY) so that they
//!   reconnect (to a room under a new lease) and resend what was not acked;
//! - **other nodes' entries**, announced by the bus (`store/bus.rs`) or found by the check
//!   every `head_check_ms` on a shared store: read with `read_since` once nothing of the
//!   room's is in flight, and handed to `Room::handle_log_entries`.
//!
//! A room goes away in one of four ways: idle eviction (no peer, nothing to persist), a
//! shutdown (close every peer with [`GOING_AWAY`](close_code::GOING_AWAY), wait until every
//! persist is confirmed), a fenced lease (above), or a failure (load error or store error:
//! close every peer with [`INTERNAL_ERROR`](close_code::INTERNAL_ERROR) and unload; the next
//! connection reloads the document from what is durable).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use cardsync_core::Op;
use cardsync_sync::protocol::{BatchId, close_code};
use cardsync_sync::room::{Judgement, PeerId, PersistToken, Room, RoomAction, Verdict, Verdicts};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};

use crate::auth::TokenAuth;
use crate::budget::Charge;
use crate::conn::Outgoing;
use crate::error::LoadError;
use crate::persist::{Chain, PersistOutcome};
use crate::rooms::{self, Inbox, Shared};
use crate::store::{
    Audit, AuditAuthor, AuditVerdict, DocId, HeadAppend, Lease, SeqNo, StoreError, StoredDoc,
    now_ms,
};

/// Loads the room of `doc` and drives it until it goes away.
pub(crate) async fn run(
    shared: Arc<Shared>,
    doc: DocId,
    generation: u64,
    mut inbox: mpsc::Receiver<Inbox>,
) {
    shared.metrics.room_opened();
    let _gauge = RoomGauge(Arc::clone(&shared));
    let Loaded {
        room,
        log_len,
        head,
        lease,
    } = match load(&shared, &doc).await {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!(%doc, error = %e, "cannot load document");
            rooms::remove(&shared, &doc, generation);
            refuse_queued(&mut inbox, "document unavailable: storage error");
            return;
        }
    };
    tracing::debug!(%doc, log_len, head, epoch = lease.epoch, "room loaded");
    let (persisted_tx, persisted_rx) = mpsc::unbounded_channel();
    let (lost_tx, lost_rx) = mpsc::channel(1);
    let renewer = shared.store.is_shared().then(|| {
        AbortOnDrop(tokio::spawn(renew(
            Arc::clone(&shared),
            lease.clone(),
            lost_tx,
        )))
    });
    let driver = Driver {
        next_check: Instant::now() + shared.head_check(),
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
        counted: Verdicts::default(),
        draining: false,
        lease,
        head,
        expected: head,
        chain: 0,
        moved: false,
        stale: false,
        audit: None,
        intents: HashMap::new(),
    };
    driver.run(inbox, persisted_rx, lost_rx).await;
    drop(renewer);
}

struct RoomGauge(Arc<Shared>);

impl Drop for RoomGauge {
    fn drop(&mut self) {
        self.0.metrics.room_closed();
    }
}

/// Aborts a helper task when the room ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Loaded {
    room: Room<TokenAuth>,
    log_len: usize,
    head: SeqNo,
    lease: Lease,
}

async fn load(shared: &Arc<Shared>, doc: &DocId) -> Result<Loaded, LoadError> {
    let (store, doc) = (Arc::clone(&shared.store), doc.clone());
    let (config, schema) = (shared.room_config.clone(), Arc::clone(&shared.schema));
    let auth = TokenAuth::new(shared.secret.clone(), doc.clone());
    let validators = shared.validators.for_doc(doc.as_str());
    let judged = shared.config.audit.enabled;
    let (node, ttl) = (shared.node.clone(), shared.lease_ttl());
    tokio::task::spawn_blocking(move || {
        // The lease first: whatever the load then reads, appends under this lease are judged
        // against the head it ends at.
        let lease = store.acquire_lease(&doc, &node, ttl, false)?;
        let stored = store.load(&doc)?;
        let room = Room::new(config, schema, auth, &stored.updates)?.with_validators(validators);
        // Judgements feed the audit trail (`store/audit.rs`).
        let room = if judged { room.with_judgements() } else { room };
        Ok(Loaded {
            room,
            log_len: stored.log_len,
            head: stored.head,
            lease,
        })
    })
    .await?
}

/// Renews the room's lease every third of its time, until the room ends (the task is
/// aborted) or the lease is fenced (the room hears of it on `lost`). A renewal that fails for
/// another reason (the database is unreachable) is tried again next time; if that lasts past
/// the lease, the lease is fenced.
async fn renew(shared: Arc<Shared>, lease: Lease, lost: mpsc::Sender<StoreError>) {
    let ttl = shared.lease_ttl();
    let mut failing = false;
    loop {
        sleep(ttl / 3).await;
        let (store, held) = (Arc::clone(&shared.store), lease.clone());
        match tokio::task::spawn_blocking(move || store.renew_lease(&held, ttl)).await {
            Ok(Ok(())) => {
                if std::mem::take(&mut failing) {
                    tracing::info!(doc = %lease.doc, "lease renewed again");
                }
            }
            Ok(Err(e @ StoreError::Fenced { .. })) => {
                let _ = lost.send(e).await;
                return;
            }
            // Once per outage, not once per try.
            Ok(Err(e)) => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(doc = %lease.doc, error = %e, "cannot renew the lease; trying again");
                }
            }
            Err(_) => return,
        }
    }
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
    /// The room's verdicts already counted in the metrics.
    counted: Verdicts,
    /// Shutting down: peers are closed, waiting for the last persists.
    draining: bool,
    /// The lease the room serves under.
    lease: Lease,
    /// The sequence number of the last entry the room holds durably.
    head: SeqNo,
    /// The head the next append is validated against: `head` plus the appends in flight.
    expected: SeqNo,
    /// The room's chain of appends, new after each rebuild (see `persist.rs`).
    chain: u64,
    /// An append was refused because the head moved: stop reading, rebuild once nothing is
    /// in flight.
    moved: bool,
    /// Other nodes appended (a wake-up, or time for the periodic check): catch up once
    /// nothing is in flight.
    stale: bool,
    /// When the next periodic check of the head is due (shared stores only).
    next_check: Instant,
    /// The audit record of the accepted batch whose `Persist` is the room's next action
    /// (`RoomAction::Judged` comes just before it), until that `Persist` carries it.
    audit: Option<(PersistToken, Audit)>,
    /// The typed ops a peer (the HTTP API's writer) said its batch holds.
    intents: HashMap<PeerId, (BatchId, Vec<Op>)>,
}

/// What ended a room's loop.
enum End {
    Evicted,
    Drained,
    Failed,
    Fenced,
}

/// What the room does after a persist outcome.
enum Next {
    Go,
    Fail,
    Fenced,
}

impl Driver {
    async fn run(
        mut self,
        mut inbox: mpsc::Receiver<Inbox>,
        mut persisted: mpsc::UnboundedReceiver<PersistOutcome>,
        mut lost: mpsc::Receiver<StoreError>,
    ) {
        let mut shutdown = self.shared.shutdown.clone();
        let idle_after = Duration::from_millis(self.shared.config.limits.idle_room_ms);
        let max_unconfirmed = (self.shared.config.limits.send_queue / 2).max(1);
        let checks = self.shared.store.is_shared();
        let mut idle_since: Option<Instant> = None;
        let end = loop {
            if self.draining && self.room.pending_persists() == 0 {
                break End::Drained;
            }
            let idle = self.peers.is_empty() && self.room.pending_persists() == 0;
            // Idle since when: the periodic check must not keep an idle room loaded.
            let idle_deadline = match (idle, idle_since) {
                (false, _) => {
                    idle_since = None;
                    Instant::now()
                }
                (true, Some(since)) => since + idle_after,
                (true, None) => *idle_since.insert(Instant::now()) + idle_after,
            };
            let check = checks && self.in_flight.is_empty() && !self.peers.is_empty();
            let due = self.room.poll_timeout();
            let room_timer =
                self.shared.epoch + Duration::from_millis(due.map_or(0, |t| t.as_millis()));
            let reading =
                self.room.pending_persists() < max_unconfirmed && !self.moved && !self.stale;
            tokio::select! {
                Some(done) = persisted.recv() => match self.persisted(done) {
                    Next::Go => {}
                    Next::Fail => break End::Failed,
                    Next::Fenced => break End::Fenced,
                },
                message = inbox.recv(), if reading => match message {
                    Some(message) => self.handle(message),
                    None => break End::Evicted,
                },
                () = sleep_until(room_timer), if due.is_some() => {
                    self.room.handle_timeout(self.shared.now());
                }
                () = sleep_until(idle_deadline), if idle && !self.draining => {
                    idle_since = None;
                    if rooms::try_evict(&self.shared, &self.doc, self.generation, &inbox) {
                        break End::Evicted;
                    }
                }
                () = sleep_until(self.next_check), if check => {
                    self.stale = true;
                }
                Some(e) = lost.recv() => {
                    tracing::warn!(doc = %self.doc, error = %e, "lease lost; giving the room up");
                    break End::Fenced;
                }
                Ok(_) = shutdown.wait_for(|stop| *stop), if !self.draining => self.start_draining(),
            }
            self.drain_actions();
            self.charge = None;
            if self.in_flight.is_empty() && (self.moved || self.stale) {
                let caught_up = if self.moved {
                    self.rebuild().await
                } else {
                    self.catch_up().await
                };
                if !caught_up {
                    break End::Failed;
                }
                self.drain_actions();
            }
        };
        match end {
            End::Evicted => {
                tracing::debug!(doc = %self.doc, "room unloaded (idle)");
                self.release();
            }
            End::Drained => {
                rooms::remove(&self.shared, &self.doc, self.generation);
                refuse_queued(&mut inbox, "server shutting down");
                tracing::debug!(doc = %self.doc, "room drained");
                self.release();
            }
            End::Failed => self.give_up(
                &mut inbox,
                close_code::INTERNAL_ERROR,
                "storage failure; reconnect",
            ),
            End::Fenced => {
                self.shared.metrics.fenced();
                self.give_up(&mut inbox, close_code::GOING_AWAY, "lease lost; reconnect");
            }
        }
    }

    /// Unregisters the room and closes every peer and every queued connection, with a code
    /// that makes clients reconnect (and resend what was not acked).
    fn give_up(&mut self, inbox: &mut mpsc::Receiver<Inbox>, code: u16, reason: &str) {
        rooms::remove(&self.shared, &self.doc, self.generation);
        for (_, out) in self.peers.drain() {
            let _ = out.try_send(Outgoing::close(code, reason));
        }
        refuse_queued(inbox, reason);
    }

    /// Gives the lease back, so that an operator's view of who serves what stays current.
    fn release(&self) {
        let (store, lease) = (Arc::clone(&self.shared.store), self.lease.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.release_lease(&lease) {
                tracing::debug!(doc = %lease.doc, error = %e, "cannot release the lease");
            }
        });
    }

    /// Reads what other nodes appended after `head` and hands it to the room. Returns
    /// `false` if the room must go (a damaged store).
    async fn catch_up(&mut self) -> bool {
        self.stale = false;
        self.next_check = Instant::now() + self.shared.head_check();
        let (store, doc, since) = (Arc::clone(&self.shared.store), self.doc.clone(), self.head);
        let read = tokio::task::spawn_blocking(move || store.read_since(&doc, since)).await;
        let entries = match read {
            Ok(Ok(entries)) => entries,
            // Fell off the tail compaction keeps, or the store lost entries the room holds:
            // start from what the store holds.
            Ok(Err(StoreError::Compacted { .. } | StoreError::AheadOfHead { .. })) => {
                return self.rebuild().await;
            }
            Ok(Err(e)) => {
                tracing::warn!(doc = %self.doc, error = %e, "cannot read the log; trying again later");
                return true;
            }
            Err(_) => return false,
        };
        let Some(last) = entries.last().map(|e| e.seq) else {
            return true;
        };
        let count = entries.len();
        let updates = entries.iter().map(|e| e.update.as_slice());
        if let Err(e) = self.room.handle_log_entries(self.shared.now(), updates) {
            tracing::error!(doc = %self.doc, error = %e, "cannot apply other nodes' entries");
            return false;
        }
        self.shared.metrics.caught_up(count as u64);
        self.head = last;
        self.expected = last;
        self.log_len += count;
        true
    }

    /// The head moved under the room's appends, all of which have been refused: reload the
    /// document and let the room rebuild and judge them again. Returns `false` if the room
    /// must go.
    async fn rebuild(&mut self) -> bool {
        let (store, doc) = (Arc::clone(&self.shared.store), self.doc.clone());
        let stored: StoredDoc = match tokio::task::spawn_blocking(move || store.load(&doc)).await {
            Ok(Ok(stored)) => stored,
            Ok(Err(e)) => {
                tracing::error!(doc = %self.doc, error = %e, "cannot reload the document");
                return false;
            }
            Err(_) => return false,
        };
        match self
            .room
            .handle_log_moved(self.shared.now(), &stored.updates)
        {
            Ok(dropped) => {
                tracing::debug!(doc = %self.doc, head = stored.head, judged_again = dropped.len(), "room rebuilt: the head moved");
                self.shared.metrics.rebuilt();
            }
            Err(e) => {
                tracing::error!(doc = %self.doc, error = %e, "cannot rebuild the room");
                return false;
            }
        }
        self.head = stored.head;
        self.expected = stored.head;
        self.log_len = stored.log_len;
        self.chain += 1;
        self.moved = false;
        self.stale = false;
        self.next_check = Instant::now() + self.shared.head_check();
        true
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
                // A room on a shared store may be behind the log: entries appended while
                // nobody was here to check, or whose wake-up is late or lost. Catch up before
                // the newcomer's batches are judged: a client that moved here from another node
                // holds acks of entries this room may not have read yet, and its next batch
                // would start after a hole in its clocks, rejected as depending on a missing
                // predecessor (found by `tests/cluster_sim.rs`).
                if self.shared.store.is_shared() {
                    self.stale = true;
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
            Inbox::Intent { peer, batch, ops } => {
                self.intents.insert(peer, (batch, ops));
            }
            Inbox::Disconnect { peer } => {
                self.intents.remove(&peer);
                self.peers.remove(&peer);
                self.room.handle_disconnect(now, peer);
            }
            Inbox::Wake { head } => {
                if head > self.expected {
                    self.stale = true;
                }
            }
        }
    }

    /// A persist finished: landed, refused (the head moved, the lease ended) or failed.
    fn persisted(&mut self, done: PersistOutcome) -> Next {
        let seq = match done.result {
            Ok(seq) => seq,
            Err(e) => {
                while self
                    .in_flight
                    .front()
                    .is_some_and(|(t, ..)| *t <= done.token)
                {
                    self.in_flight.pop_front();
                }
                return match &*e {
                    StoreError::HeadMoved { .. } => {
                        self.moved = true;
                        Next::Go
                    }
                    StoreError::EarlierWriteFailed if self.moved => Next::Go,
                    StoreError::Fenced { .. } => {
                        tracing::warn!(doc = %self.doc, error = %e, "append fenced; giving the room up");
                        Next::Fenced
                    }
                    _ => {
                        tracing::error!(doc = %self.doc, error = %e, "persist failed; unloading the room");
                        Next::Fail
                    }
                };
            }
        };
        self.head = seq;
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
        Next::Go
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

    /// Turns the room's judgement into an audit record, stamped with the server's clock: an
    /// accepted batch's waits for its `Persist` (the next action), a rejection's goes to the
    /// writer after this drain (written after its next group commit).
    fn judged(&mut self, judgement: Judgement, rejected: &mut Vec<(DocId, Audit)>) {
        let Judgement {
            peer,
            author,
            batch,
            verdict,
            summary,
        } = judgement;
        let ops = batch.and_then(|b| {
            let (intended, ops) = self.intents.get(&peer)?;
            (*intended == b).then(|| ops.clone())
        });
        let author = AuditAuthor {
            subject: author.subject.map(|s| s.to_string()),
            role: author.role,
        };
        let mut audit = Audit {
            at_ms: now_ms(),
            author,
            batch,
            verdict: AuditVerdict::Accepted,
            summary,
            ops,
        };
        match verdict {
            Verdict::Accepted(token) => {
                self.audit = Some((token, audit));
            }
            Verdict::Rejected { code, reason } => {
                audit.verdict = AuditVerdict::Rejected { code, reason };
                rejected.push((self.doc.clone(), audit));
            }
        }
    }

    fn drain_actions(&mut self) {
        self.count_verdicts();
        let mut rejected = Vec::new();
        while let Some(action) = self.room.poll_action() {
            match action {
                RoomAction::Judged(judgement) => self.judged(judgement, &mut rejected),
                RoomAction::Send { peer, frame } => self.send(peer, Outgoing::Frame(frame)),
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
                    self.shared.metrics.paused();
                    let until = self.shared.epoch + Duration::from_millis(until.as_millis());
                    self.send(peer, Outgoing::Pause(until));
                }
                RoomAction::Persist { token, update } => {
                    self.in_flight
                        .push_back((token, self.arrival, self.charge.take()));
                    let append = HeadAppend {
                        lease: self.lease.clone(),
                        expected: self.expected,
                        update,
                        audit: self
                            .audit
                            .take()
                            .and_then(|(t, audit)| (t == token).then(|| Box::new(audit))),
                    };
                    self.expected += 1;
                    let from = Chain {
                        generation: self.generation,
                        chain: self.chain,
                    };
                    let persister = &self.shared.persister;
                    persister.append(from, append, token, &self.persisted_tx);
                    self.log_len += 1;
                    if self.log_len >= self.shared.config.storage.compact_after.max(1) {
                        self.log_len = 0;
                        persister.compact(self.lease.clone(), self.head);
                    }
                }
            }
        }
        if !rejected.is_empty() {
            self.shared.persister.audit(rejected);
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

    /// Counts the acks, rejections and dropped awareness messages since the last count.
    fn count_verdicts(&mut self) {
        let now = self.room.verdicts();
        let metrics = &self.shared.metrics;
        metrics.acked(now.acks - self.counted.acks);
        metrics.awareness_dropped(
            now.awareness_too_large - self.counted.awareness_too_large,
            now.awareness_rate_limited - self.counted.awareness_rate_limited,
        );
        if now.rejections != self.counted.rejections {
            let mut by_code = now.rejections_by_code;
            for (n, counted) in by_code.iter_mut().zip(&self.counted.rejections_by_code) {
                *n -= counted;
            }
            metrics.rejected(&by_code);
        }
        self.counted = now;
    }
}
