//! `CardDoc`, the document class JavaScript uses: a newtype over [`cardsync_core::CardDoc`].
//!
//! Every method parses its arguments (`convert`), calls the core once, maps a core error to a
//! `CardsyncError` (`error`) and, after a write, delivers the document's change batches (`events`).
//! Nothing else happens here; the methods are split over files by topic (cards, relationships
//! and sequences, updates), all of them on this one exported class.
//!
//! The methods take `&self` and borrow the inner document only for the core call. That is what
//! lets an event listener, which runs after the borrow ended, call back into the document.

mod backing;
mod board;
mod cards;
mod links;
mod updates;

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;
use std::sync::Arc;

pub(crate) use backing::{Backing, Synced, now};
use cardsync_core::{CardDoc as CoreDoc, Op, Schema, Stamp};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::convert::{from_js, from_js_or_default, to_js};
use crate::error::{JsResult, js_error};
use crate::events::Listeners;
use crate::random;
use crate::types::{JsChangeListener, JsDocOptions, JsSchema, JsUnsubscribe};

/// `DocOptions` from TypeScript.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DocOptions {
    client_id: Option<f64>,
    #[serde(default)]
    actor: String,
    undo: Option<bool>,
}

impl DocOptions {
    fn parse(options: Option<JsDocOptions>) -> Result<Self, JsValue> {
        from_js_or_default(options.map(JsValue::from).unwrap_or_default(), "options")
    }

    /// The client id asked for, or a random one.
    fn client_id(&self) -> Result<u64, JsValue> {
        match self.client_id {
            None => random::client_id(),
            Some(id) if id.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&id) => Ok(id as u64),
            // Fractions, NaN and negatives would otherwise cast silently to some other id.
            Some(_) => Err(js_error(
                "invalid_client_id",
                "client id must be a non-negative integer",
            )),
        }
    }
}

/// A document of cards, relationships and ordered sequences that merges with every other
/// replica's concurrent edits. Reads return plain snapshots; writes validate against the
/// schema and throw a `CardsyncError` (with a stable `code`) without changing anything when
/// refused. Call `free()` (or use `using`) when done: the document lives in wasm memory.
///
/// A `SyncClient`'s `doc` is a `CardDoc` too: the same reads and writes, on the local doc of
/// the sync session, with every write queued for the server.
#[wasm_bindgen]
pub struct CardDoc {
    // Shared with the `SyncMachine` that owns a synced document (`sync_machine/`).
    doc: Rc<RefCell<Backing>>,
    actor: Rc<RefCell<String>>,
    listeners: Rc<Listeners>,
    /// The ops of an open `transact(fn)`, applied as one transaction when `fn` returns.
    batch: Rc<RefCell<Option<Vec<Op>>>>,
}

impl CardDoc {
    fn wrap(mut doc: CoreDoc, options: DocOptions) -> Self {
        if options.undo == Some(false) {
            doc.set_undo_enabled(false);
        }
        // Change batches are kept from the first `subscribe` on (`Backing::listen`): a
        // document nobody listens to builds no events.
        Self {
            doc: Rc::new(RefCell::new(Backing::Plain(doc))),
            actor: Rc::new(RefCell::new(options.actor)),
            listeners: Rc::default(),
            batch: Rc::default(),
        }
    }

    /// The local doc of a sync machine, as a `CardDoc` sharing it with the machine.
    pub(crate) fn synced(synced: Synced, actor: String) -> Self {
        Self {
            doc: Rc::new(RefCell::new(Backing::Synced(Box::new(synced)))),
            actor: Rc::new(RefCell::new(actor)),
            listeners: Rc::default(),
            batch: Rc::default(),
        }
    }

    /// Another handle on the same document (the sync machine's `doc`).
    pub(crate) fn share(&self) -> Self {
        Self {
            doc: Rc::clone(&self.doc),
            actor: Rc::clone(&self.actor),
            listeners: Rc::clone(&self.listeners),
            batch: Rc::clone(&self.batch),
        }
    }

    fn open(
        schema: JsSchema,
        options: Option<JsDocOptions>,
        make: impl FnOnce(Arc<Schema>, u64) -> Result<CoreDoc, cardsync_core::OpenError>,
    ) -> Result<Self, JsValue> {
        let schema: Schema = from_js(schema.into(), "schema")?;
        let options = DocOptions::parse(options)?;
        let doc = make(Arc::new(schema), options.client_id()?).js()?;
        Ok(Self::wrap(doc, options))
    }

    /// The inner document for a read. Borrows never outlive a core call, so this cannot fail
    /// in practice; if it ever did, JS gets an error instead of a trap.
    fn read(&self) -> Result<Ref<'_, CoreDoc>, JsValue> {
        let backing = self.doc.try_borrow().map_err(|_| reentered())?;
        Ok(Ref::map(backing, Backing::doc))
    }

    /// The backing, for a write (or a sync client's input).
    pub(crate) fn backing(&self) -> Result<RefMut<'_, Backing>, JsValue> {
        self.doc.try_borrow_mut().map_err(|_| reentered())
    }

    /// A stamp for a local write: now, by this document's actor.
    fn stamp(&self) -> Stamp {
        Stamp::new(js_sys::Date::now() as u64, self.actor.borrow().as_str())
    }

    /// Runs one write, then delivers its events (also after a refused write, which has
    /// none, and after a failed remote apply, which may have integrated part of an update),
    /// then wakes a synced document's driver.
    fn write<T>(
        &self,
        write: impl FnOnce(&mut Backing, &Stamp) -> Result<T, JsValue>,
    ) -> Result<T, JsValue> {
        if self.batch.borrow().is_some() {
            return Err(js_error(
                "reentrant_call",
                "inside transact() only op writes are allowed (no undo, redo or updates)",
            ));
        }
        let stamp = self.stamp();
        let result = write(&mut *self.backing()?, &stamp);
        self.after_write();
        result
    }

    /// Local ops as one transaction, or queued in the open `transact` batch.
    fn write_ops(&self, ops: Vec<Op>) -> Result<(), JsValue> {
        if let Some(batch) = self.batch.borrow_mut().as_mut() {
            batch.extend(ops);
            return Ok(());
        }
        self.write(|backing, stamp| backing.apply(stamp, &ops))
    }

    /// Delivers queued change events to the listeners, then wakes the sync driver of a
    /// synced document (after every borrow ended: both may call back into the document).
    fn after_write(&self) {
        if let Some(wake) = self.deliver()
            && let Err(error) = wake.call0(&JsValue::UNDEFINED)
        {
            crate::events::report_error(&error);
        }
    }

    /// Delivers the document's waiting change batches to the listeners, and returns a
    /// synced document's wake-up call for its driver, if any.
    pub(crate) fn deliver(&self) -> Option<js_sys::Function> {
        self.listeners
            .deliver(|| self.backing().ok().and_then(|mut b| b.poll_changes()));
        self.backing().ok().and_then(|b| b.wake())
    }
}

fn reentered() -> JsValue {
    js_error(
        "reentrant_call",
        "the document is in use by a call that has not returned",
    )
}

#[wasm_bindgen]
impl CardDoc {
    /// An empty document validating local writes against `schema`.
    #[wasm_bindgen(constructor)]
    pub fn new(schema: JsSchema, options: Option<JsDocOptions>) -> Result<CardDoc, JsValue> {
        Self::open(schema, options, CoreDoc::with_schema)
    }

    /// Opens a document from a v1 snapshot (or any v1 update), e.g. one `snapshotV1()` made.
    #[wasm_bindgen(js_name = loadV1)]
    pub fn load_v1(
        schema: JsSchema,
        snapshot: &[u8],
        options: Option<JsDocOptions>,
    ) -> Result<CardDoc, JsValue> {
        Self::open(schema, options, |schema, id| {
            CoreDoc::load_v1(schema, id, snapshot)
        })
    }

    /// Opens a document from a v2 snapshot.
    #[wasm_bindgen(js_name = loadV2)]
    pub fn load_v2(
        schema: JsSchema,
        snapshot: &[u8],
        options: Option<JsDocOptions>,
    ) -> Result<CardDoc, JsValue> {
        Self::open(schema, options, |schema, id| {
            CoreDoc::load_v2(schema, id, snapshot)
        })
    }

    /// This replica's yrs client id.
    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> Result<f64, JsValue> {
        Ok(self.read()?.client_id() as f64)
    }

    /// The schema local writes are validated against, as a plain object.
    #[wasm_bindgen(getter)]
    pub fn schema(&self) -> Result<JsSchema, JsValue> {
        Ok(to_js(self.read()?.schema().as_ref())?.unchecked_into())
    }

    /// The schema version recorded in the document (`undefined` before the first write).
    #[wasm_bindgen(getter, js_name = schemaVersion)]
    pub fn schema_version(&self) -> Result<Option<u32>, JsValue> {
        Ok(self.read()?.schema_version())
    }

    /// The actor written into the stamps of local writes.
    #[wasm_bindgen(getter)]
    pub fn actor(&self) -> String {
        self.actor.borrow().clone()
    }

    /// Changes the actor for later writes (e.g. after a login).
    #[wasm_bindgen(setter)]
    pub fn set_actor(&self, actor: String) {
        *self.actor.borrow_mut() = actor;
    }

    /// Calls `listener` with the events of every transaction from now on (local writes,
    /// remote updates, undo), after the transaction committed. Returns the function that
    /// stops it. A throwing listener neither stops the others nor undoes the write; its
    /// exception is reported like an `EventTarget` listener's.
    pub fn subscribe(&self, listener: JsChangeListener) -> Result<JsUnsubscribe, JsValue> {
        let listener: js_sys::Function = JsValue::from(listener)
            .dyn_into()
            .map_err(|_| js_error("invalid_argument", "listener must be a function"))?;
        self.backing()?.listen();
        Ok(self.listeners.subscribe(listener).unchecked_into())
    }

    /// Runs `fn` and applies every write it made through this document as one transaction
    /// when it returns: one undo step, one event batch, all or nothing, like `apply(ops)`
    /// but with the typed calls (`createCard`, `setField`, `insertText`, …), so no op goes
    /// through JSON. Inside `fn` the writes are only checked for well-formed arguments and
    /// queued: reads still see the document as it was, and a refused op throws from
    /// `transact` itself, after `fn` returned, with nothing applied. If `fn` throws, nothing
    /// is applied and the exception propagates. A nested `transact` joins the outer one.
    /// What `fn` returns is ignored (the declarations stay free of `any` and `unknown`; read
    /// what you need after `transact` returns).
    pub fn transact(
        &self,
        #[wasm_bindgen(unchecked_param_type = "() => void")] f: &js_sys::Function,
    ) -> Result<(), JsValue> {
        if self.batch.borrow().is_some() {
            return f.call0(&JsValue::UNDEFINED).map(drop);
        }
        *self.batch.borrow_mut() = Some(Vec::new());
        let result = f.call0(&JsValue::UNDEFINED);
        let ops = self.batch.borrow_mut().take().unwrap_or_default();
        result?;
        if !ops.is_empty() {
            self.write(|backing, stamp| backing.apply(stamp, &ops))?;
        }
        Ok(())
    }

    /// Undoes the last local write not yet undone. Returns whether there was one.
    pub fn undo(&self) -> Result<bool, JsValue> {
        self.write(|backing, stamp| backing.undo_redo(stamp, true))
    }

    /// Redoes the last undone write. Returns whether there was one.
    pub fn redo(&self) -> Result<bool, JsValue> {
        self.write(|backing, stamp| backing.undo_redo(stamp, false))
    }

    /// Whether `undo()` would do something.
    #[wasm_bindgen(getter, js_name = canUndo)]
    pub fn can_undo(&self) -> Result<bool, JsValue> {
        Ok(self.read()?.can_undo())
    }

    /// Whether `redo()` would do something.
    #[wasm_bindgen(getter, js_name = canRedo)]
    pub fn can_redo(&self) -> Result<bool, JsValue> {
        Ok(self.read()?.can_redo())
    }

    /// Forgets the undo and redo history.
    #[wasm_bindgen(js_name = clearUndoHistory)]
    pub fn clear_undo_history(&self) -> Result<(), JsValue> {
        self.backing()?
            .plain("clearUndoHistory")?
            .clear_undo_history();
        Ok(())
    }
}
