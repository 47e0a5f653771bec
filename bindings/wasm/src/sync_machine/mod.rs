//! `SyncMachine`: the sans-IO sync engine ([`cardsync_sync::SyncMachine`]) for a
//! JavaScript driver.
//!
//! The class has the engine's name because it is the engine: it holds one
//! `cardsync_sync::SyncMachine` (inside the [`CardDoc`] it shares) and adds only the
//! JS conversions. In this module the bare name is the exported class; the engine is always
//! written with its path.
//!
//! The decisions (when to connect, back off and ping; what to send, persist and roll back)
//! are all in Rust, shared with the native client. What is left to JavaScript is I/O: open
//! the WebSocket it asks for, carry frames, keep one timer, write persist ops to IndexedDB
//! and confirm them. The package's `SyncClient` (`pkg/src/sync/`) is that driver; this class
//! is what it drives, and the driver follows the drain rule: after every call, take
//! [`SyncMachine::poll_actions`] and [`SyncMachine::poll_reports`].
//!
//! The document is a [`CardDoc`] sharing the session's local doc ([`SyncMachine::doc`]):
//! reads and writes as on any document, each write queued as an outbox batch, after which
//! the driver's `wake` callback runs so it drains the new actions.
//!
//! Time is the host's `Date.now()`: the connection machine never lets it run backwards.

mod persist;
mod report;
mod types;

use std::sync::Arc;

use cardsync_core::Schema;
use cardsync_sync::client::SyncAction;
use cardsync_sync::connection::{CloseCause, Connection, ConnectionConfig, SocketId, SplitMix64};
use cardsync_sync::session::{ClientSession, SessionConfig};
use js_sys::{Function, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::card_doc::{Backing, CardDoc, Synced, now};
use crate::convert::{from_js, from_js_or_default, to_js};
use crate::error::{JsResult, js_error};
use crate::random;
use crate::types::JsSchema;
use types::{JsPersisted, JsSyncAction, JsSyncOptions, JsSyncReport, JsSyncStatus};

/// `SyncOptions` from TypeScript.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SyncOptions {
    #[serde(default)]
    token: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    session: SessionConfig,
    #[serde(default)]
    connection: ConnectionConfig,
}

/// The sync engine under `SyncClient`: a sync session (local doc, confirmed doc, outbox,
/// rollback) and the connection state machine (heartbeat, backoff, status), with no I/O of
/// its own. Use `SyncClient` unless you are writing a driver (e.g. for a worker or a
/// different transport).
// Not a doc comment (it would reach the TypeScript declarations): this class is the Rust
// engine `cardsync_sync::SyncMachine` under the same name, reached through the
// `CardDoc` it shares; the native client drives that same type directly.
#[wasm_bindgen]
pub struct SyncMachine {
    doc: CardDoc,
}

#[wasm_bindgen]
impl SyncMachine {
    /// Restores a session from what the store loaded (nothing, for a new replica). Stopped
    /// until `start()`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        schema: JsSchema,
        options: JsSyncOptions,
        persisted: Option<JsPersisted>,
    ) -> Result<SyncMachine, JsValue> {
        let schema: Schema = from_js(schema.into(), "schema")?;
        let options: SyncOptions = from_js_or_default(options.into(), "options")?;
        let persisted = persist::persisted(persisted.map(JsValue::from).unwrap_or_default())?;
        let config = SessionConfig {
            token: options.token,
            ..options.session
        };
        let seed = u64::from_le_bytes(random::id_bytes()?[..8].try_into().unwrap_or_default());
        let session = ClientSession::new(
            Arc::new(schema),
            config,
            persisted,
            Box::new(SplitMix64::new(seed)),
        )
        .js()?;
        let conn = Connection::new(options.connection, SplitMix64::new(!seed))
            .map_err(|e| js_error("invalid_argument", format!("options.connection: {e}")))?;
        let synced = Synced {
            machine: cardsync_sync::SyncMachine::new(session, conn),
            wake: None,
        };
        let machine = SyncMachine {
            doc: CardDoc::synced(synced, options.actor),
        };
        machine.doc.deliver();
        Ok(machine)
    }

    /// The local doc: read and write it like any `CardDoc`. Every call returns a handle on
    /// the same document.
    #[wasm_bindgen(getter)]
    pub fn doc(&self) -> CardDoc {
        self.doc.share()
    }

    /// Called (with no arguments) after each write through `doc`, so the driver drains the
    /// new actions. Replaces any earlier callback.
    #[wasm_bindgen(js_name = setWake)]
    pub fn set_wake(&self, wake: Function) -> Result<(), JsValue> {
        self.with(|synced| {
            synced.wake = Some(wake);
            Ok(())
        })
    }

    /// Adopts the store another tab of this document left, once this tab holds its Web Lock:
    /// its confirmed state and pending batches join this session's, and the persist actions
    /// that follow rewrite that store with all of it (earlier persist actions are superseded).
    pub fn adopt(&self, persisted: JsPersisted) -> Result<(), JsValue> {
        let persisted = persist::persisted(persisted.into())?;
        let mut adopted = Ok(());
        self.input(|c| adopted = c.adopt(now(), persisted))?;
        adopted.js()
    }

    /// A token for the next hello (a token callback answered, or the app supplied one).
    /// After a refusal (`status().unauthorized`) it connects again at once.
    #[wasm_bindgen(js_name = setToken)]
    pub fn set_token(&self, token: String) -> Result<(), JsValue> {
        self.input(|c| c.set_token(now(), token))
    }

    /// No valid token can be had: the status shows `unauthorized` with `reason`, and the
    /// machine stays offline (edits keep queueing) until `setToken` or `start`.
    #[wasm_bindgen(js_name = tokenRefused)]
    pub fn token_refused(&self, reason: String) -> Result<(), JsValue> {
        self.input(|c| c.handle_token_refused(now(), reason))
    }

    /// Start syncing (connects unless the network is down).
    pub fn start(&self) -> Result<(), JsValue> {
        self.input(|c| c.handle_start(now()))
    }

    /// Stop syncing: the socket closes; edits keep queueing in the outbox.
    pub fn stop(&self) -> Result<(), JsValue> {
        self.input(|c| c.handle_stop(now()))
    }

    /// The browser's `online`/`offline` events.
    #[wasm_bindgen(js_name = setNetwork)]
    pub fn set_network(&self, online: bool) -> Result<(), JsValue> {
        self.input(|c| c.handle_network(now(), online))
    }

    /// The page became hidden (slower heartbeat) or visible.
    #[wasm_bindgen(js_name = setHidden)]
    pub fn set_hidden(&self, hidden: bool) -> Result<(), JsValue> {
        self.input(|c| c.handle_visibility(now(), hidden))
    }

    /// The socket of an `open` action opened. A stale one gets a `close` action.
    #[wasm_bindgen(js_name = socketOpened)]
    pub fn socket_opened(&self, socket: f64) -> Result<(), JsValue> {
        // A refused (stale) socket event changes nothing; the machine already asked to close it.
        self.input(|c| {
            let _ = c.handle_socket_opened(now(), socket_id(socket));
        })
    }

    /// A binary frame arrived. One that does not decode drops the socket (the machine backs
    /// off and reconnects) and throws a `decode_error`.
    pub fn frame(&self, socket: f64, frame: &[u8]) -> Result<(), JsValue> {
        let mut handled = Ok(());
        self.input(|c| handled = c.handle_frame(now(), socket_id(socket), frame))?;
        handled.js()
    }

    /// The socket closed with this close code (1006 when no close frame came).
    // This text reaches the TypeScript declarations; in Rust, 1006 is `close_code::ABNORMAL`.
    #[wasm_bindgen(js_name = socketClosed)]
    pub fn socket_closed(&self, socket: f64, code: u16) -> Result<(), JsValue> {
        self.input(|c| {
            let _ = c.handle_socket_closed(now(), socket_id(socket), code);
        })
    }

    /// The socket failed to open or errored.
    #[wasm_bindgen(js_name = socketError)]
    pub fn socket_error(&self, socket: f64) -> Result<(), JsValue> {
        self.input(|c| {
            let _ = c.handle_socket_error(now(), socket_id(socket));
        })
    }

    /// Every persist op up to `seq` is durable.
    pub fn persisted(&self, seq: f64) -> Result<(), JsValue> {
        self.input(|c| c.handle_persisted(now(), seq as u64))
    }

    /// When `timeout()` is next due, in `Date.now()` milliseconds, or `undefined`.
    #[wasm_bindgen(js_name = nextTimeout)]
    pub fn next_timeout(&self) -> Result<Option<f64>, JsValue> {
        self.with(|synced| Ok(synced.machine.poll_timeout().map(|t| t.as_millis() as f64)))
    }

    /// Time passed: fires what is due.
    pub fn timeout(&self) -> Result<(), JsValue> {
        self.input(|c| c.handle_timeout(now()))
    }

    /// The actions to carry out, in order: `open`, `send`, `close`, `persist`.
    #[wasm_bindgen(js_name = pollActions)]
    pub fn poll_actions(&self) -> Result<Vec<JsSyncAction>, JsValue> {
        self.with(|synced| {
            let mut out = Vec::new();
            while let Some(action) = synced.machine.poll_action() {
                out.push(action_to_js(&action)?.unchecked_into());
            }
            Ok(out)
        })
    }

    /// What happened since the last call, in order: acks, rejections, conflicts, welcome,
    /// auth denials, connection changes, awareness.
    #[wasm_bindgen(js_name = pollReports)]
    pub fn poll_reports(&self) -> Result<Vec<JsSyncReport>, JsValue> {
        self.with(|synced| {
            let mut out = Vec::new();
            while let Some(event) = synced.machine.poll_event() {
                out.push(report::report(&event)?.unchecked_into());
            }
            Ok(out)
        })
    }

    /// The connection's and the session's status.
    pub fn status(&self) -> Result<JsSyncStatus, JsValue> {
        self.with(|synced| Ok(to_js(&synced.machine.status(now()))?.unchecked_into()))
    }
}

impl SyncMachine {
    /// Runs `f` on the synced backing.
    fn with<T>(&self, f: impl FnOnce(&mut Synced) -> Result<T, JsValue>) -> Result<T, JsValue> {
        let mut backing = self.doc.backing()?;
        match &mut *backing {
            Backing::Synced(synced) => f(synced),
            Backing::Plain(_) => Err(js_error("synced_doc", "not a synced document")),
        }
    }

    /// One driver input, then the document's change events (listeners may read the doc).
    fn input(&self, f: impl FnOnce(&mut cardsync_sync::SyncMachine)) -> Result<(), JsValue> {
        self.with(|synced| {
            f(&mut synced.machine);
            Ok(())
        })?;
        self.doc.deliver();
        Ok(())
    }
}

fn socket_id(socket: f64) -> SocketId {
    SocketId(socket as u64)
}

fn close_reason(reason: &CloseCause) -> String {
    match reason {
        CloseCause::Stopped => "stopped".into(),
        CloseCause::NetworkOffline => "network offline".into(),
        CloseCause::Failed { failure } => failure.to_string(),
    }
}

fn action_to_js(action: &SyncAction) -> Result<JsValue, JsValue> {
    let object = js_sys::Object::new();
    let set = |name: &str, value: &JsValue| js_sys::Reflect::set(&object, &name.into(), value);
    match action {
        SyncAction::OpenSocket { socket } => {
            set("kind", &"open".into())?;
            set("socket", &(socket.0 as f64).into())?;
        }
        SyncAction::Send { socket, frame } => {
            set("kind", &"send".into())?;
            set("socket", &(socket.0 as f64).into())?;
            set("frame", &Uint8Array::from(frame.as_slice()))?;
        }
        SyncAction::CloseSocket { socket, reason } => {
            set("kind", &"close".into())?;
            set("socket", &(socket.0 as f64).into())?;
            set("reason", &close_reason(reason).into())?;
        }
        SyncAction::Persist { seq, op } => {
            set("kind", &"persist".into())?;
            set("op", &persist::op(*seq, op))?;
        }
    }
    Ok(object.into())
}
