//! A server node of the simulation: one [`Room`] of the document and its place in the shared
//! log, driven the way `crates/cardsync-server/src/room_task.rs` drives a room (docs/design.md
//! §12).
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

use cardsync_sync::connection::Instant;
use cardsync_sync::room::{PeerId, PersistToken, Room, StaticTokens};

use super::store::{Lease, Refused, SeqNo};
use super::{Net, room_config, tokens};

/// How long a lease lasts (simulated ms); nodes renew it every third of that.
pub(super) const LEASE_MS: u64 = 3_000;
/// How often a node of a cluster checks the log's head.
const HEAD_CHECK_MS: u64 = 1_000;
/// The lease of a lone node: longer than any run (SQLite's lease is never renewed).
const LONE_LEASE_MS: u64 = u64::MAX / 4;

/// One node; see the module docs.
pub(super) struct Node {
    pub(super) room: Room<StaticTokens>,
    /// Part of a cluster: other nodes append to the log too.
    pub(super) shared: bool,
    lease: Lease,
    /// The last entry the room holds durably.
    head: SeqNo,
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

impl Net {
    /// Loads node `n`'s room from the log, under a new lease.
    pub(super) fn load_node(&mut self, n: usize, shared: bool) -> Node {
        let ttl = if shared { LEASE_MS } else { LONE_LEASE_MS };
        let lease = self.store.acquire(n, self.now, ttl);
        let room = Room::new(
            room_config(),
            (*self.schema).clone(),
            tokens(),
            self.store.entries(),
        )
        .expect("the log holds only validated updates");
        let head = self.store.head();
        Node {
            room,
            shared,
            lease,
            head,
            expected: head,
            unstored: VecDeque::new(),
            stale: false,
            next_renew: shared.then_some(self.now + LEASE_MS / 3),
            next_check: shared.then_some(self.now + HEAD_CHECK_MS),
            wakes: VecDeque::new(),
            paused_until: 0,
            deaf: false,
        }
    }

    /// Node `n`'s oldest append reaches the store.
    pub(super) fn append(&mut self, n: usize) {
        let now = self.now;
        let node = &mut self.nodes[n];
        let (_, token, update, expected) = node.unstored.pop_front().expect("due");
        match self
            .store
            .append_if_head(node.lease, expected, &update, now)
        {
            Ok(head) => {
                node.head = head;
                node.room
                    .handle_persisted(Instant(now), token)
                    .expect("issued tokens");
                self.drain_room(n);
                self.announce(n, head);
                self.catch_up(n);
            }
            Err(Refused::HeadMoved(head)) => {
                self.stats.rebuilds += 1;
                if self.trace {
                    eprintln!("{now:>6} node {n}: head moved to {head}; rebuilding");
                }
                node.unstored.clear();
                node.room
                    .handle_log_moved(Instant(now), self.store.entries())
                    .expect("the log holds only validated updates");
                node.head = self.store.head();
                node.expected = node.head;
                node.stale = false;
                self.drain_room(n);
            }
            Err(Refused::Fenced) => self.fenced(n),
        }
    }

    /// The bus tells the other nodes of a new head (after the commit; one wake-up in eight is
    /// lost).
    fn announce(&mut self, from: usize, head: SeqNo) {
        for m in (0..self.nodes.len()).filter(|&m| m != from) {
            if self.rng.next_u64().is_multiple_of(8) || self.nodes[m].deaf {
                continue;
            }
            let at = self.latency(20);
            let wakes = &mut self.nodes[m].wakes;
            wakes.push_back((super::later(wakes.back().map(|w| w.0), at), head));
        }
    }

    pub(super) fn wake(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        let (_, head) = node.wakes.pop_front().expect("due");
        if head > node.expected {
            node.stale = true;
        }
        self.catch_up(n);
    }

    pub(super) fn check_head(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        node.next_check = Some(self.now + HEAD_CHECK_MS);
        if node.unstored.is_empty() {
            node.stale = true;
            self.catch_up(n);
        }
    }

    pub(super) fn renew(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        node.next_renew = Some(self.now + LEASE_MS / 3);
        if self.store.renew(node.lease, self.now, LEASE_MS).is_err() {
            self.fenced(n);
        }
    }

    /// Hands node `n`'s room the entries other nodes appended, if it is stale and nothing of
    /// its own is in flight.
    pub(super) fn catch_up(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        if !node.stale || node.room.pending_persists() > 0 {
            return;
        }
        node.stale = false;
        let entries = self.store.read_since(node.head);
        if entries.is_empty() {
            return;
        }
        self.stats.caught_up += entries.len();
        node.room
            .handle_log_entries(Instant(self.now), entries)
            .expect("nothing in flight, and the log holds only validated updates");
        node.head = self.store.head();
        node.expected = node.head;
        self.drain_room(n);
    }

    /// Node `n`'s lease ended: it closes its peers and loads the document again.
    fn fenced(&mut self, n: usize) {
        self.stats.fenced += 1;
        self.log(|| format!("node {n}: fenced"));
        let peers: Vec<PeerId> = (self.clients.iter())
            .filter_map(|c| c.link.as_ref())
            .filter(|l| l.node == n && !l.closed)
            .map(|l| l.peer)
            .collect();
        for peer in peers {
            let at = self.latency(40);
            self.down(peer, at, None);
        }
        let (shared, deaf) = (self.nodes[n].shared, self.nodes[n].deaf);
        self.nodes[n] = self.load_node(n, shared);
        self.nodes[n].deaf = deaf;
        let doc = self.nodes[n].room.doc();
        self.track.check_acked_held(doc, "after a node was fenced");
    }

    /// Node `n` crashes and restarts from the log; a torn crash committed its first `torn`
    /// appends without the room hearing of it.
    pub(super) fn crash_node(&mut self, n: usize, torn: u8) {
        self.stats.crashes += 1;
        let now = self.now;
        let node = &mut self.nodes[n];
        let mut committed = Vec::new();
        for (_, _, update, expected) in node.unstored.drain(..).take(usize::from(torn)) {
            match self
                .store
                .append_if_head(node.lease, expected, &update, now)
            {
                Ok(head) => committed.push(head),
                Err(_) => break,
            }
        }
        for head in committed {
            self.announce(n, head);
        }
        for i in 0..self.clients.len() {
            if self.clients[i].link.as_ref().is_some_and(|l| l.node == n) {
                self.disconnected(i);
            }
        }
        let (shared, deaf) = (self.nodes[n].shared, self.nodes[n].deaf);
        self.nodes[n] = self.load_node(n, shared);
        self.nodes[n].deaf = deaf;
        let doc = self.nodes[n].room.doc();
        self.track.check_acked_held(doc, "after a node crash");
    }
}
