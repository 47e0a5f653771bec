//! What the session does with the connection's life and the server's frames.

use cardsync_core::CardDoc;

use super::{ClientSession, Rejection, SessionError, SessionEvent, conflict};
use crate::connection::Instant;
use crate::outbox::PersistOp;
use crate::protocol::{BatchId, Message, PROTOCOL_VERSION, RejectCode};

impl ClientSession {
    /// The socket is open: greet the server and start the y-protocols handshake from the
    /// confirmed state (pending batches travel as batches, to be acked, never in step 2).
    pub fn handle_connected(&mut self, _now: Instant) {
        self.connected = true;
        self.welcomed = false;
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
        self.outbox.mark_unsent();
        if self.outbox.len() >= self.config.compact_after
            && let Some(op) = self.outbox.compact()?
        {
            self.persist_issued(op);
        }
        Ok(())
    }

    /// A frame from the server.
    pub fn handle_frame(&mut self, now: Instant, frame: &[u8]) -> Result<(), SessionError> {
        match Message::decode(frame, self.config.max_frame)? {
            Message::SyncStep1 { state_vector } => {
                let update = self.confirmed.diff_v1(&state_vector)?;
                self.send(&Message::SyncStep2 { update });
            }
            Message::SyncStep2 { update } | Message::Update { update } => {
                self.apply_remote(&update)?
            }
            Message::Welcome { version, role } => {
                self.welcomed = true;
                self.events
                    .push_back(SessionEvent::Welcome { version, role });
                self.send_ready();
            }
            Message::AuthDenied { reason } => {
                self.events.push_back(SessionEvent::AuthDenied(reason))
            }
            Message::Ack { batch, clock: _ } => self.handle_ack(now, batch)?,
            Message::Reject {
                batch,
                code,
                reason,
            } => self.handle_reject(now, batch, code, reason)?,
            Message::Ping { nonce } => self.send(&Message::Pong { nonce }),
            Message::Pong { nonce } => self.events.push_back(SessionEvent::Pong(nonce)),
            Message::Awareness { update } => self.events.push_back(SessionEvent::Awareness(update)),
            // Client-to-server messages and awareness queries need no answer from a client.
            Message::QueryAwareness | Message::Hello { .. } | Message::SubmitBatch { .. } => {}
        }
        Ok(())
    }

    fn handle_ack(&mut self, now: Instant, batch: BatchId) -> Result<(), SessionError> {
        let acked = self.outbox.ack(batch);
        if acked.is_empty() {
            return Ok(());
        }
        for b in &acked {
            self.confirm(&b.update)?;
        }
        let ids: Vec<BatchId> = acked.iter().map(|b| b.id).collect();
        self.persist(PersistOp::RemoveBatches(ids.clone()));
        self.last_ack = Some((batch, now));
        self.events.push_back(SessionEvent::Acked(ids));
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
        self.drain_changes();
        for c in conflict::detect(&self.confirmed, &self.local, &writes, &before) {
            self.conflicts.record(c.clone());
            self.events.push_back(SessionEvent::Conflict(c));
        }
        let clients: Vec<u64> = self.outbox.batches().map(|b| b.id.client).collect();
        let mut held = Vec::new();
        for client in clients {
            let clock = super::state_of(&self.confirmed, client);
            held.extend(
                self.outbox
                    .ack_held(client, clock)
                    .into_iter()
                    .map(|b| b.id),
            );
        }
        if !held.is_empty() {
            self.persist(PersistOp::RemoveBatches(held.clone()));
            self.events.push_back(SessionEvent::Acked(held));
        }
        Ok(())
    }

    fn handle_reject(
        &mut self,
        now: Instant,
        batch: BatchId,
        code: RejectCode,
        reason: String,
    ) -> Result<(), SessionError> {
        // A batch we no longer hold (already replayed after an earlier rejection, typically a
        // `depends_on_rejected` for an old client id) needs nothing more.
        if !self.outbox.batches().any(|b| b.id == batch) {
            return Ok(());
        }
        let rejection = Rejection {
            batch,
            code,
            reason,
            at: now,
        };
        self.last_rejection = Some(rejection.clone());
        let vanished = self.rollback(batch)?;
        self.events.push_back(SessionEvent::Rejected {
            rejection,
            vanished,
        });
        Ok(())
    }

    /// Rebuilds the local doc from the confirmed one under a fresh client id.
    pub(super) fn rebuild_local(&mut self) -> Result<CardDoc, SessionError> {
        let client = super::fresh_client(self.rng.as_mut());
        let mut local =
            CardDoc::load_v1(self.schema.clone(), client, &self.confirmed.snapshot_v1())?;
        super::subscribe(&mut local, &self.changes);
        // Loading is not news to the UI: the rollback reports the net difference instead.
        super::lock(&self.changes).clear();
        Ok(local)
    }
}
