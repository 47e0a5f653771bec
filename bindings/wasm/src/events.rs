//! Delivering the core's change events to JavaScript listeners.
//!
//! The core calls its subscribers *inside* a write, while the document is mutably borrowed.
//! A JS listener called there could not even read the document (and one that wrote to it would
//! re-enter the borrow). So the core subscriber only queues each [`ChangeBatch`]; the bindings
//! deliver the queue after the write has returned and every borrow has ended. Listeners may
//! then read, write (their own events are delivered next, in order) or unsubscribe.
//!
//! A listener that throws does not stop the others and does not undo the write, which has
//! committed: the exception is handed to the host's `reportError` (browsers), or rethrown from
//! a microtask where there is none (Node), the way an `EventTarget` listener's would be.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex, PoisonError};

use cardsync_core::{CardDoc, ChangeBatch};
use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::convert::to_js;

#[wasm_bindgen(inline_js = r#"
export function reportListenerError(error) {
  if (typeof globalThis.reportError === "function") {
    globalThis.reportError(error);
  } else {
    queueMicrotask(() => { throw error; });
  }
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = reportListenerError)]
    fn report_listener_error(error: &JsValue);
}

/// Reports an exception a JS callback threw, the way an `EventTarget` listener's would be.
pub(crate) fn report_error(error: &JsValue) {
    report_listener_error(error);
}

type Listeners = Vec<(u32, Function)>;

/// The queue the core fills and the JS listeners it drains to.
#[derive(Default)]
pub(crate) struct Events {
    queue: Arc<Mutex<VecDeque<ChangeBatch>>>,
    listeners: Rc<RefCell<Listeners>>,
    next_id: Cell<u32>,
}

impl Events {
    /// Subscribes the queue to `doc`'s batches (once, when the document is made).
    pub(crate) fn attach(&self, doc: &mut CardDoc) {
        let queue = Arc::clone(&self.queue);
        doc.subscribe(move |batch| {
            let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.push_back(batch.clone());
        });
    }

    /// Queues a batch that did not come through `attach` (a synced document's, which the
    /// sync session reports).
    pub(crate) fn push(&self, batch: ChangeBatch) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.push_back(batch);
    }

    /// Adds a listener; the returned JS function removes it.
    pub(crate) fn subscribe(&self, listener: Function) -> JsValue {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        self.listeners.borrow_mut().push((id, listener));
        let listeners: Weak<RefCell<Listeners>> = Rc::downgrade(&self.listeners);
        let unsubscribe = move || {
            if let Some(listeners) = listeners.upgrade() {
                listeners.borrow_mut().retain(|(other, _)| *other != id);
            }
        };
        Closure::<dyn FnMut()>::new(unsubscribe).into_js_value()
    }

    /// Delivers every queued batch to the listeners subscribed at the time it is delivered.
    pub(crate) fn deliver(&self) {
        loop {
            let batch = {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                queue.pop_front()
            };
            let Some(batch) = batch else { return };
            // A snapshot: listeners may (un)subscribe while being called.
            let listeners: Vec<Function> = self
                .listeners
                .borrow()
                .iter()
                .map(|(_, f)| f.clone())
                .collect();
            if listeners.is_empty() {
                continue;
            }
            let value = match to_js(&batch) {
                Ok(value) => value,
                Err(error) => {
                    report_listener_error(&error);
                    continue;
                }
            };
            for listener in listeners {
                if let Err(error) = listener.call1(&JsValue::UNDEFINED, &value) {
                    report_listener_error(&error);
                }
            }
        }
    }
}
