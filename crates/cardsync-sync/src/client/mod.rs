//! The sans-IO sync engine of a client, [`SyncMachine`]: one [`ClientSession`] and one
//! [`Connection`], wired together.
//!
//! One name for one engine everywhere: the native client (`cardsync-client`) drives this type,
//! the wasm bindings export it to JavaScript as the class `SyncMachine`, and the npm package's
//! `SyncClient` is the browser's driver of that class, as `cardsync_client::Client` is the
//! native one. Its vocabulary follows: [`SyncAction`], [`SyncEvent`], [`SyncStatus`] (the
//! TypeScript types `SyncAction`, `SyncReport` and `SyncStatus`).
//!
//! Every driver (the tokio client, the browser client, simulations) needs the same wiring:
//! a session `Pong` is the connection's `handle_pong`, a connection `CloseSocket` is the
//! session's `handle_disconnected`, a sync step 2 on a syncing socket is `handle_synced`,
//! a heartbeat ping goes out on the current socket, and a frame that does not decode drops
//! the socket. Written once here, a driver only carries out four [`SyncAction`]s (open,
//! send, close, persist) and keeps one timer ([`SyncMachine::poll_timeout`]), which is what
//! keeps the browser's JavaScript glue thin and the same as the native client's.
//!
//! Follows the crate's drain rule: after each `handle_*` (and [`SyncMachine::apply`]), drain
//! [`SyncMachine::poll_action`], [`SyncMachine::poll_event`] and
//! [`SyncMachine::poll_changes`] until each returns `None`. Events are the session's own
//! [`SyncEvent`]s (plus the connection's transitions), moved over as they are; changes never
//! pass through the machine's queues at all.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use cardsync_core::{CardDoc, ChangeBatch, Op, Stamp};
use serde::{Deserialize, Serialize};

use crate::connection::{
    CloseCause, Connection, ConnectionError, ConnectionStatus, Instant, SocketId, State,
};
use crate::outbox::{PersistOp, Persisted};
use crate::protocol::BatchId;
pub use crate::session::SyncEvent;
use crate::session::{ClientSession, SessionAction, SessionError, SessionStatus, Signal};

/// Something the driver must do.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncAction {
    /// Open a WebSocket to the room and report its fate under this id.
    OpenSocket {
        /// Pass it back with every event of this socket.
        socket: SocketId,
    },
    /// Send a binary frame on this socket.
    Send {
        /// The socket (always the current one).
        socket: SocketId,
        /// The frame.
        frame: Vec<u8>,
    },
    /// Close this socket; its later events are ignored.
    CloseSocket {
        /// The socket.
        socket: SocketId,
        /// Why.
        reason: CloseCause,
    },
    /// Persist this change, in order, then call [`SyncMachine::handle_persisted`] with `seq`.
    Persist {
        /// Confirm with this number (confirming `n` confirms every op up to `n`).
        seq: u64,
        /// The change.
        op: PersistOp,
    },
}

/// A snapshot for status displays: the connection's and the session's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// State, next retry, RTT, failures.
    pub connection: ConnectionStatus,
    /// Pending count, oldest pending age, last ack, last rejection.
    pub session: SessionStatus,
    /// Why the server refused the token (or the app could supply none), while no new token
    /// has been supplied: the machine stays offline instead of reconnecting with a token that
    /// would be refused again. `None` otherwise.
    #[serde(default)]
    pub unauthorized: Option<String>,
}

/// The sync engine of one client: its session and its connection state machine; see the
/// module docs of `client/mod.rs`.
pub struct SyncMachine {
    session: ClientSession,
    conn: Connection,
    /// The socket the session is connected on (opened, not yet closed).
    socket: Option<SocketId>,
    actions: VecDeque<SyncAction>,
    events: VecDeque<SyncEvent>,
    /// The token refusal in force (see [`SyncStatus::unauthorized`]).
    unauthorized: Option<String>,
}

impl SyncMachine {
    /// Wires a session (restored from the store) to a connection (stopped until
    /// [`SyncMachine::handle_start`]).
    pub fn new(session: ClientSession, conn: Connection) -> Self {
        let mut machine = Self {
            session,
            conn,
            socket: None,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            unauthorized: None,
        };
        // A restored session may already have reports (rollbacks made durable before a crash).
        machine.pump(Instant::ZERO);
        machine
    }

    /// The session: local doc, confirmed doc, pending batches, conflicts.
    pub fn session(&self) -> &ClientSession {
        &self.session
    }

    /// The local doc (confirmed state plus pending batches): what the UI shows.
    pub fn local(&self) -> &CardDoc {
        self.session.local()
    }

    /// A status snapshot.
    pub fn status(&self, now: Instant) -> SyncStatus {
        SyncStatus {
            connection: self.conn.status(),
            session: self.session.status(now),
            unauthorized: self.unauthorized.clone(),
        }
    }

    /// Applies a local change at once and queues it for the server (see
    /// [`ClientSession::apply`]).
    pub fn apply(
        &mut self,
        now: Instant,
        stamp: &Stamp,
        ops: &[Op],
    ) -> Result<Option<BatchId>, SessionError> {
        let applied = self.session.apply(now, stamp, ops);
        self.pump(now);
        applied
    }

    /// Undoes the last local change; `false` when there was nothing to undo.
    pub fn undo(&mut self, now: Instant, stamp: &Stamp) -> Result<bool, SessionError> {
        let done = self.session.undo(now, stamp);
        self.pump(now);
        done
    }

    /// Redoes the last undone change; `false` when there was nothing to redo.
    pub fn redo(&mut self, now: Instant, stamp: &Stamp) -> Result<bool, SessionError> {
        let done = self.session.redo(now, stamp);
        self.pump(now);
        done
    }

    /// Adopts the store another replica of this document left (see
    /// [`ClientSession::adopt`]).
    pub fn adopt(&mut self, now: Instant, persisted: Persisted) -> Result<(), SessionError> {
        let adopted = self.session.adopt(now, persisted);
        self.pump(now);
        adopted
    }

    /// The user wants to sync (connects unless the network is down), with the token it has
    /// even after a refusal.
    pub fn handle_start(&mut self, now: Instant) {
        self.unauthorized = None;
        self.conn.handle_start(now);
        self.pump(now);
    }

    /// A token for the next hello: an app's token callback answered, or the app supplied one.
    /// After a refusal (`status().unauthorized`) the machine connects again at once; otherwise
    /// the token waits for the next connection.
    pub fn set_token(&mut self, now: Instant, token: String) {
        self.session.set_token(token);
        if self.unauthorized.take().is_some() {
            self.conn.handle_start(now);
        }
        self.pump(now);
    }

    /// No valid token can be had (the app's token callback failed or gave none): the status
    /// shows `unauthorized` with `reason`, and the machine stays offline, with every outbox
    /// entry kept, until [`SyncMachine::set_token`] or [`SyncMachine::handle_start`].
    pub fn handle_token_refused(&mut self, now: Instant, reason: String) {
        self.unauthorized = Some(reason);
        self.conn.handle_stop(now);
        self.pump(now);
    }

    /// The user wants to stop syncing (closes the socket; edits keep queueing).
    pub fn handle_stop(&mut self, now: Instant) {
        self.conn.handle_stop(now);
        self.pump(now);
    }

    /// The network came up or went down (the browser's `online`/`offline` events).
    pub fn handle_network(&mut self, now: Instant, online: bool) {
        self.conn.handle_network(now, online);
        self.pump(now);
    }

    /// The page became hidden or visible (slower heartbeat while hidden).
    pub fn handle_visibility(&mut self, now: Instant, hidden: bool) {
        self.conn.handle_visibility(now, hidden);
        self.pump(now);
    }

    /// The socket opened. A stale socket (one the machine gave up on) is closed again and
    /// the error says why.
    pub fn handle_socket_opened(
        &mut self,
        now: Instant,
        socket: SocketId,
    ) -> Result<(), ConnectionError> {
        let opened = self.conn.handle_socket_opened(now, socket);
        match opened {
            Ok(()) => {
                self.socket = Some(socket);
                self.session.handle_connected(now);
            }
            Err(_) => self.actions.push_back(SyncAction::CloseSocket {
                socket,
                reason: CloseCause::Stopped,
            }),
        }
        self.pump(now);
        opened
    }

    /// A frame arrived on `socket`. Frames of a socket that is no longer current are
    /// ignored. A frame that does not decode drops the socket (the connection backs off and
    /// reconnects) and is returned as the error.
    pub fn handle_frame(
        &mut self,
        now: Instant,
        socket: SocketId,
        frame: &[u8],
    ) -> Result<(), SessionError> {
        if self.socket != Some(socket) {
            return Ok(());
        }
        // Only refused for a stale socket, which the check above rules out.
        let _ = self.conn.handle_message_received(now, socket);
        let handled = self.session.handle_frame(now, frame);
        match &handled {
            Err(_) => {
                if self.conn.handle_socket_error(now, socket).is_ok() {
                    self.disconnected(now, socket);
                }
            }
            // The server's answer to our sync step 1 ends the initial sync.
            Ok(Signal::SyncStep2) if self.conn.state() == State::Syncing => {
                let _ = self.conn.handle_synced(now, socket);
            }
            // A pong of a stale nonce is refused by the connection, which is all it needs.
            Ok(Signal::Pong(nonce)) => {
                let _ = self.conn.handle_pong(now, *nonce);
            }
            // The same token would be refused again: stay offline until a new one comes,
            // instead of reconnecting with it forever (docs/design.md §6, *Tokens that expire*).
            Ok(Signal::AuthDenied(reason)) => {
                self.unauthorized = Some(reason.clone());
                self.conn.handle_stop(now);
            }
            Ok(_) => {}
        }
        self.pump(now);
        handled.map(drop)
    }

    /// The socket closed with this WebSocket close code
    /// ([`ABNORMAL`](crate::protocol::close_code::ABNORMAL) when no close frame came).
    pub fn handle_socket_closed(
        &mut self,
        now: Instant,
        socket: SocketId,
        code: u16,
    ) -> Result<(), ConnectionError> {
        let closed = self.conn.handle_socket_closed(now, socket, code);
        if closed.is_ok() {
            self.disconnected(now, socket);
        }
        self.pump(now);
        closed
    }

    /// The socket failed (could not connect, or errored).
    pub fn handle_socket_error(
        &mut self,
        now: Instant,
        socket: SocketId,
    ) -> Result<(), ConnectionError> {
        let failed = self.conn.handle_socket_error(now, socket);
        if failed.is_ok() {
            self.disconnected(now, socket);
        }
        self.pump(now);
        failed
    }

    /// The driver made every persist op up to `seq` durable.
    pub fn handle_persisted(&mut self, now: Instant, seq: u64) {
        self.session.handle_persisted(now, seq);
        self.pump(now);
    }

    /// When [`SyncMachine::handle_timeout`] is next due: a connection deadline (connect,
    /// sync, heartbeat, backoff) or the end of a rate-limit wait.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.conn.poll_timeout(), self.session.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed: fires whatever is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        self.session.handle_timeout(now);
        self.pump(now);
    }

    /// The next thing to do, in order.
    pub fn poll_action(&mut self) -> Option<SyncAction> {
        self.actions.pop_front()
    }

    /// The next event, in order.
    pub fn poll_event(&mut self) -> Option<SyncEvent> {
        self.events.pop_front()
    }

    /// The local doc's next change batch, taken straight from its buffer (see
    /// [`ClientSession::poll_changes`]).
    pub fn poll_changes(&mut self) -> Option<ChangeBatch> {
        self.session.poll_changes()
    }

    /// The session learns the socket is gone (once per socket).
    fn disconnected(&mut self, now: Instant, socket: SocketId) {
        if self.socket == Some(socket) {
            self.socket = None;
            // Only outbox compaction can fail here; the batches then stay as they were, each
            // still sent on the next connection, so nothing is lost by going on.
            let _ = self.session.handle_disconnected(now);
        }
    }

    /// Moves every output of one machine to the other or to the driver, until nothing moves.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut moved = false;
            while let Some(action) = self.session.poll_action() {
                moved = true;
                match action {
                    SessionAction::Send(frame) => self.send(frame),
                    SessionAction::Persist { seq, op } => {
                        self.actions.push_back(SyncAction::Persist { seq, op })
                    }
                }
            }
            while let Some(action) = self.conn.poll_action() {
                moved = true;
                match action {
                    crate::connection::Action::OpenSocket { socket } => {
                        self.actions.push_back(SyncAction::OpenSocket { socket })
                    }
                    crate::connection::Action::CloseSocket { socket, reason } => {
                        self.actions
                            .push_back(SyncAction::CloseSocket { socket, reason });
                        self.disconnected(now, socket);
                    }
                    crate::connection::Action::SendPing { socket, nonce } => {
                        if self.socket == Some(socket) {
                            self.send(self.session.heartbeat(nonce));
                        }
                    }
                }
            }
            while let Some(event) = self.conn.poll_event() {
                moved = true;
                self.events.push_back(SyncEvent::Connection(event));
            }
            while let Some(event) = self.session.poll_event() {
                moved = true;
                self.events.push_back(event);
            }
            if !moved {
                break;
            }
        }
    }

    /// Queues a frame for the current socket; without one (the session only sends while
    /// connected) there is nowhere to send it.
    fn send(&mut self, frame: Vec<u8>) {
        if let Some(socket) = self.socket {
            self.actions.push_back(SyncAction::Send { socket, frame });
        }
    }
}
