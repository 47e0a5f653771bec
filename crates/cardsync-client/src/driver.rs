//! The client's task: one loop that owns the sans-IO [`SyncMachine`] (session and connection
//! state machine, wired together in `cardsync_sync`; the browser's `SyncClient` drives the
//! same engine through the wasm class of the same name) and the open sockets, and carries out
//! what it asks (the drain rule of `cardsync_sync`).
//!
//! Inputs, one at a time: requests from the [`Client`](crate::Client) handle, socket events,
//! persist confirmations from the store thread, and the client's timer. After each,
//! [`Driver::drain`] carries out every action and forwards every event.

use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;

use cardsync_core::{Op, Stamp};
use cardsync_sync::client::{SyncAction, SyncEvent, SyncMachine};
use cardsync_sync::connection::{SocketId, State};
use cardsync_sync::outbox::PersistOp;
use cardsync_sync::protocol::BatchId;
use cardsync_sync::session::{ClientSession, SessionError};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::mux::Transport;
use crate::presence::{Presence, PresenceChange, PresencePeer, TICK_MS};
use crate::socket::{SocketEvent, WsOut};
use crate::token::{TokenAnswer, TokenSource};
use crate::{ClientEvent, SyncStatus};

/// A request from the [`Client`](crate::Client) handle.
pub(crate) enum Request {
    Apply {
        stamp: Stamp,
        ops: Vec<Op>,
        reply: oneshot::Sender<Result<Option<BatchId>, SessionError>>,
    },
    Read(Box<dyn FnOnce(&ClientSession) + Send>),
    Online(bool),
    Token(String),
    /// Publish this JSON state (checked by `presence::check`), or withdraw it.
    Presence(Option<String>),
    Close(oneshot::Sender<()>),
}

/// A persist job for the store thread, or its outcome.
pub(crate) enum StoreJob {
    Persist { seq: u64, op: PersistOp },
}

/// The store thread's answer: `Ok(seq)` durable, or the error.
pub(crate) type StoreDone = Result<u64, String>;

pub(crate) struct Driver {
    pub machine: SyncMachine,
    /// A socket of its own, or a room of a shared connection (`mux.rs`).
    pub transport: Transport,
    pub epoch: Instant,
    pub store: std_mpsc::Sender<StoreJob>,
    pub events: mpsc::UnboundedSender<ClientEvent>,
    pub status: watch::Sender<SyncStatus>,
    /// The writers of the sockets that are open and not yet closed by us.
    pub writers: HashMap<SocketId, mpsc::UnboundedSender<WsOut>>,
    pub socket_tx: mpsc::UnboundedSender<SocketEvent>,
    /// The app's token source (`token.rs`), where its answers come back, the token last
    /// sent, and whether it was fetched for the socket about to open.
    pub token_source: Option<TokenSource>,
    pub token_tx: mpsc::UnboundedSender<TokenAnswer>,
    pub token: String,
    pub fresh: bool,
    /// Persist ops issued and confirmed (sequence numbers).
    pub issued: u64,
    pub confirmed: u64,
    /// The store failed; it confirms nothing more.
    pub store_failed: bool,
    /// This client's presence and the others' (`presence.rs`), what `Client::presence_others`
    /// reads, and the socket presence goes out on (from syncing until it drops).
    pub presence: Presence,
    pub presence_view: watch::Sender<Vec<PresencePeer>>,
    pub live: Option<SocketId>,
}

impl Driver {
    fn now(&self) -> cardsync_sync::Instant {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        cardsync_sync::Instant::from_millis(ms)
    }

    pub async fn run(
        mut self,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut sockets: mpsc::UnboundedReceiver<SocketEvent>,
        mut persisted: mpsc::UnboundedReceiver<StoreDone>,
        mut tokens: mpsc::UnboundedReceiver<TokenAnswer>,
    ) {
        let mut closing: Option<oneshot::Sender<()>> = None;
        let mut handle_gone = false;
        let mut presence_tick = tokio::time::interval(std::time::Duration::from_millis(TICK_MS));
        presence_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.drain();
            let stopping = closing.is_some() || handle_gone;
            let offline = self.machine.status(self.now()).connection.state == State::Offline;
            let stored = self.confirmed >= self.issued || self.store_failed;
            if stopping && offline && stored {
                break;
            }
            let due = self.machine.poll_timeout();
            let timer = self.epoch + std::time::Duration::from_millis(due.map_or(0, |t| t.0));
            // Each branch reads the clock when it runs: the wait may have lasted hours.
            tokio::select! {
                request = requests.recv(), if !handle_gone => match request {
                    Some(Request::Apply { stamp, ops, reply }) => {
                        let applied = self.machine.apply(self.now(), &stamp, &ops);
                        // Status and events reflect the write before the caller hears back.
                        self.drain();
                        let _ = reply.send(applied);
                    }
                    Some(Request::Read(f)) => f(self.machine.session()),
                    Some(Request::Online(true)) => self.machine.handle_start(self.now()),
                    Some(Request::Online(false)) => self.machine.handle_stop(self.now()),
                    Some(Request::Token(token)) => {
                        // The next connection uses it, without asking the source first.
                        self.token.clone_from(&token);
                        self.fresh = true;
                        self.machine.set_token(self.now(), token);
                    }
                    Some(Request::Presence(json)) => {
                        let frame = self.presence.set(self.now().0, json);
                        self.send_presence(frame);
                    }
                    Some(Request::Close(reply)) => {
                        self.withdraw_presence();
                        self.machine.handle_stop(self.now());
                        closing = Some(reply);
                    }
                    None => {
                        self.withdraw_presence();
                        self.machine.handle_stop(self.now());
                        handle_gone = true;
                    }
                },
                Some(event) = sockets.recv() => self.socket_event(event),
                Some(answer) = tokens.recv() => self.token_answer(answer),
                Some(done) = persisted.recv() => match done {
                    Ok(seq) => {
                        self.confirmed = self.confirmed.max(seq);
                        self.machine.handle_persisted(self.now(), seq);
                    }
                    Err(error) => {
                        // The store thread stops at its first failure, so nothing after it
                        // is confirmed either: the batches stay unsent rather than unsaved.
                        let _ = self.events.send(ClientEvent::StoreFailed(error));
                        self.store_failed = true;
                    }
                },
                () = tokio::time::sleep_until(timer), if due.is_some() => {
                    self.machine.handle_timeout(self.now());
                }
                _ = presence_tick.tick() => {
                    let (change, renewal) = self.presence.tick(self.now().0);
                    self.send_presence(renewal);
                    self.presence_changed(change);
                }
            }
        }
        if let Some(reply) = closing {
            let _ = reply.send(());
        }
    }

    /// Sends a presence frame on the live socket, if there is one (a new socket gets the
    /// local entry anyway once it says hello).
    fn send_presence(&self, frame: Option<Vec<u8>>) {
        if let (Some(frame), Some(socket)) = (frame, self.live)
            && let Some(writer) = self.writers.get(&socket)
        {
            let _ = writer.send(WsOut::Frame(frame));
        }
    }

    /// Closing: the others see this client's entry go at once, ahead of the close frame.
    fn withdraw_presence(&mut self) {
        let frame = self.presence.set(self.now().0, None);
        self.send_presence(frame);
    }

    /// Publishes the others' entries after a change, and reports it.
    fn presence_changed(&mut self, change: PresenceChange) {
        if change.is_empty() {
            return;
        }
        self.presence_view.send_replace(self.presence.others());
        let _ = self.events.send(ClientEvent::Presence(change));
    }

    /// What presence does with an engine event: awareness from the server is applied; a
    /// socket that said hello gets the local entry, and one that dropped takes every other
    /// entry with it.
    fn presence_event(&mut self, event: &SyncEvent) {
        let now = self.now().0;
        match event {
            SyncEvent::Awareness(update) => {
                let (change, answer) = self.presence.receive(now, update);
                self.send_presence(answer);
                self.presence_changed(change);
            }
            SyncEvent::Connection(changed) => {
                if matches!(changed.to, State::Syncing | State::Online) {
                    let socket = self.machine.status(self.now()).connection.socket;
                    if self.live.is_none() || self.live != socket {
                        self.live = socket;
                        let frame = self.presence.local_frame(now);
                        self.send_presence(frame);
                    }
                } else if self.live.take().is_some() {
                    let change = self.presence.drop_others();
                    self.presence_changed(change);
                }
            }
            _ => {}
        }
    }

    fn token_answer(&mut self, answer: TokenAnswer) {
        let now = self.now();
        match answer {
            TokenAnswer::ForSocket {
                socket,
                token: Some(token),
            } => {
                self.token.clone_from(&token);
                self.machine.set_token(now, token);
                self.transport.open(socket, self.socket_tx.clone());
            }
            TokenAnswer::ForSocket { token: None, .. } => {
                let reason = "no token from the token source".to_owned();
                self.machine.handle_token_refused(now, reason);
            }
            TokenAnswer::Refresh {
                token: Some(token), ..
            } if token != self.token => {
                self.token.clone_from(&token);
                self.fresh = true;
                self.machine.set_token(now, token);
            }
            TokenAnswer::Refresh { reason, .. } => self.machine.handle_token_refused(now, reason),
        }
    }

    /// Asks the token source (off the task) and sends its answer back as `answer(token)`.
    fn fetch_token(&self, answer: impl FnOnce(Option<String>) -> TokenAnswer + Send + 'static) {
        let Some(source) = self.token_source.clone() else {
            return;
        };
        let tx = self.token_tx.clone();
        tokio::spawn(async move {
            let token = source.fetch().await;
            let _ = tx.send(answer(token));
        });
    }

    fn socket_event(&mut self, event: SocketEvent) {
        let now = self.now();
        // Refusals are stale sockets: the client has already asked to close those.
        match event {
            SocketEvent::Opened { socket, writer } => {
                self.writers.insert(socket, writer);
                let _ = self.machine.handle_socket_opened(now, socket);
            }
            SocketEvent::Frame { socket, bytes } => {
                if let Err(e) = self.machine.handle_frame(now, socket, &bytes) {
                    tracing::warn!(error = %e, "bad frame from the server; reconnecting");
                }
            }
            SocketEvent::Failed { socket, error } => {
                tracing::debug!(%socket, %error, "connect failed");
                self.writers.remove(&socket);
                let _ = self.machine.handle_socket_error(now, socket);
            }
            SocketEvent::Closed {
                socket,
                code,
                reason,
            } => {
                if self.writers.remove(&socket).is_some() {
                    let _ = self.events.send(ClientEvent::Closed { code, reason });
                }
                let _ = self.machine.handle_socket_closed(now, socket, code);
            }
        }
    }

    /// The drain rule: carry out every action, then publish the status, then forward every
    /// event, so a caller that sees an event and then reads the status sees the status the
    /// event describes.
    fn drain(&mut self) {
        while let Some(action) = self.machine.poll_action() {
            match action {
                SyncAction::OpenSocket { socket } => {
                    if self.token_source.is_some() && !self.fresh {
                        self.fetch_token(move |token| TokenAnswer::ForSocket { socket, token });
                    } else {
                        self.fresh = false;
                        self.transport.open(socket, self.socket_tx.clone());
                    }
                }
                SyncAction::Send { socket, frame } => {
                    if let Some(writer) = self.writers.get(&socket) {
                        let _ = writer.send(WsOut::Frame(frame));
                    }
                }
                SyncAction::CloseSocket { socket, .. } => {
                    if let Some(writer) = self.writers.remove(&socket) {
                        let _ = writer.send(WsOut::Close);
                    }
                }
                SyncAction::Persist { seq, op } => {
                    self.issued = self.issued.max(seq);
                    let _ = self.store.send(StoreJob::Persist { seq, op });
                }
            }
        }
        let status = self.machine.status(self.now());
        self.status.send_if_modified(|old| {
            let changed = *old != status;
            if changed {
                *old = status;
            }
            changed
        });
        while let Some(batch) = self.machine.poll_changes() {
            let _ = self.events.send(ClientEvent::Changes(batch));
        }
        while let Some(event) = self.machine.poll_event() {
            self.presence_event(&event);
            if let SyncEvent::AuthDenied(reason) = &event {
                let reason = reason.clone();
                self.fetch_token(move |token| TokenAnswer::Refresh { reason, token });
            }
            let _ = self.events.send(ClientEvent::Sync(event));
        }
    }
}
