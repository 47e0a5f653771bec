//! Delivering the core's change events to JavaScript listeners.
//!
//! The core keeps each transaction's [`ChangeBatch`] in the document's own buffer
//! ([`cardsync_core::CardDoc::poll_changes`]) and calls nobody: a JS listener called inside a
//! write, while the document is mutably borrowed, could not even read it (and one that wrote
//! to it would re-enter the borrow). After a call has returned and every borrow has ended,
//! the bindings take the batches one by one and hand each, converted once, to the listeners:
//! two hand-offs from the core to JavaScript. Listeners may then read, write (their own
//! events are delivered next, in order) or unsubscribe.
//!
//! A listener that throws does not stop the others and does not undo the write, which has
//! committed: the exception is handed to the host's `reportError` (browsers), or rethrown from
//! a microtask where there is none (Node), the way an `EventTarget` listener's would be.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use cardsync_core::ChangeBatch;
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

/// The JS listeners of one document.
#[derive(Default)]
pub(crate) struct Listeners {
    listeners: Rc<RefCell<Vec<(u32, Function)>>>,
    next_id: Cell<u32>,
}

impl Listeners {
    /// Adds a listener; the returned JS function removes it.
    pub(crate) fn subscribe(&self, listener: Function) -> JsValue {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        self.listeners.borrow_mut().push((id, listener));
        let listeners: Weak<RefCell<Vec<(u32, Function)>>> = Rc::downgrade(&self.listeners);
        let unsubscribe = move || {
            if let Some(listeners) = listeners.upgrade() {
                listeners.borrow_mut().retain(|(other, _)| *other != id);
            }
        };
        Closure::<dyn FnMut()>::new(unsubscribe).into_js_value()
    }

    /// Delivers every batch `next` hands out, each to the listeners subscribed at the time
    /// it is delivered. `next` borrows the document only while it takes one batch.
    pub(crate) fn deliver(&self, mut next: impl FnMut() -> Option<ChangeBatch>) {
        while let Some(batch) = next() {
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
