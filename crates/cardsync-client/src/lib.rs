//! # cardsync-client
//!
//! The native cardsync client: a tokio task that drives the sans-IO sync engine,
//! [`cardsync_sync::SyncMachine`] (a `ClientSession` and the `Connection` state machine, wired
//! together), over a real WebSocket, with the outbox and the confirmed state in a SQLite file
//! ([`SqliteOutboxStore`]). The browser's `SyncClient` drives the same engine.
//!
//! Everything that decides something lives in `cardsync_sync`: when to connect, back off and
//! ping; what to send; how to roll back a rejection. This crate only carries it out: it opens
//! sockets, writes the store on a thread of its own, and keeps time. So a native peer behaves
//! exactly as the browser client does, and survives restarts: edits made offline are durable
//! before they count as made, and are sent (once) when a connection comes.
//!
//! ```no_run
//! use std::sync::Arc;
//! use cardsync_client::{Client, ClientConfig};
//! use cardsync_core::{CardId, Op, Schema, Stamp};
//!
//! # async fn run(schema: Arc<Schema>, token: String) -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = ClientConfig::new("ws://127.0.0.1:4455/rooms/board", token);
//! config.store = Some("board.db".into()); // outbox and confirmed state survive restarts
//! let (client, mut events) = Client::open(schema, config).await?;
//! let card = CardId::from_u128(1);
//! client.apply(Stamp::new(1, "me"), vec![Op::CreateCard {
//!     card, kind: "task".into(), fields: Default::default() }]).await?;
//! client.wait_for(|s| s.session.pending == 0).await; // acked: durable on the server
//! while let Ok(Some(event)) = tokio::time::timeout(std::time::Duration::ZERO, events.recv()).await {
//!     println!("{event:?}");
//! }
//! client.close().await?;
//! # Ok(()) }
//! ```

mod driver;
mod mux;
mod presence;
mod socket;
mod store;
mod token;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;

use cardsync_core::{ChangeBatch, Op, Schema, Stamp};
pub use cardsync_sync::SyncStatus;
use cardsync_sync::client::{SyncEvent, SyncMachine};
use cardsync_sync::connection::{Connection, ConnectionConfig, ConnectionConfigError, SplitMix64};
use cardsync_sync::outbox::{MemoryStore, OutboxStore, Persisted};
use cardsync_sync::protocol::BatchId;
use cardsync_sync::session::{ClientSession, SessionConfig, SessionError};
pub use presence::{
    Cursor, MAX_PRESENCE_BYTES, PresenceChange, PresenceError, PresencePeer, PresenceState,
};
pub use store::{OutboxStoreError, SqliteOutboxStore};
use thiserror::Error;
pub use token::TokenSource;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use driver::{Driver, Request, StoreDone, StoreJob};

/// How to connect and where to keep state.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The room's URL, e.g. `ws://127.0.0.1:4455/rooms/board`.
    pub url: String,
    /// The session settings; `session.token` is sent in the hello.
    pub session: SessionConfig,
    /// Backoff, heartbeat and timeouts.
    pub connection: ConnectionConfig,
    /// The SQLite file for the outbox and confirmed state; `None` keeps them in memory
    /// (nothing survives a restart).
    pub store: Option<PathBuf>,
    /// Seed for client ids and backoff jitter. Leave `None` (drawn from the clock and the
    /// process id): two runs with one seed would reuse client ids.
    pub seed: Option<u64>,
    /// Connect at once.
    pub online: bool,
    /// Asked for a token before each connection and when the server refuses one; `None`
    /// sends `session.token` every time.
    pub token_source: Option<TokenSource>,
}

impl ClientConfig {
    /// Defaults for `url` with `token`.
    pub fn new(url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            session: SessionConfig {
                token: token.into(),
                ..SessionConfig::default()
            },
            connection: ConnectionConfig::default(),
            store: None,
            seed: None,
            online: true,
            token_source: None,
        }
    }
}

/// What the client reports: the local doc's changes, the sync engine's events as it gives
/// them, plus socket closes (with the server's code and reason) and store failures.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// The local doc changed (local edits, remote updates, undo, rollbacks).
    Changes(ChangeBatch),
    /// From the engine: acks, rejections, conflicts, welcome, auth denied, connection
    /// transitions.
    Sync(SyncEvent),
    /// The socket closed, with the close code and reason the server gave.
    Closed {
        /// WebSocket close code
        /// ([`ABNORMAL`](cardsync_sync::protocol::close_code::ABNORMAL): no close frame).
        code: u16,
        /// The server's reason.
        reason: String,
    },
    /// The store could not persist; affected batches stay unsent.
    StoreFailed(String),
    /// Other peers' presence changed ([`Client::presence_others`] has the entries).
    Presence(PresenceChange),
}

/// The client could not start or has stopped.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] OutboxStoreError),
    /// The persisted state does not make a session.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The connection settings are invalid.
    #[error(transparent)]
    Config(#[from] ConnectionConfigError),
    /// A presence state that cannot be published.
    #[error(transparent)]
    Presence(#[from] PresenceError),
    /// The client's task has stopped.
    #[error("the client has stopped")]
    Stopped,
}

/// ClientEvents, in order. Dropping it is fine: events are then discarded.
pub type ClientEvents = mpsc::UnboundedReceiver<ClientEvent>;

/// A running client. See the [crate docs](crate).
pub struct Client {
    requests: mpsc::UnboundedSender<Request>,
    status: watch::Receiver<SyncStatus>,
    presence: watch::Receiver<Vec<PresencePeer>>,
    presence_id: u64,
    task: JoinHandle<()>,
    store_thread: std::thread::JoinHandle<()>,
}

fn default_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15
}

impl Client {
    /// Opens the store, resumes the session from it, and starts the client task, with a
    /// WebSocket of its own to `config.url`. [`MuxClient::open`] opens many documents over
    /// one connection instead.
    pub async fn open(
        schema: Arc<Schema>,
        config: ClientConfig,
    ) -> Result<(Client, ClientEvents), ClientError> {
        let transport = mux::Transport::Direct(config.url.clone());
        Self::start(schema, config, transport).await
    }

    pub(crate) async fn start(
        schema: Arc<Schema>,
        config: ClientConfig,
        transport: mux::Transport,
    ) -> Result<(Client, ClientEvents), ClientError> {
        let path = config.store.clone();
        let (store, persisted): (
            Box<dyn OutboxStore<Error = OutboxStoreError> + Send>,
            Persisted,
        ) = tokio::task::spawn_blocking(move || -> Result<_, OutboxStoreError> {
            let mut store: Box<dyn OutboxStore<Error = OutboxStoreError> + Send> = match path {
                Some(path) => Box::new(SqliteOutboxStore::open(&path)?),
                None => Box::new(MemoryAdapter::default()),
            };
            let persisted = store.load()?;
            Ok((store, persisted))
        })
        .await
        .map_err(|_| ClientError::Stopped)??;
        let seed = config.seed.unwrap_or_else(default_seed);
        let session = ClientSession::new(
            schema,
            config.session.clone(),
            persisted,
            Box::new(SplitMix64::new(seed)),
        )?;
        let conn = Connection::new(config.connection.clone(), SplitMix64::new(!seed))?;
        let mut machine = SyncMachine::new(session, conn);
        let (persisted_tx, persisted_rx) = mpsc::unbounded_channel();
        let (store_tx, store_rx) = std_mpsc::channel();
        let store_thread = std::thread::Builder::new()
            .name("cardsync-client-store".into())
            .spawn(move || store_loop(store, &store_rx, &persisted_tx))
            .map_err(|_| ClientError::Stopped)?;
        let epoch = tokio::time::Instant::now();
        if config.online {
            machine.handle_start(cardsync_sync::Instant::ZERO);
        }
        let status = machine.status(cardsync_sync::Instant::ZERO);
        let (status_tx, status_rx) = watch::channel(status);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (requests_tx, requests_rx) = mpsc::unbounded_channel();
        let (socket_tx, socket_rx) = mpsc::unbounded_channel();
        let (token_tx, token_rx) = mpsc::unbounded_channel();
        let (presence_tx, presence_rx) = watch::channel(Vec::new());
        // A 32-bit awareness client id, as Yjs draws its own.
        let presence_id = SplitMix64::new(seed ^ 0x5052_4553).next_u64() >> 32;
        let driver = Driver {
            machine,
            transport,
            epoch,
            store: store_tx,
            events: events_tx,
            status: status_tx,
            writers: std::collections::HashMap::new(),
            socket_tx,
            token_source: config.token_source.clone(),
            token_tx,
            token: config.session.token.clone(),
            fresh: false,
            issued: 0,
            confirmed: 0,
            store_failed: false,
            presence: presence::Presence::new(presence_id),
            presence_view: presence_tx,
            live: None,
        };
        let task = tokio::spawn(driver.run(requests_rx, socket_rx, persisted_rx, token_rx));
        let client = Client {
            requests: requests_tx,
            status: status_rx,
            presence: presence_rx,
            presence_id,
            task,
            store_thread,
        };
        Ok((client, events_rx))
    }

    /// Applies a local change at once (optimistically) and queues it for the server.
    pub async fn apply(&self, stamp: Stamp, ops: Vec<Op>) -> Result<Option<BatchId>, ClientError> {
        let (reply, rx) = oneshot::channel();
        self.request(Request::Apply { stamp, ops, reply })?;
        Ok(rx.await.map_err(|_| ClientError::Stopped)??)
    }

    /// Runs `f` on the session (its local and confirmed docs, pending batches, conflicts).
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&ClientSession) -> R + Send + 'static,
    ) -> Result<R, ClientError> {
        let (reply, rx) = oneshot::channel();
        self.request(Request::Read(Box::new(move |session| {
            let _ = reply.send(f(session));
        })))?;
        rx.await.map_err(|_| ClientError::Stopped)
    }

    /// Connects (`true`) or disconnects and stays offline (`false`).
    pub fn set_online(&self, online: bool) -> Result<(), ClientError> {
        self.request(Request::Online(online))
    }

    /// Supplies a token for the next hello. After a refusal (`status().unauthorized`: the
    /// server refused the token, and the client stays offline rather than reconnect with it
    /// forever) the client connects again at once.
    pub fn set_token(&self, token: impl Into<String>) -> Result<(), ClientError> {
        self.request(Request::Token(token.into()))
    }

    /// Publishes this client's presence (docs/design.md §6, *Presence*): sent at once when
    /// connected, again on every new connection, renewed every 15 s, withdrawn on
    /// [`Client::close`]. Stock y-websocket peers and npm clients see it.
    pub fn set_presence(&self, state: &PresenceState) -> Result<(), ClientError> {
        let json = presence::check(state)?;
        self.request(Request::Presence(Some(json)))
    }

    /// Withdraws this client's presence: the others see its entry removed.
    pub fn clear_presence(&self) -> Result<(), ClientError> {
        self.request(Request::Presence(None))
    }

    /// The other peers' presence, by awareness client id (changes come as
    /// [`ClientEvent::Presence`]).
    pub fn presence_others(&self) -> Vec<PresencePeer> {
        self.presence.borrow().clone()
    }

    /// This client's awareness client id.
    pub fn presence_client_id(&self) -> u64 {
        self.presence_id
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Waits until the status satisfies `pred`, and returns it.
    pub async fn wait_for(&self, pred: impl FnMut(&SyncStatus) -> bool) -> SyncStatus {
        let mut status = self.status.clone();
        let seen = status.wait_for(pred).await.map(|s| s.clone());
        seen.unwrap_or_else(|_| self.status())
    }

    /// Disconnects, waits until every persist is durable, and stops.
    pub async fn close(self) -> Result<(), ClientError> {
        let (reply, rx) = oneshot::channel();
        self.request(Request::Close(reply))?;
        let _ = rx.await;
        let _ = self.task.await;
        let thread = self.store_thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|_| ClientError::Stopped)?
            .map_err(|_| ClientError::Stopped)
    }

    fn request(&self, request: Request) -> Result<(), ClientError> {
        self.requests
            .send(request)
            .map_err(|_| ClientError::Stopped)
    }
}

/// One connection to a server's `/ws`, shared by many documents: each [`MuxClient::open`]
/// is a [`Client`] whose socket is a room of that connection (docs/design.md §6, *Many rooms
/// over one socket*).
pub struct MuxClient {
    commands: mpsc::UnboundedSender<mux::MuxCommand>,
    schema: Arc<Schema>,
}

impl MuxClient {
    /// A shared connection to `url` (the server's multiplexed endpoint, e.g.
    /// `ws://127.0.0.1:4455/ws`), opened when the first document needs it. Call it inside a
    /// tokio runtime.
    pub fn new(url: impl Into<String>, schema: Arc<Schema>) -> Self {
        Self {
            commands: mux::spawn(url.into()),
            schema,
        }
    }

    /// Opens document `doc` with `token` over this connection, with the default settings.
    pub async fn open(
        &self,
        doc: &str,
        token: impl Into<String>,
    ) -> Result<(Client, ClientEvents), ClientError> {
        self.open_with(doc, ClientConfig::new(String::new(), token))
            .await
    }

    /// Opens document `doc` over this connection with `config` (its `url` is not used: the
    /// document is reached through this connection).
    pub async fn open_with(
        &self,
        doc: &str,
        config: ClientConfig,
    ) -> Result<(Client, ClientEvents), ClientError> {
        let transport = mux::Transport::Mux {
            commands: self.commands.clone(),
            doc: doc.to_owned(),
        };
        Client::start(Arc::clone(&self.schema), config, transport).await
    }
}

/// The in-memory store, with this crate's error type.
#[derive(Default)]
struct MemoryAdapter(MemoryStore);

impl OutboxStore for MemoryAdapter {
    type Error = OutboxStoreError;
    fn load(&mut self) -> Result<Persisted, OutboxStoreError> {
        Ok(self.0.state().clone())
    }
    fn persist(&mut self, op: &cardsync_sync::outbox::PersistOp) -> Result<(), OutboxStoreError> {
        match self.0.persist(op) {
            Ok(()) => Ok(()),
            Err(never) => match never {},
        }
    }
}

fn store_loop(
    mut store: Box<dyn OutboxStore<Error = OutboxStoreError> + Send>,
    jobs: &std_mpsc::Receiver<StoreJob>,
    done: &mpsc::UnboundedSender<StoreDone>,
) {
    while let Ok(StoreJob::Persist { seq, op }) = jobs.recv() {
        let result = store.persist(&op).map(|()| seq).map_err(|e| e.to_string());
        let failed = result.is_err();
        if let Err(e) = &result {
            tracing::error!(error = %e, "client store write failed; no later write is made");
        }
        let _ = done.send(result);
        // A later success would confirm this op too (confirmations are cumulative), and later
        // ops assume it is stored: stop here.
        if failed {
            return;
        }
    }
}
