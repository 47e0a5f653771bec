//! The committed-changes channel: every batch the writer thread made durable, announced to
//! the change feed's readers (`http_feed.rs`) as it commits.
//!
//! **Why a broadcast ring, and why it may drop.** The writer thread must never wait for a
//! reader: an ack waits for the writer, so a reader that slowed the writer would slow every
//! room's acks. A `tokio::sync::broadcast` channel never blocks its sender: it keeps the last
//! `feed_buffer` changes (`[audit] feed_buffer`) in one ring shared by every reader, each
//! change once, behind an `Arc`. A reader that falls further behind loses its place
//! (`Lagged`), and the feed cuts it off with an error event naming the last sequence number it
//! sent, from which it resumes by reading the store. Memory is bounded by the ring, whatever
//! the number or speed of the readers.
//!
//! The channel only carries this node's commits. A feed on a shared store also reads the store
//! when it sees a gap in a document's sequence numbers, and on its periodic check, for the
//! entries other nodes appended.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::store::{Audit, DocId, SeqNo};

/// One batch made durable.
#[derive(Debug)]
pub(crate) struct Change {
    /// The document.
    pub doc: DocId,
    /// Its entry's sequence number.
    pub seq: SeqNo,
    /// The v1 update the entry holds.
    pub update: Vec<u8>,
    /// Its audit record, when the trail is on.
    pub audit: Option<Box<Audit>>,
}

/// The sending side, held by the writer thread; readers subscribe through the persister.
pub(crate) type ChangeSender = broadcast::Sender<Arc<Change>>;

/// A channel keeping the last `buffer` changes (at least one).
pub(crate) fn channel(buffer: usize) -> ChangeSender {
    broadcast::channel(buffer.max(1)).0
}
