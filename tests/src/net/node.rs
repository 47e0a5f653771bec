//! A server node of the simulation: one [`Room`] of the document and its place in the shared
//! log, driven (by `nodes.rs`) the way `crates/cardsync-server/src/room_task.rs` drives a room
//! (docs/design.md §12).
//!
//! - Every [`RoomAction::Persist`](cardsync_sync::room::RoomAction) becomes a
//!   compare-and-append at `expected`, the head the batch was validated against (`head` plus
//!   the node's appends in flight), under the node's lease; appends reach the store in order,
//!   after a disk latency.
//! - **Head moved**: every later append in flight was validated on top of the refused one, so
//!   it is refused too (the server's writer does that per chain); the room is handed the whole
//!   log (`Room::handle_log_moved`), rebuilds, and judges the refused batches again.
//! - **Fenced** (the lease expired, e.g. during a pause): the node gives the room up, closes
//!   its peers (they reconnect and resend what was not acked), and loads the document again
//!   under a new lease.
//! - **Other nodes' entries**: a successful append wakes the other nodes over a bus that loses
//!   one wake-up in eight; a periodic check of the head covers the lost ones, and so does
//!   every peer arriving (a client that moved here holds acks of entries the room may not have
//!   read yet). The entries are handed to `Room::handle_log_entries` only when
//!   nothing of the node's own is in flight; until then the node reads no frame, as the server.
//! - **Crash**: the room and everything in flight is gone; a torn crash got its first appends
//!   committed without the room hearing of it. The node reloads from the log.
//!
//! The head check runs on every node of a cluster, with or without peers: it stands in for the
//! server evicting an idle room and loading it again on the next connection, so that every node
//! ends holding the log. With one node (the SQLite server) there is no bus, no check and no
//! renewal, and its lease never ends.

use std::collections::VecDeque;

use cardsync_sync::room::{PersistToken, Room, StaticTokens};

use super::store::{Lease, SeqNo};

/// How long a lease lasts (simulated ms); nodes renew it every third of that.
pub(super) const LEASE_MS: u64 = 3_000;
/// How often a node of a cluster checks the log's head.
pub(super) const HEAD_CHECK_MS: u64 = 1_000;
/// The lease of a lone node: longer than any run (SQLite's lease is never renewed).
pub(super) const LONE_LEASE_MS: u64 = u64::MAX / 4;

/// One node; see the module docs.
pub(super) struct Node {
    pub(super) room: Room<StaticTokens>,
    /// Part of a cluster: other nodes append to the log too.
    pub(super) shared: bool,
    pub(super) lease: Lease,
    /// The last entry the room holds durably.
    pub(super) head: SeqNo,
    /// The head the next append is validated against.
    pub(super) expected: SeqNo,
    /// Appends issued and not at the store yet: (due, token, update, expected head).
    pub(super) unstored: VecDeque<(u64, PersistToken, Vec<u8>, SeqNo)>,
    /// Other nodes appended: catch up once nothing is in flight, reading no frame until then.
    pub(super) stale: bool,
    pub(super) next_renew: Option<u64>,
    pub(super) next_check: Option<u64>,
    /// Wake-ups from the bus: (due, the head announced).
    pub(super) wakes: VecDeque<(u64, SeqNo)>,
    /// Nothing of the node runs before this.
    pub(super) paused_until: u64,
    /// The bus delivers the node nothing (its listening connection is down).
    pub(super) deaf: bool,
}

impl Node {
    /// Whether the node reads frames.
    pub(super) fn reading(&self) -> bool {
        !self.stale
    }

    /// When something due at `at` happens, given the node's pause.
    pub(super) fn after_pause(&self, at: u64) -> u64 {
        at.max(self.paused_until)
    }

    /// Whether nothing is in flight and the room holds the log up to `head`.
    pub(super) fn idle(&self, head: SeqNo) -> bool {
        self.unstored.is_empty()
            && self.room.pending_persists() == 0
            && !self.stale
            && self.wakes.is_empty()
            && self.head == head
    }
}
