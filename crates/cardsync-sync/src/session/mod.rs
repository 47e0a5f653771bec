//! The client session: the optimistic local doc over the confirmed doc and the outbox.
//!
//! Two documents: the *confirmed* doc holds what the server holds (acked batches and updates
//! from the server); the *local* doc is confirmed plus every pending batch, and is what the UI
//! reads and writes. Local edits apply at once, become outbox batches, and are sent once the
//! driver has made them durable. An ack moves a batch into the confirmed doc. A rejection rolls
//! back by rebase (docs/design.md §5): the local doc is rebuilt from the confirmed doc under a fresh
//! client id, the batches that came after the rejected one from the same client id are replayed
//! as intent, and the UI is told what vanished, once the rebuilt outbox is durable (until
//! then a crash would restore the old batches, and a vanished op could come back). Remote writes that overwrite a pending register
//! write are reported as [`Conflict`]s.
//!
//! Not every refusal is a verdict. A `RateLimited` one says "not now": the batch stays, and
//! the session resends it (and everything after it, in order) after an exponential backoff
//! with jitter ([`ClientSession::poll_timeout`]). A refusal of a batch that compaction fused
//! from several transactions is a verdict on the whole, not on any one of them: the rollback
//! replays each as its own batch, and the server judges them one by one.
//!
//! Client ids are drawn from the injected RNG, never one the confirmed doc or the outbox
//! already holds: a driver that reseeds its RNG identically on restart (the natural use of a
//! seeded generator) would otherwise reopen under the client id of its restored batches and
//! number new batches from 0 again, so two batches would share one `BatchId`.
//!
//! Behind a stock y-websocket server (no welcome, no acks) batches go out as plain updates,
//! and a batch counts as acked once the server's state holds it (see `stock.rs`).
//!
//! Sans-IO: inputs are `handle_*` and [`ClientSession::apply`]; outputs are
//! [`ClientSession::poll_action`] (frames to send, state to persist),
//! [`ClientSession::poll_event`] ([`SyncEvent`]s: acks, rejections, conflicts),
//! [`ClientSession::poll_changes`] (the local doc's change batches, straight from its buffer)
//! and [`ClientSession::poll_timeout`] (call [`ClientSession::handle_timeout`] once it
//! passes). What a frame means for the connection comes back from
//! [`ClientSession::handle_frame`] as a [`Signal`]. Follow the crate's drain rule.

mod adopt;
mod changes;
mod conflict;
mod event;
mod inbound;
mod oversize;
mod retry;
mod rollback;
mod stock;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;

use cardsync_core::{
    CardDoc, ChangeBatch, DecodeError, Op, OpenError, Origin, Schema, Stamp, WriteError,
};
pub use conflict::{Conflict, ConflictLog};
pub use event::SyncEvent;
pub use inbound::Signal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::connection::{Instant, Rng};
pub use crate::outbox::Rejection;
use crate::outbox::{Batch, Outbox, OutboxError, OutboxLimits, PersistOp, Persisted};
use crate::protocol::{BatchId, ProtocolError};

/// Session settings. Missing fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionConfig {
    /// The bearer token sent in hello.
    pub token: String,
    /// Outbox bounds.
    pub outbox: OutboxLimits,
    /// How many conflicts the log keeps.
    pub conflict_log: usize,
    /// Compact the outbox while offline once this many batches wait.
    pub compact_after: usize,
    /// Largest frame accepted from the server.
    pub max_frame: usize,
    /// Compact the persisted confirmed state after this many appended updates.
    pub confirmed_log: usize,
    /// Wait before the first resend of a batch the server refused as `RateLimited`, in
    /// milliseconds; each further refusal in a row doubles it.
    pub retry_base_ms: u64,
    /// The longest such wait, in milliseconds.
    pub retry_cap_ms: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            token: String::new(),
            outbox: OutboxLimits::default(),
            conflict_log: 256,
            compact_after: 64,
            max_frame: 32 << 20,
            confirmed_log: 256,
            retry_base_ms: 500,
            retry_cap_ms: 30_000,
        }
    }
}

/// Something the driver must do.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionAction {
    /// Send this frame on the socket.
    Send(Vec<u8>),
    /// Persist this change, in order, then call [`ClientSession::handle_persisted`] with `seq`.
    Persist {
        /// Confirm with this number.
        seq: u64,
        /// The change.
        op: PersistOp,
    },
}

/// The session refused something.
#[derive(Debug, Error)]
pub enum SessionError {
    /// A local write is invalid.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The outbox is full.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// A frame from the server did not decode.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// An update from the server or the store did not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The persisted state could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
}

impl SessionError {
    /// The stable code JavaScript sees: the code of the error underneath.
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::Write(e) => e.code(),
            SessionError::Outbox(e) => e.code(),
            SessionError::Protocol(e) => e.code(),
            SessionError::Decode(e) => e.code(),
            SessionError::Open(e) => e.code(),
        }
    }
}

/// A snapshot for status displays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStatus {
    /// Batches not yet acked.
    pub pending: usize,
    /// Age of the oldest pending batch, in milliseconds.
    pub oldest_pending_ms: Option<u64>,
    /// The last ack and when it came.
    pub last_ack: Option<(BatchId, Instant)>,
    /// The last rejection.
    pub last_rejection: Option<Rejection>,
    /// Whether the server speaks cardsync (acks); `false` behind a stock y-websocket server.
    pub server_acks: bool,
    /// When batches the server rate-limited are sent again (nothing is sent before).
    pub next_retry: Option<Instant>,
}

/// The optimistic client session.
pub struct ClientSession {
    schema: Arc<Schema>,
    config: SessionConfig,
    confirmed: CardDoc,
    local: CardDoc,
    outbox: Outbox,
    rng: Box<dyn Rng + Send>,
    next_seq: u64,
    connected: bool,
    welcomed: bool,
    /// The server answered our sync step 1 without a welcome first: a stock y-websocket
    /// server (see `stock.rs`).
    stock: bool,
    confirmed_appends: usize,
    actions: VecDeque<SessionAction>,
    events: VecDeque<SyncEvent>,
    conflicts: ConflictLog,
    last_ack: Option<(BatchId, Instant)>,
    last_rejection: Option<Rejection>,
    /// While set, nothing is sent before this instant (the server rate-limited a batch).
    retry_at: Option<Instant>,
    /// `RateLimited` refusals in a row, for the backoff.
    retries: u32,
    /// Rejections rolled back and not reported yet, as tombstones: each waits for the persist
    /// op (by number) that makes its rollback durable (see `inbound.rs`).
    unannounced: VecDeque<(u64, Batch)>,
    /// The largest update the server takes, from its welcome (see `oversize.rs`).
    max_update_bytes: Option<usize>,
    /// Client ids this replica wrote under before its current one, persisted
    /// ([`PersistOp::RetireClients`]) so that no restart draws one again.
    retired: Vec<u64>,
}

/// The confirmed doc never writes, so its client id never reaches an update.
const CONFIRMED_CLIENT: u64 = 0;

impl ClientSession {
    /// Resumes from persisted state (empty for a new replica). `rng` draws client ids.
    pub fn new(
        schema: Arc<Schema>,
        config: SessionConfig,
        persisted: Persisted,
        mut rng: Box<dyn Rng + Send>,
    ) -> Result<Self, SessionError> {
        let mut confirmed = CardDoc::with_schema(schema.clone(), CONFIRMED_CLIENT)?;
        confirmed.set_undo_enabled(false);
        for update in &persisted.confirmed {
            confirmed.apply_update_v1(update)?;
        }
        // Resuming with a new schema is an upgrade: refuse one that strands stored data.
        confirmed.check_schema_upgrade()?;
        let client = fresh_client(
            rng.as_mut(),
            &confirmed,
            &persisted.outbox,
            &persisted.retired,
        );
        let mut local = CardDoc::load_v1(schema.clone(), client, &confirmed.snapshot_v1())?;
        let (tombstones, batches): (Vec<Batch>, Vec<Batch>) = persisted
            .outbox
            .into_iter()
            .partition(|b| b.rejected.is_some());
        for batch in &batches {
            local.apply_update_v1(&batch.update)?;
        }
        // Restoring the outbox is not news: the UI reads the document as it opens.
        local.buffer_changes(true);
        let mut session = Self {
            outbox: Outbox::new(config.outbox, batches),
            conflicts: ConflictLog::new(config.conflict_log),
            confirmed_appends: persisted.confirmed.len(),
            schema,
            config,
            confirmed,
            local,
            rng,
            next_seq: 0,
            connected: false,
            welcomed: false,
            stock: false,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            last_ack: None,
            last_rejection: None,
            retry_at: None,
            retries: 0,
            unannounced: VecDeque::new(),
            max_update_bytes: None,
            retired: persisted.retired,
        };
        session.announce(tombstones);
        Ok(session)
    }

    /// The local doc: confirmed state plus pending batches. Read from it; write with
    /// [`ClientSession::apply`].
    pub fn local(&self) -> &CardDoc {
        &self.local
    }

    /// The confirmed doc: what the server holds.
    pub fn confirmed(&self) -> &CardDoc {
        &self.confirmed
    }

    /// Pending batches, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &Batch> {
        self.outbox.batches()
    }

    /// The conflict log.
    pub fn conflicts(&self) -> &ConflictLog {
        &self.conflicts
    }

    /// Applies a local change at once and queues it for the server.
    pub fn apply(
        &mut self,
        now: Instant,
        stamp: &Stamp,
        ops: &[Op],
    ) -> Result<Option<BatchId>, SessionError> {
        self.outbox.check_room()?;
        let applied = self.local.apply_with_origin(stamp, ops, Origin::Local)?;
        if applied.update.is_empty() {
            return Ok(None);
        }
        let id = self.batch_id();
        let op = self.outbox.push(Batch {
            id,
            stamp: stamp.clone(),
            ops: ops.to_vec(),
            update: applied.update.into(),
            clock: applied.clock,
            created_at: now.as_millis(),
            parts: Vec::new(),
            rejected: None,
        });
        self.persist_issued(op);
        if !self.connected
            && self.outbox.len() >= self.config.compact_after
            && let Some(op) = self.outbox.compact()?
        {
            self.persist_issued(op);
        }
        self.refuse_oversize(now)?;
        Ok(Some(id))
    }

    /// Undoes the last local change (as a new batch, so the server sees it too).
    pub fn undo(&mut self, now: Instant, stamp: &Stamp) -> Result<bool, SessionError> {
        self.undo_redo(now, stamp, true)
    }

    /// Redoes the last undone change.
    pub fn redo(&mut self, now: Instant, stamp: &Stamp) -> Result<bool, SessionError> {
        self.undo_redo(now, stamp, false)
    }

    fn undo_redo(&mut self, now: Instant, stamp: &Stamp, undo: bool) -> Result<bool, SessionError> {
        self.outbox.check_room()?;
        let before = self.local.state_vector();
        let client = self.local.client_id();
        let start = self.local.clock_of(client);
        let done = if undo {
            self.local.undo()
        } else {
            self.local.redo()
        };
        if !done {
            return Ok(false);
        }
        // Undo writes through yrs directly: the batch carries the update, and no ops, since an
        // undo step cannot be replayed as intent after a rollback (which clears the history).
        let update = self.local.diff_v1(&before)?;
        let end = self.local.clock_of(client);
        let id = self.batch_id();
        let op = self.outbox.push(Batch {
            id,
            stamp: stamp.clone(),
            ops: Vec::new(),
            update: update.into(),
            clock: start..end,
            created_at: now.as_millis(),
            parts: Vec::new(),
            rejected: None,
        });
        self.persist_issued(op);
        self.refuse_oversize(now)?;
        Ok(true)
    }

    fn batch_id(&mut self) -> BatchId {
        let id = BatchId {
            client: self.local.client_id(),
            seq: self.next_seq,
        };
        self.next_seq += 1;
        id
    }

    /// Replaces the bearer token the next hello sends (a refreshed token).
    pub fn set_token(&mut self, token: String) {
        self.config.token = token;
    }

    /// A status snapshot.
    pub fn status(&self, now: Instant) -> SessionStatus {
        SessionStatus {
            pending: self.outbox.len(),
            oldest_pending_ms: self
                .outbox
                .oldest_created_at()
                .map(|t| now.as_millis().saturating_sub(t)),
            last_ack: self.last_ack,
            last_rejection: self.last_rejection.clone(),
            server_acks: self.welcomed,
            next_retry: self.retry_at,
        }
    }

    /// The next thing to do, if any.
    pub fn poll_action(&mut self) -> Option<SessionAction> {
        self.actions.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<SyncEvent> {
        self.events.pop_front()
    }

    /// The local doc's next change batch (local edits, remote updates, undo, rollbacks), if
    /// any: taken straight from the document's buffer
    /// ([`CardDoc::poll_changes`](cardsync_core::CardDoc::poll_changes)).
    pub fn poll_changes(&mut self) -> Option<ChangeBatch> {
        self.local.poll_changes()
    }

    /// The driver made every persist op up to `seq` durable.
    pub fn handle_persisted(&mut self, now: Instant, seq: u64) {
        self.outbox.handle_persisted(seq);
        self.announce_durable(seq);
        self.send_ready(now);
    }

    fn persist_issued(&mut self, op: PersistOp) {
        let seq = self.outbox.last_issued();
        // Rewriting the whole outbox must keep the tombstones of unreported rejections.
        let op = match op {
            PersistOp::ReplaceAll(batches) if !self.unannounced.is_empty() => {
                let tombstones = self.unannounced.iter().map(|(_, t)| t.clone());
                PersistOp::ReplaceAll(tombstones.chain(batches).collect())
            }
            op => op,
        };
        self.actions.push_back(SessionAction::Persist { seq, op });
    }

    fn persist(&mut self, op: PersistOp) {
        self.outbox.issue_other();
        self.persist_issued(op);
    }

    fn send(&mut self, message: &crate::protocol::Message) {
        self.actions
            .push_back(SessionAction::Send(message.encode()));
    }

    /// Sends every durable, unsent batch, when connected to a server that acks (or to a
    /// stock one, as plain updates) and not waiting out a rate limit.
    fn send_ready(&mut self, now: Instant) {
        let speaking = self.welcomed || self.stock;
        if !(self.connected && speaking) || self.retry_at.is_some_and(|at| now < at) {
            return;
        }
        self.retry_at = None;
        for batch in self.outbox.take_sendable() {
            let frame = if self.stock {
                crate::protocol::update_frame(&batch.update)
            } else {
                crate::protocol::submit_batch_frame(batch.id, &batch.update)
            };
            self.actions.push_back(SessionAction::Send(frame));
        }
    }
}

/// A fresh yrs client id: non-zero (zero is the confirmed doc's), JavaScript-safe, and not
/// one that wrote anything `confirmed` holds, that a pending batch carries, or in `also` (the
/// retired ids and the current one). An RNG reseeded as before would otherwise hand back the
/// id of the restored batches, or one whose every batch was rejected.
fn fresh_client(rng: &mut dyn Rng, confirmed: &CardDoc, pending: &[Batch], also: &[u64]) -> u64 {
    loop {
        let id = rng.next_u64() & cardsync_core::MAX_REPLICA_CLIENT_ID;
        let used = id == CONFIRMED_CLIENT
            || confirmed.clock_of(id) > 0
            || pending.iter().any(|b| b.id.client == id)
            || also.contains(&id);
        if !used {
            return id;
        }
    }
}
