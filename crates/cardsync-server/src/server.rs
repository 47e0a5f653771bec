//! Starting, running and stopping the server: the library's entry point.
//!
//! # Shutdown, in order
//! 1. the listener stops accepting;
//! 2. every room closes its connections with code
//!    [`GOING_AWAY`](cardsync_sync::protocol::close_code::GOING_AWAY) and waits until the
//!    writer has confirmed every persist it issued, so nothing acked is left in memory;
//! 3. the writer commits what is queued and the store flushes (a WAL checkpoint);
//! 4. the writer and compactor threads stop.
//!
//! A shutdown is requested with a [`ShutdownHandle`] (the binary wires ctrl-c and SIGTERM to
//! it) and awaited with [`Server::wait`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cardsync_core::Schema;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::Secret;
use crate::config::{DB_FILE, ServerConfig};
use crate::error::{ServerError, StartError};
use crate::metrics::{Metrics, Snapshot};
use crate::persist::Persister;
use crate::rooms::{self, Shared};
use crate::store::{PostgresStore, SqliteStore, Store, WakeUp};
use crate::validators::{AppValidators, RoomValidators};

/// How long shutdown waits for connections to finish their closing handshakes.
const CONNECTION_GRACE: Duration = Duration::from_secs(5);

/// Asks a running server to shut down. Cheap to clone; calling it twice is harmless.
#[derive(Clone, Debug)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Starts a graceful shutdown.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    shutdown: ShutdownHandle,
    metrics: Arc<Metrics>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl Server {
    /// Opens the store `config.store` names (by default the SQLite file in
    /// `config.data_dir`, created if missing), checks it, and starts serving. Fails with a
    /// typed error, before listening, if the store cannot be opened or is damaged: a bad
    /// store URL, an unreachable database, a schema of a newer version.
    pub async fn start(
        config: ServerConfig,
        schema: Schema,
        secret: Secret,
    ) -> Result<Self, StartError> {
        Self::open(config, schema, secret, None).await
    }

    /// [`Server::start`], with an application's own validators beside those the
    /// configuration enables: each room runs `validators.for_doc(doc)` after the configured
    /// ones (see [`crate::validators`]). How a team builds its own server binary.
    pub async fn start_with_validators(
        config: ServerConfig,
        schema: Schema,
        secret: Secret,
        validators: impl RoomValidators + 'static,
    ) -> Result<Self, StartError> {
        Self::open(config, schema, secret, Some(Arc::new(validators))).await
    }

    async fn open(
        config: ServerConfig,
        schema: Schema,
        secret: Secret,
        custom: Option<Arc<dyn RoomValidators>>,
    ) -> Result<Self, StartError> {
        let (location, dir) = (config.store.clone(), config.data_dir.clone());
        let (synchronous, verify) = (config.storage.synchronous, config.storage.verify_on_start);
        let store = tokio::task::spawn_blocking(move || -> Result<Arc<dyn Store>, StartError> {
            let store: Arc<dyn Store> = match location.as_deref() {
                None | Some("sqlite") => {
                    std::fs::create_dir_all(&dir).map_err(|source| StartError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                    Arc::new(SqliteStore::open(&dir.join(DB_FILE), synchronous)?)
                }
                Some(url) => {
                    let store = PostgresStore::connect(url)?;
                    tracing::info!(target = store.target(), "PostgreSQL store");
                    Arc::new(store)
                }
            };
            if verify {
                let report = store.verify()?;
                tracing::info!(
                    documents = report.documents,
                    updates = report.updates,
                    bytes = report.bytes,
                    "store verified"
                );
            }
            Ok(store)
        })
        .await??;
        Self::launch(config, schema, secret, store, custom).await
    }

    /// Starts serving on a store of the caller's choice (checked by the caller).
    pub async fn start_with_store(
        config: ServerConfig,
        schema: Schema,
        secret: Secret,
        store: Arc<dyn Store>,
    ) -> Result<Self, StartError> {
        Self::launch(config, schema, secret, store, None).await
    }

    async fn launch(
        config: ServerConfig,
        schema: Schema,
        secret: Secret,
        store: Arc<dyn Store>,
        custom: Option<Arc<dyn RoomValidators>>,
    ) -> Result<Self, StartError> {
        schema.check()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let validators = config.validators.clone();
        let metrics = Arc::new(Metrics::default());
        let (persister, threads) = Persister::start(
            Arc::clone(&store),
            Arc::clone(&metrics),
            config.audit.feed_buffer,
        );
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(
            config,
            Arc::new(schema),
            secret,
            store,
            persister,
            Arc::clone(&metrics),
            stop_rx.clone(),
            AppValidators::new(validators, custom),
        ));
        let bus = listen(&shared);
        tokio::spawn(prune_audit(Arc::clone(&shared)));
        let app = crate::http::router(Arc::clone(&shared));
        let head_timeout = Duration::from_millis(shared.config.limits.handshake_timeout_ms);
        let task = tokio::spawn(async move {
            let traffic = Arc::clone(&shared.metrics);
            crate::accept::serve(listener, app, head_timeout, traffic, stop_rx).await;
            let drained = drain(&shared).await;
            let flushed = shared.persister.flush().await;
            let max = shared.config.limits.max_connections;
            let connections = Arc::clone(&shared.connections);
            drop(shared);
            let _ = tokio::time::timeout(CONNECTION_GRACE, async {
                while connections.available_permits() < max {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await;
            // Every `Persister` clone lived in `Shared`, now dropped, so the threads end.
            tokio::task::spawn_blocking(move || {
                threads.join();
                // The bus ends within a second of the node stopping (its next idle report).
                if let Some(bus) = bus {
                    let _ = bus.join();
                }
            })
            .await?;
            drained?;
            flushed.map_err(ServerError::Flush)?;
            tracing::info!("shut down");
            Ok(())
        });
        tracing::info!(%addr, "listening");
        Ok(Self {
            addr,
            shutdown: ShutdownHandle(Arc::new(stop_tx)),
            metrics,
            task,
        })
    }

    /// The address the server listens on (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to shut the server down from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// The live figures, as `GET /metrics.json` serves them.
    pub fn metrics(&self) -> Snapshot {
        self.metrics.snapshot()
    }

    /// Waits until the server has shut down (after a [`ShutdownHandle::shutdown`]).
    pub async fn wait(self) -> Result<(), ServerError> {
        // Keep the sender alive while waiting, or the rooms would see it dropped.
        let _keep = self.shutdown;
        self.task.await?
    }

    /// Shuts down gracefully and waits for it.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        self.shutdown.shutdown();
        self.wait().await
    }
}

/// How often audit records past their retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Deletes audit records past `[audit] retention_days`, at start and every [`PRUNE_EVERY`],
/// until shutdown. Off the path of every ack: a store call on a blocking thread.
async fn prune_audit(shared: Arc<Shared>) {
    let Some(retention) = shared.config.audit.retention() else {
        return;
    };
    let mut stop = shared.shutdown.clone();
    loop {
        let store = Arc::clone(&shared.store);
        let before = crate::store::now_ms()
            .saturating_sub(u64::try_from(retention.as_millis()).unwrap_or(u64::MAX));
        match tokio::task::spawn_blocking(move || store.prune_audit(before)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(deleted)) => {
                tracing::info!(deleted, "audit records past their retention deleted")
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot prune the audit trail; trying again later")
            }
            Err(_) => return,
        }
        tokio::select! {
            () = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

/// Stops new joins and waits for every room task to drain.
async fn drain(shared: &Arc<Shared>) -> Result<(), ServerError> {
    let mut tasks = {
        let mut registry = shared.registry();
        registry.shutting_down = true;
        std::mem::take(&mut registry.tasks)
    };
    while let Some(joined) = tasks.join_next().await {
        joined?;
    }
    Ok(())
}

/// Starts the store's bus: wake-ups go to the rooms, and its state to the metrics. The
/// listener holds the node weakly, so it ends once the node has stopped.
fn listen(shared: &Arc<Shared>) -> Option<std::thread::JoinHandle<()>> {
    let node = Arc::downgrade(shared);
    shared.store.bus().listen(Box::new(move |wake_up| {
        let Some(shared) = node.upgrade() else {
            return false;
        };
        if *shared.shutdown.borrow() {
            return false;
        }
        match wake_up {
            WakeUp::Head { doc, head } => rooms::wake(&shared, &doc, head),
            WakeUp::Missed => {
                shared.metrics.bus_connected(true);
                rooms::wake_all(&shared);
            }
            WakeUp::Lost => shared.metrics.bus_connected(false),
            WakeUp::Idle => {}
        }
        true
    }))
}
