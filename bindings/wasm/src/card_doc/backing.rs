//! Where a `CardDoc`'s document lives: on its own, or as the local doc of a sync machine.
//!
//! A synced document is read and written through the same `CardDoc` class as a plain one,
//! so UI code does not care which it has. The differences are all here: a synced write goes
//! through the sync session (which queues it as an outbox batch), its change batches come
//! from the session's local doc, and remote updates only arrive from the server (applying
//! one by hand would bypass the confirmed doc, so it is refused).

use cardsync_core::{CardDoc as CoreDoc, ChangeBatch, Op, Stamp};
use cardsync_sync::Instant;
use cardsync_sync::client::SyncMachine;
use wasm_bindgen::prelude::*;

use crate::error::{JsResult, js_error};

/// The document behind a `CardDoc`.
pub(crate) enum Backing {
    /// A document of its own.
    Plain(CoreDoc),
    /// The local doc of a sync machine.
    Synced(Box<Synced>),
}

/// A sync machine ([`cardsync_sync::SyncMachine`], the engine the JS class
/// `SyncMachine` exports) and its driver's wake-up call.
pub(crate) struct Synced {
    pub machine: SyncMachine,
    /// Called after a write through the document, so the driver drains the machine's
    /// actions (persist the new batch, send it).
    pub wake: Option<js_sys::Function>,
}

/// The sync machine's clock: milliseconds since the epoch, from the host.
pub(crate) fn now() -> Instant {
    Instant::from_millis(js_sys::Date::now().max(0.0) as u64)
}

impl Backing {
    /// The document to read.
    pub fn doc(&self) -> &CoreDoc {
        match self {
            Backing::Plain(doc) => doc,
            Backing::Synced(synced) => synced.machine.local(),
        }
    }

    /// Applies local ops as one transaction.
    pub fn apply(&mut self, stamp: &Stamp, ops: &[Op]) -> Result<(), JsValue> {
        match self {
            Backing::Plain(doc) => doc.apply(stamp, ops).js(),
            Backing::Synced(synced) => synced.machine.apply(now(), stamp, ops).js().map(drop),
        }
    }

    /// Undoes (or redoes) the last local write; whether there was one.
    pub fn undo_redo(&mut self, stamp: &Stamp, undo: bool) -> Result<bool, JsValue> {
        match (self, undo) {
            (Backing::Plain(doc), true) => Ok(doc.undo()),
            (Backing::Plain(doc), false) => Ok(doc.redo()),
            (Backing::Synced(synced), true) => synced.machine.undo(now(), stamp).js(),
            (Backing::Synced(synced), false) => synced.machine.redo(now(), stamp).js(),
        }
    }

    /// The plain document, for what only a plain document does (applying updates by hand).
    pub fn plain(&mut self, what: &str) -> Result<&mut CoreDoc, JsValue> {
        match self {
            Backing::Plain(doc) => Ok(doc),
            Backing::Synced(_) => Err(js_error(
                "synced_doc",
                format!("{what}: a synced document changes only through its sync client"),
            )),
        }
    }

    /// Starts keeping change batches for listeners (a synced document's session always does).
    pub fn listen(&mut self) {
        if let Backing::Plain(doc) = self {
            doc.buffer_changes(true);
        }
    }

    /// The next change batch of the document (a synced one's, from the session's local doc).
    pub fn poll_changes(&mut self) -> Option<ChangeBatch> {
        match self {
            Backing::Plain(doc) => doc.poll_changes(),
            Backing::Synced(synced) => synced.machine.poll_changes(),
        }
    }

    /// A synced document's wake-up call for its driver.
    pub fn wake(&self) -> Option<js_sys::Function> {
        match self {
            Backing::Plain(_) => None,
            Backing::Synced(synced) => synced.wake.clone(),
        }
    }
}
