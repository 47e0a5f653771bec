//! [`SyncEvent`]: what the sync engine tells the UI, as one enum from the session up.
//!
//! The session reports acks, rejections, conflicts, the server's greeting and awareness; the
//! connection machine reports its transitions. Both land in this one enum, so the machine
//! above the session hands the session's events on as they are, and a driver (the native
//! client, the wasm bindings) matches one flat set of variants instead of unwrapping a layer
//! per crate module. Document changes are not events here: they stay in the local doc's own
//! buffer ([`cardsync_core::CardDoc::poll_changes`]) until the driver takes them, which is
//! what keeps a change to two hand-offs on its way to a JavaScript listener (docs/design.md §7).

use cardsync_core::Op;

use super::conflict::Conflict;
use crate::connection::StateChanged;
use crate::outbox::Rejection;
use crate::protocol::BatchId;

/// Something the UI may want to know.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncEvent {
    /// Batches became confirmed.
    Acked(Vec<BatchId>),
    /// A batch was rejected and rolled back. `vanished` holds its ops and any replayed op that
    /// no longer applies. Reported once the driver confirmed the rollback's persist op, so
    /// what it reports gone stays gone across a crash.
    Rejected {
        /// The rejection.
        rejection: Rejection,
        /// Ops that are gone.
        vanished: Vec<Op>,
    },
    /// A remote write overwrote a pending local write.
    Conflict(Conflict),
    /// The server refused the token.
    AuthDenied(String),
    /// The server accepted the hello.
    Welcome {
        /// Protocol version in force.
        version: u32,
        /// Granted role.
        role: String,
    },
    /// Awareness bytes from other peers.
    Awareness(Vec<u8>),
    /// A connection state transition (only the machine, which owns the connection, reports
    /// these).
    Connection(StateChanged),
}
