//! How the simulation drives its nodes over the shared log: loading, appending, catching up,
//! renewing leases, fencing and crashing (the rules are in `node.rs`'s module docs). These are
//! methods of [`Net`] because each reaches the store, the clients' links and the tracker.

use std::collections::VecDeque;

use cardsync_sync::connection::Instant;
use cardsync_sync::room::{PeerId, Room};
use yrs::Update;
use yrs::updates::decoder::Decode;

use super::node::{HEAD_CHECK_MS, LEASE_MS, LONE_LEASE_MS, Node};
use super::store::{Refused, SeqNo};
use super::{Net, room_config, tokens};

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
                if self.trace {
                    let entry = Update::decode_v1(&update).map(|u| u.to_string());
                    eprintln!("{now:>6} node {n}: appended #{head}: {entry:?}");
                }
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
