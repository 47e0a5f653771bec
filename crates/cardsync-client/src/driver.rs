//! The client's task: one loop that owns the session, the connection state machine and the
//! current socket, and carries out what they ask (the drain rule of `cardsync_sync`).
//!
//! Inputs, one at a time: commands from the [`Client`](crate::Client) handle, socket events,
//! persist confirmations from the store thread, and the state machine's timer. After each,
//! [`Driver::drain`] empties every queue until nothing moves, because one machine's output
//! is often the other's input (a session `Pong` event is the connection's `handle_pong`; a
//! connection `CloseSocket` is the session's `handle_disconnected`).

use std::sync::mpsc as std_mpsc;

use cardsync_core::{Op, Stamp};
use cardsync_sync::connection::{Action, Connection, SocketId, State};
use cardsync_sync::outbox::PersistOp;
use cardsync_sync::protocol::{BatchId, Message};
use cardsync_sync::session::{ClientSession, SessionAction, SessionError, SessionEvent};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::socket::{self, SocketEvent, WsOut};
use crate::{ClientEvent, ClientStatus};

/// A request from the [`Client`](crate::Client) handle.
pub(crate) enum Command {
    Apply {
        stamp: Stamp,
        ops: Vec<Op>,
        reply: oneshot::Sender<Result<Option<BatchId>, SessionError>>,
    },
    Read(Box<dyn FnOnce(&ClientSession) + Send>),
    Online(bool),
    Close(oneshot::Sender<()>),
}

/// A persist job for the store thread, or its outcome.
pub(crate) enum StoreJob {
    Persist { seq: u64, op: PersistOp },
}

/// The store thread's answer: `Ok(seq)` durable, or the error.
pub(crate) type StoreDone = Result<u64, String>;

pub(crate) struct Driver {
    pub session: ClientSession,
    pub conn: Connection,
    pub url: String,
    pub epoch: Instant,
    pub store: std_mpsc::Sender<StoreJob>,
    pub events: mpsc::UnboundedSender<ClientEvent>,
    pub status: watch::Sender<ClientStatus>,
    /// The current socket and its writer, once open.
    pub current: Option<(SocketId, Option<mpsc::UnboundedSender<WsOut>>)>,
    pub socket_tx: mpsc::UnboundedSender<SocketEvent>,
    /// Persist ops issued and confirmed (sequence numbers).
    pub issued: u64,
    pub confirmed: u64,
}

impl Driver {
    fn now(&self) -> cardsync_sync::connection::Instant {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        cardsync_sync::connection::Instant::from_millis(ms)
    }

    pub async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut sockets: mpsc::UnboundedReceiver<SocketEvent>,
        mut persisted: mpsc::UnboundedReceiver<StoreDone>,
    ) {
        let mut closing: Option<oneshot::Sender<()>> = None;
        let mut handle_gone = false;
        loop {
            self.drain();
            let stopping = closing.is_some() || handle_gone;
            if stopping && self.conn.state() == State::Offline && self.confirmed >= self.issued {
                break;
            }
            let due = self.conn.poll_timeout();
            let timer = self.epoch + std::time::Duration::from_millis(due.map_or(0, |t| t.0));
            let now = self.now();
            tokio::select! {
                command = commands.recv(), if !handle_gone => match command {
                    Some(Command::Apply { stamp, ops, reply }) => {
                        let applied = self.session.apply(now, &stamp, &ops);
                        // Status and events reflect the write before the caller hears back.
                        self.drain();
                        let _ = reply.send(applied);
                    }
                    Some(Command::Read(f)) => f(&self.session),
                    Some(Command::Online(true)) => self.conn.handle_start(now),
                    Some(Command::Online(false)) => self.conn.handle_stop(now),
                    Some(Command::Close(reply)) => {
                        self.conn.handle_stop(now);
                        closing = Some(reply);
                    }
                    None => {
                        self.conn.handle_stop(now);
                        handle_gone = true;
                    }
                },
                Some(event) = sockets.recv() => self.socket_event(event),
                Some(done) = persisted.recv() => match done {
                    Ok(seq) => {
                        self.confirmed = self.confirmed.max(seq);
                        self.session.handle_persisted(now, seq);
                    }
                    Err(error) => {
                        // Never confirmed: the batches stay unsent rather than unsaved.
                        let _ = self.events.send(ClientEvent::StoreFailed(error));
                        self.confirmed = self.issued;
                    }
                },
                () = tokio::time::sleep_until(timer), if due.is_some() => {
                    self.conn.handle_timeout(now);
                }
            }
        }
        if let Some(reply) = closing {
            let _ = reply.send(());
        }
    }

    fn socket_event(&mut self, event: SocketEvent) {
        let now = self.now();
        let current = self.current.as_ref().map(|(id, _)| *id);
        match event {
            SocketEvent::Opened { socket, writer } => {
                if self.conn.handle_socket_opened(now, socket).is_ok() {
                    self.current = Some((socket, Some(writer)));
                    self.session.handle_connected(now);
                } else {
                    let _ = writer.send(WsOut::Close);
                }
            }
            SocketEvent::Frame { socket, bytes } => {
                if current != Some(socket) {
                    return;
                }
                let _ = self.conn.handle_message_received(now, socket);
                if let Err(e) = self.session.handle_frame(now, &bytes) {
                    tracing::warn!(error = %e, "bad frame from the server; reconnecting");
                    if self.conn.handle_socket_error(now, socket).is_ok() {
                        self.disconnected(socket);
                    }
                    return;
                }
                // The server's answer to our sync step 1 ends the initial sync.
                if is_sync_step2(&bytes) && self.conn.state() == State::Syncing {
                    let _ = self.conn.handle_synced(now, socket);
                }
            }
            SocketEvent::Failed { socket, error } => {
                tracing::debug!(%socket, %error, "connect failed");
                if self.conn.handle_socket_error(now, socket).is_ok() {
                    self.disconnected(socket);
                }
            }
            SocketEvent::Closed {
                socket,
                code,
                reason,
            } => {
                if current == Some(socket) || self.conn.status().socket == Some(socket) {
                    let _ = self.events.send(ClientEvent::Closed {
                        code,
                        reason: reason.clone(),
                    });
                }
                if self.conn.handle_socket_closed(now, socket, code).is_ok() {
                    self.disconnected(socket);
                }
            }
        }
    }

    /// The session learns the socket is gone (once per socket).
    fn disconnected(&mut self, socket: SocketId) {
        if self.current.as_ref().is_some_and(|(id, _)| *id == socket) {
            self.current = None;
            if let Err(e) = self.session.handle_disconnected(self.now()) {
                tracing::warn!(error = %e, "outbox compaction failed");
            }
        }
    }

    fn send(&self, frame: Vec<u8>) {
        if let Some((_, Some(writer))) = &self.current {
            let _ = writer.send(WsOut::Frame(frame));
        }
    }

    /// The drain rule: carry out every action and forward every event until nothing moves.
    fn drain(&mut self) {
        // Events go out after the status is updated, so a caller that sees an event and
        // then reads the status sees the status the event describes.
        let mut events = Vec::new();
        loop {
            let mut moved = false;
            while let Some(action) = self.session.poll_action() {
                moved = true;
                match action {
                    SessionAction::Send(frame) => self.send(frame),
                    SessionAction::Persist { seq, op } => {
                        self.issued = self.issued.max(seq);
                        let _ = self.store.send(StoreJob::Persist { seq, op });
                    }
                }
            }
            while let Some(action) = self.conn.poll_action() {
                moved = true;
                match action {
                    Action::OpenSocket { socket } => {
                        let (url, tx) = (self.url.clone(), self.socket_tx.clone());
                        tokio::spawn(socket::run(socket, url, tx));
                    }
                    Action::CloseSocket { socket, .. } => {
                        if let Some((id, Some(writer))) = &self.current
                            && *id == socket
                        {
                            let _ = writer.send(WsOut::Close);
                        }
                        self.disconnected(socket);
                    }
                    Action::SendPing { socket, nonce } => {
                        if self.current.as_ref().is_some_and(|(id, _)| *id == socket) {
                            self.send(Message::Ping { nonce }.encode());
                        }
                    }
                }
            }
            while let Some(event) = self.conn.poll_event() {
                moved = true;
                events.push(ClientEvent::Connection(event));
            }
            while let Some(event) = self.session.poll_event() {
                moved = true;
                if let SessionEvent::Pong(nonce) = event {
                    let _ = self.conn.handle_pong(self.now(), nonce);
                }
                events.push(ClientEvent::Session(event));
            }
            if !moved {
                break;
            }
        }
        let status = ClientStatus {
            connection: self.conn.status(),
            session: self.session.status(self.now()),
        };
        self.status.send_if_modified(|old| {
            let changed = *old != status;
            if changed {
                *old = status;
            }
            changed
        });
        for event in events {
            let _ = self.events.send(event);
        }
    }
}

/// Whether a frame is a y-protocols sync step 2: message type 0 (sync), sub-type 1. Both are
/// varints below 128, so one byte each.
fn is_sync_step2(frame: &[u8]) -> bool {
    frame.starts_with(&[0, 1])
}
