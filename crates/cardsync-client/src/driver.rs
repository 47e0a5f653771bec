//! The client's task: one loop that owns the sans-IO [`SyncClient`] (session and connection
//! state machine, wired together in `cardsync_sync`) and the open sockets, and carries out
//! what it asks (the drain rule of `cardsync_sync`).
//!
//! Inputs, one at a time: commands from the [`Client`](crate::Client) handle, socket events,
//! persist confirmations from the store thread, and the client's timer. After each,
//! [`Driver::drain`] carries out every action and forwards every event.

use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;

use cardsync_core::{Op, Stamp};
use cardsync_sync::client::{ClientAction, ClientEvent as Event, SyncClient};
use cardsync_sync::connection::{SocketId, State};
use cardsync_sync::outbox::PersistOp;
use cardsync_sync::protocol::BatchId;
use cardsync_sync::session::{ClientSession, SessionError};
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
    pub client: SyncClient,
    pub url: String,
    pub epoch: Instant,
    pub store: std_mpsc::Sender<StoreJob>,
    pub events: mpsc::UnboundedSender<ClientEvent>,
    pub status: watch::Sender<ClientStatus>,
    /// The writers of the sockets that are open and not yet closed by us.
    pub writers: HashMap<SocketId, mpsc::UnboundedSender<WsOut>>,
    pub socket_tx: mpsc::UnboundedSender<SocketEvent>,
    /// Persist ops issued and confirmed (sequence numbers).
    pub issued: u64,
    pub confirmed: u64,
    /// The store failed; it confirms nothing more.
    pub store_failed: bool,
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
            let offline = self.client.status(self.now()).connection.state == State::Offline;
            let stored = self.confirmed >= self.issued || self.store_failed;
            if stopping && offline && stored {
                break;
            }
            let due = self.client.poll_timeout();
            let timer = self.epoch + std::time::Duration::from_millis(due.map_or(0, |t| t.0));
            // Each branch reads the clock when it runs: the wait may have lasted hours.
            tokio::select! {
                command = commands.recv(), if !handle_gone => match command {
                    Some(Command::Apply { stamp, ops, reply }) => {
                        let applied = self.client.apply(self.now(), &stamp, &ops);
                        // Status and events reflect the write before the caller hears back.
                        self.drain();
                        let _ = reply.send(applied);
                    }
                    Some(Command::Read(f)) => f(self.client.session()),
                    Some(Command::Online(true)) => self.client.handle_start(self.now()),
                    Some(Command::Online(false)) => self.client.handle_stop(self.now()),
                    Some(Command::Close(reply)) => {
                        self.client.handle_stop(self.now());
                        closing = Some(reply);
                    }
                    None => {
                        self.client.handle_stop(self.now());
                        handle_gone = true;
                    }
                },
                Some(event) = sockets.recv() => self.socket_event(event),
                Some(done) = persisted.recv() => match done {
                    Ok(seq) => {
                        self.confirmed = self.confirmed.max(seq);
                        self.client.handle_persisted(self.now(), seq);
                    }
                    Err(error) => {
                        // The store thread stops at its first failure, so nothing after it
                        // is confirmed either: the batches stay unsent rather than unsaved.
                        let _ = self.events.send(ClientEvent::StoreFailed(error));
                        self.store_failed = true;
                    }
                },
                () = tokio::time::sleep_until(timer), if due.is_some() => {
                    self.client.handle_timeout(self.now());
                }
            }
        }
        if let Some(reply) = closing {
            let _ = reply.send(());
        }
    }

    fn socket_event(&mut self, event: SocketEvent) {
        let now = self.now();
        // Refusals are stale sockets: the client has already asked to close those.
        match event {
            SocketEvent::Opened { socket, writer } => {
                self.writers.insert(socket, writer);
                let _ = self.client.handle_socket_opened(now, socket);
            }
            SocketEvent::Frame { socket, bytes } => {
                if let Err(e) = self.client.handle_frame(now, socket, &bytes) {
                    tracing::warn!(error = %e, "bad frame from the server; reconnecting");
                }
            }
            SocketEvent::Failed { socket, error } => {
                tracing::debug!(%socket, %error, "connect failed");
                self.writers.remove(&socket);
                let _ = self.client.handle_socket_error(now, socket);
            }
            SocketEvent::Closed {
                socket,
                code,
                reason,
            } => {
                if self.writers.remove(&socket).is_some() {
                    let _ = self.events.send(ClientEvent::Closed { code, reason });
                }
                let _ = self.client.handle_socket_closed(now, socket, code);
            }
        }
    }

    /// The drain rule: carry out every action, then publish the status, then forward every
    /// event, so a caller that sees an event and then reads the status sees the status the
    /// event describes.
    fn drain(&mut self) {
        while let Some(action) = self.client.poll_action() {
            match action {
                ClientAction::OpenSocket { socket } => {
                    let (url, tx) = (self.url.clone(), self.socket_tx.clone());
                    tokio::spawn(socket::run(socket, url, tx));
                }
                ClientAction::Send { socket, frame } => {
                    if let Some(writer) = self.writers.get(&socket) {
                        let _ = writer.send(WsOut::Frame(frame));
                    }
                }
                ClientAction::CloseSocket { socket, .. } => {
                    if let Some(writer) = self.writers.remove(&socket) {
                        let _ = writer.send(WsOut::Close);
                    }
                }
                ClientAction::Persist { seq, op } => {
                    self.issued = self.issued.max(seq);
                    let _ = self.store.send(StoreJob::Persist { seq, op });
                }
            }
        }
        let status = self.client.status(self.now());
        self.status.send_if_modified(|old| {
            let changed = *old != status;
            if changed {
                *old = status;
            }
            changed
        });
        while let Some(event) = self.client.poll_event() {
            let event = match event {
                Event::Session(e) => ClientEvent::Session(e),
                Event::Connection(e) => ClientEvent::Connection(e),
            };
            let _ = self.events.send(event);
        }
    }
}
