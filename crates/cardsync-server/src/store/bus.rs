//! The bus: how a node hears that another node appended to a document it serves
//! (docs/design.md §12).
//!
//! The store is the only source of truth; the bus carries nothing but hints, "the log of
//! document D reached head H", so that a node catches up at once instead of at its next
//! periodic check. A hint can be lost (a dropped connection, a full room inbox) without harm:
//! rooms also check their heads every `head_check_ms`, and the bus reports a (re)connection
//! as [`WakeUp::Missed`], on which every room catches up.
//!
//! The announcement must never run ahead of durability: a node woken for a head that a crash
//! could still take back would relay what is not durable. PostgreSQL's bus therefore sends
//! nothing itself: the store calls `pg_notify` inside the appending transaction, and
//! PostgreSQL delivers it only at `COMMIT` (`postgres/notify.rs`). A bus on another transport
//! (Redis pub/sub, for example) would announce in [`Bus::notify`], which the writer calls after
//! the commit. SQLite serves one node, so its bus is [`NoBus`].

use std::thread::JoinHandle;

use super::{DocId, SeqNo};

/// What a bus tells a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WakeUp {
    /// The log of `doc` reached `head`.
    Head {
        /// The document.
        doc: DocId,
        /// Its new head.
        head: SeqNo,
    },
    /// The bus (re)connected: announcements may have been missed; catch every room up.
    Missed,
    /// The bus lost its connection (it reconnects with backoff): until it is back, rooms rely
    /// on their periodic checks.
    Lost,
    /// Nothing happened for a while (lets the listener notice that the node stopped).
    Idle,
}

/// Where wake-ups go: returns `false` once the node has stopped, which ends the listener.
pub type Deliver = Box<dyn FnMut(WakeUp) -> bool + Send>;

/// Announcements between the nodes sharing a store. See the module docs of `store/bus.rs`.
pub trait Bus: Send + Sync + 'static {
    /// Tells the other nodes that `doc`'s log reached `head`. Called after the commit that
    /// appended it. A bus whose store announces inside its transactions does nothing here.
    fn notify(&self, doc: &DocId, head: SeqNo);

    /// Starts delivering what other nodes announce to `deliver`, on a thread of its own, until
    /// `deliver` returns `false`. `None` when there is nobody to listen to.
    fn listen(&self, deliver: Deliver) -> Option<JoinHandle<()>>;
}

/// The bus of a store that no other node writes to.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBus;

impl Bus for NoBus {
    fn notify(&self, _doc: &DocId, _head: SeqNo) {}

    fn listen(&self, _deliver: Deliver) -> Option<JoinHandle<()>> {
        None
    }
}
