//! Where a `CardDoc`'s document lives: on its own, or as the local doc of a sync machine.
//!
//! A synced document is read and written through the same `CardDoc` class as a plain one,
//! so UI code does not care which it has. The differences are all here: a synced write goes
//! through the sync session (which queues it as an outbox batch), its change events come out
//! of the session's event queue, and remote updates only arrive from the server (applying
//! one by hand would bypass the confirmed doc, so it is refused).

use std::collections::VecDeque;

use cardsync_core::{CardDoc as CoreDoc, Op, Stamp};
use cardsync_sync::Instant;
use cardsync_sync::client::{SyncEvent, SyncMachine};
use cardsync_sync::session::SessionEvent;
use wasm_bindgen::prelude::*;

use crate::error::{JsResult, js_error};
use crate::events::Events;

/// The document behind a `CardDoc`.
pub(crate) enum Backing {
    /// A document of its own.
    Plain(CoreDoc),
    /// The local doc of a sync machine.
    Synced(Box<Synced>),
}

/// A sync machine ([`cardsync_sync::SyncMachine`], the engine the JS class
/// `SyncMachine` exports) and what it reported that the document's own listeners do not take.
pub(crate) struct Synced {
    pub machine: SyncMachine,
    /// Events for the sync driver (acks, rejections, connection changes), in order.
    pub reports: VecDeque<SyncEvent>,
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

    /// Routes a sync machine's events: changes to the document's listeners, the rest to
    /// the driver. Returns the driver's wake-up call, if there is something for it.
    pub fn route(&mut self, events: &Events) -> Option<js_sys::Function> {
        let Backing::Synced(synced) = self else {
            return None;
        };
        while let Some(event) = synced.machine.poll_event() {
            match event {
                SyncEvent::Session(SessionEvent::Changes(batch)) => events.push(batch),
                other => synced.reports.push_back(other),
            }
        }
        synced.wake.clone()
    }
}
