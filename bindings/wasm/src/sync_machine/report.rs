//! What the sync machine reports to its JavaScript driver, as plain objects tagged by `type`.
//!
//! Document changes are not among them: they reach the document's own listeners
//! (`doc.subscribe`), the same as for a plain document. Pongs never become events (the
//! machine feeds them to the connection's RTT, which the status shows).

use cardsync_core::Op;
use cardsync_sync::client::SyncEvent;
use cardsync_sync::connection::{Cause, State};
use cardsync_sync::protocol::RejectCode;
use cardsync_sync::session::Conflict;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::persist::key;
use crate::convert::to_js;

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Report<'a> {
    /// Batches the server confirmed, by store key.
    Acked { batches: Vec<String> },
    /// A batch the server refused, rolled back; `vanished` are the ops that are gone.
    Rejected {
        batch: String,
        code: RejectCode,
        reason: &'a str,
        vanished: &'a [Op],
    },
    /// A remote write overwrote a pending local one.
    Conflict { conflict: &'a Conflict },
    /// The server refused the token.
    AuthDenied { reason: &'a str },
    /// The server accepted the hello.
    Welcome { version: u32, role: &'a str },
    /// The connection changed state.
    Connection {
        from: State,
        to: State,
        cause: Cause,
    },
}

/// The plain object for one event.
pub(crate) fn report(event: &SyncEvent) -> Result<JsValue, JsValue> {
    let report = match event {
        SyncEvent::Connection(change) => Report::Connection {
            from: change.from,
            to: change.to,
            cause: change.cause,
        },
        SyncEvent::Acked(ids) => Report::Acked {
            batches: ids.iter().map(key).collect(),
        },
        SyncEvent::Rejected {
            rejection,
            vanished,
        } => Report::Rejected {
            batch: key(&rejection.batch),
            code: rejection.code,
            reason: &rejection.reason,
            vanished,
        },
        SyncEvent::Conflict(conflict) => Report::Conflict { conflict },
        SyncEvent::AuthDenied(reason) => Report::AuthDenied { reason },
        SyncEvent::Welcome { version, role } => Report::Welcome {
            version: *version,
            role,
        },
        SyncEvent::Awareness(update) => {
            let object = js_sys::Object::new();
            js_sys::Reflect::set(&object, &"type".into(), &"awareness".into())?;
            let bytes = js_sys::Uint8Array::from(update.as_slice());
            js_sys::Reflect::set(&object, &"update".into(), &bytes)?;
            return Ok(object.into());
        }
    };
    to_js(&report)
}
