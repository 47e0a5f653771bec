//! What the session does with the connection's life and the server's frames.

use cardsync_core::CardDoc;

use super::{ClientSession, Rejection, SessionError, SyncEvent, conflict};
use crate::outbox::{Batch, PersistOp};
use crate::protocol::{BatchId, Message, PROTOCOL_VERSION, RejectCode};
use crate::time::Instant;

/// What a frame means for the connection state machine, which the session does not own: the
/// machine above it (`client/`) feeds it on, so that nobody outside `protocol/` reads frame
/// bytes to find out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Nothing for the connection.
    None,
    /// The server answered a heartbeat ping.
    Pong(u64),
    /// The server's sync step 2: the answer to our sync step 1, which ends the initial sync.
    SyncStep2,
    /// The server refused the token, for this reason (`"token expired"`, `"invalid token"`,
    /// ...): reconnecting with the same token would be refused again.
    AuthDenied(String),
}

impl ClientSession {
    /// The socket is open: greet the server and start the y-protocols handshake from the
    /// confirmed state (pending batches travel as batches, to be acked, never in step 2).
    pub fn handle_connected(&mut self, _now: Instant) {
        self.connected = true;
        self.welcomed = false;
        self.stock = false;
        let hello = Message::Hello {
            version: PROTOCOL_VERSION,
            token: self.config.token.clone(),
            client: self.local.client_id(),
        };
        self.send(&hello);
        let step1 = Message::SyncStep1 {
            state_vector: self.confirmed.state_vector(),
        };
        self.send(&step1);
    }

    /// The socket closed: everything unacked goes out again on the next connection, and runs
    /// of small batches are compacted meanwhile.
    pub fn handle_disconnected(&mut self, _now: Instant) -> Result<(), SessionError> {
        self.connected = false;
        self.welcomed = false;
        self.stock = false;
        self.outbox.mark_unsent();
        if self.outbox.len() >= self.config.compact_after
            && let Some(op) = self.outbox.compact()?
        {
            self.persist_issued(op);
        }
        Ok(())
    }

    /// A frame from the server. Returns what it means for the connection.
    pub fn handle_frame(&mut self, now: Instant, frame: &[u8]) -> Result<Signal, SessionError> {
        match Message::decode(frame, self.config.max_frame)? {
            Message::SyncStep1 { state_vector } => {
                let update = self.confirmed.diff_v1(&state_vector)?;
                self.send(&Message::SyncStep2 { update });
            }
            Message::SyncStep2 { update } => {
                self.apply_remote(&update)?;
                self.detect_stock(now);
                return Ok(Signal::SyncStep2);
            }
            Message::Update { update } => self.apply_remote(&update)?,
            Message::Welcome {
                version,
                role,
                max_update_bytes,
            } => {
                self.welcomed = true;
                if let Some(max) = max_update_bytes {
                    self.max_update_bytes = Some(usize::try_from(max).unwrap_or(usize::MAX));
                }
                self.events.push_back(SyncEvent::Welcome { version, role });
                self.refuse_oversize(now)?;
                self.send_ready(now);
            }
            Message::AuthDenied { reason } => {
                self.events.push_back(SyncEvent::AuthDenied(reason.clone()));
                return Ok(Signal::AuthDenied(reason));
            }
            Message::Ack { batch, clock } => self.handle_ack(now, batch, clock)?,
            Message::Reject {
                batch,
                code,
                reason,
            } => self.handle_reject(now, batch, code, reason)?,
            Message::Ping { nonce } => self.send(&Message::Pong { nonce }),
            Message::Pong { nonce } => return Ok(Signal::Pong(nonce)),
            Message::Awareness { update } => self.events.push_back(SyncEvent::Awareness(update)),
            // Client-to-server messages and awareness queries need no answer from a client.
            Message::QueryAwareness | Message::Hello { .. } | Message::SubmitBatch { .. } => {}
        }
        Ok(Signal::None)
    }

    fn handle_ack(&mut self, now: Instant, batch: BatchId, clock: u32) -> Result<(), SessionError> {
        let acked = self.outbox.ack(batch, clock);
        if acked.is_empty() {
            return Ok(());
        }
        for b in &acked {
            self.confirm(&b.update)?;
        }
        let ids: Vec<BatchId> = acked.iter().map(|b| b.id).collect();
        self.persist(PersistOp::RemoveBatches(ids.clone()));
        self.last_ack = Some((batch, now));
        self.retries = 0;
        self.events.push_back(SyncEvent::Acked(ids));
        Ok(())
    }

    /// Adds an update the server holds to the confirmed doc and its persisted log.
    fn confirm(&mut self, update: &[u8]) -> Result<(), SessionError> {
        self.confirmed.apply_update_v1(update)?;
        self.confirmed_appends += 1;
        if self.confirmed_appends > self.config.confirmed_log {
            self.confirmed_appends = 1;
            self.persist(PersistOp::CompactConfirmed(self.confirmed.snapshot_v1()));
        } else {
            self.persist(PersistOp::AppendConfirmed(update.to_vec()));
        }
        Ok(())
    }

    /// An update from the server: into both docs, with conflict reports, and an implicit ack
    /// of pending batches the server turns out to hold already.
    fn apply_remote(&mut self, update: &[u8]) -> Result<(), SessionError> {
        let writes = conflict::pending_writes(&self.outbox);
        let before = conflict::snapshot(&self.confirmed, &writes);
        self.confirm(update)?;
        self.local.apply_update_v1(update)?;
        for c in conflict::detect(&self.confirmed, &self.local, &writes, &before) {
            self.conflicts.record(c.clone());
            self.events.push_back(SyncEvent::Conflict(c));
        }
        let clients: Vec<u64> = self.outbox.batches().map(|b| b.id.client).collect();
        let mut held = Vec::new();
        for client in clients {
            let clock = self.confirmed.clock_of(client);
            held.extend(
                self.outbox
                    .ack_held(client, clock)
                    .into_iter()
                    .map(|b| b.id),
            );
        }
        if !held.is_empty() {
            self.persist(PersistOp::RemoveBatches(held.clone()));
            self.events.push_back(SyncEvent::Acked(held));
        }
        Ok(())
    }

    pub(super) fn handle_reject(
        &mut self,
        now: Instant,
        batch: BatchId,
        code: RejectCode,
        reason: String,
    ) -> Result<(), SessionError> {
        // A batch we no longer hold (already replayed after an earlier rejection, typically a
        // `depends_on_rejected` for an old client id) needs nothing more.
        let Some(rejected) = self.outbox.batches().find(|b| b.id == batch) else {
            return Ok(());
        };
        let behind_deferred =
            code == RejectCode::DependsOnRejected && self.outbox.deferred_before(batch);
        if code.is_retryable() || behind_deferred {
            self.retry_later(now, batch);
            return Ok(());
        }
        // A fused batch's refusal is no verdict on any one of its transactions: replay them
        // one by one and let the server judge each.
        let split = rejected.parts.len() > 1;
        let rejection = Rejection {
            batch,
            code,
            reason,
            at: now,
        };
        self.rollback(now, rejection, split)
    }

    /// The persist ops up to `seq` are durable: report the rejections whose rollback they
    /// hold, and drop their tombstones.
    ///
    /// A rollback is reported only once durable, and until reported its tombstone sits in
    /// the store (written by the rollback's own persist op). Reported earlier, a crash before
    /// the op is stored would restore the old batches and run the rollback again on a newer
    /// state, where a replay that failed may succeed: an op reported gone would come back and
    /// be acked. Without the tombstone, a crash after the op is stored but before its
    /// confirmation would lose the report. With both, the report is made if and only if the
    /// rollback survives: at least once, twice at worst (a crash between the report and the
    /// tombstone's removal).
    pub(super) fn announce_durable(&mut self, seq: u64) {
        let mut done = Vec::new();
        while self.unannounced.front().is_some_and(|(at, _)| *at <= seq) {
            if let Some((_, tombstone)) = self.unannounced.pop_front() {
                done.push(tombstone);
            }
        }
        self.announce(done);
    }

    /// Reports the rejections of durable `tombstones` and removes them from the store.
    pub(super) fn announce(&mut self, tombstones: Vec<Batch>) {
        if tombstones.is_empty() {
            return;
        }
        let ids = tombstones.iter().map(|t| t.id).collect();
        for tombstone in tombstones {
            let Some(rejection) = tombstone.rejected else {
                continue;
            };
            self.last_rejection = Some(rejection.clone());
            let vanished = tombstone.ops;
            self.events.push_back(SyncEvent::Rejected {
                rejection,
                vanished,
            });
        }
        self.persist(PersistOp::RemoveBatches(ids));
    }

    /// Rebuilds the local doc from the confirmed one under a fresh client id, one that
    /// neither the confirmed doc nor `pending` (the outbox being rebuilt) holds, and retires
    /// the current one. The retirement is persisted before anything written under the new id,
    /// so it is durable by the time the server can see that id.
    pub(super) fn rebuild_local(&mut self, pending: &[Batch]) -> Result<CardDoc, SessionError> {
        let current = self.local.client_id();
        self.retired.push(current);
        self.persist(PersistOp::RetireClients(vec![current]));
        let client =
            super::fresh_client(self.rng.as_mut(), &self.confirmed, pending, &self.retired);
        let mut local =
            CardDoc::load_v1(self.schema.clone(), client, &self.confirmed.snapshot_v1())?;
        // Loading is not news to the UI: the rollback reports the net difference instead, so
        // the new doc buffers its changes only from here on.
        local.buffer_changes(true);
        Ok(local)
    }
}
