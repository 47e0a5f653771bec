//! A deterministic network simulation: one or more server nodes, each with a [`Room`] of the
//! same document over one shared log, and 2–5 [`ClientSession`]s, wired by a simulated
//! network, disks and clock, all in one thread, driven by a schedule of [`Step`]s (proptest
//! generates them; the fuzz targets can too). [`Net::new`] has one node, the single-node
//! server on SQLite; [`Net::cluster`] has several, the server on PostgreSQL (`cluster.rs`).
//!
//! # The network model, and why it is connection-level
//! The real transport is a WebSocket, i.e. TCP: *within* one connection, frames are never
//! lost, duplicated or reordered. Loss, duplication and reordering as a peer sees them come
//! from connections, so that is where the model puts them:
//! - **latency** and **reordering**: every frame gets a random delivery time (with occasional
//!   stalls), but a link is FIFO: frames of different links interleave at random, frames of
//!   one connection never overtake each other;
//! - **loss**: a connection drops ([`Step::Drop`], a crash): both sides learn of it, and
//!   every frame in flight on it vanishes, including acks and rejections;
//! - **duplication**: a reconnect starts a fresh, ordered stream on which the client resends
//!   everything unacked, and the server re-acks what it already holds;
//! - **partitions** ([`Step::Partition`]): a cut link delivers nothing and accepts no new
//!   connection, but its connection stays up and its frames wait (TCP retransmits), until
//!   the cut heals or the connection drops; the room's hello timeout may close it meanwhile.
//!
//! # Disks and crashes
//! The driver persists asynchronously, like a real one: each [`SessionAction::Persist`] and
//! [`RoomAction::Persist`] is stored after a random delay, in order, and confirmed right after
//! it is stored. A crash loses what was not stored yet; a *torn* crash also stores the first
//! `torn` pending writes without confirming them (the driver died between the two). A
//! crashed client restarts from its [`MemoryStore`] with a fresh RNG seed; a crashed node
//! rebuilds its room from the log. In-memory state (connections, unconfirmed writes, the
//! room's record of rejected ranges) is gone.
//!
//! # The log
//! A node's disk write is a compare-and-append to the shared log (`store.rs`) at the head its
//! batch was validated against, under the node's lease, as the server's `room_task.rs` does.
//! With one node it always lands; with several, a refused append makes the node rebuild its
//! room and judge the refused batches again, other nodes' entries reach it by a bus or a
//! periodic check, and a node paused past its lease is fenced (`cluster.rs` says how).
//!
//! # Time
//! Simulated milliseconds. [`Step::Advance`] moves the clock and carries out, in time order,
//! every frame delivery, disk write and timeout due on the way, following the crate's drain
//! rule after every `handle_*` call. The room's hello timeout and the sessions' rate-limit
//! backoffs are driven through `poll_timeout`/`handle_timeout`. Reconnecting is up to the
//! schedule ([`Step::Connect`]) and to [`Net::settle`]; the `Connection` state machine
//! (backoff, heartbeats) has its own tests and is not wired in.
//!
//! The invariants live in `track.rs`; what the schedule can ask for is in `workload.rs`; the
//! nodes and their log in `node.rs`, `nodes.rs` and `store.rs`; the steps only a cluster
//! takes in [`cluster`].

mod bytes;
pub mod cluster;
mod node;
mod nodes;
mod store;
mod track;
mod workload;

use std::collections::VecDeque;
use std::sync::Arc;

use cardsync_core::{CardDoc, Schema, Stamp};
use cardsync_sync::connection::{Instant, SplitMix64};
use cardsync_sync::outbox::{MemoryStore, OutboxStore, PersistOp};
use cardsync_sync::protocol::{Message, ProtocolError};
use cardsync_sync::room::{PeerId, Room, RoomAction, StaticTokens};
use cardsync_sync::session::{ClientSession, SessionAction, SessionConfig};
use node::Node;
pub use store::{Lease, Refused, SeqNo, Store};
pub use track::{Fate, Key, Stats, Tracker};
pub use workload::{Action, Ids, Step, action, ops, room_config, schema, step, token, tokens};

/// One connection: the two FIFO directions, with delivery times.
struct Link {
    peer: PeerId,
    /// The node it is connected to.
    node: usize,
    up: VecDeque<(u64, Vec<u8>)>,
    /// `None` is the room's close, delivered after the frames before it.
    down: VecDeque<(u64, Option<Vec<u8>>)>,
    /// The room closed this peer: nothing more goes up.
    closed: bool,
}

struct Client {
    session: ClientSession,
    store: MemoryStore,
    config: SessionConfig,
    /// Persist ops issued and not stored yet: (due, seq, op).
    unstored: VecDeque<(u64, u64, PersistOp)>,
    link: Option<Link>,
    /// The node the client connects to.
    home: usize,
}

/// Something due at a time.
enum Due {
    Up(usize),
    Down(usize),
    ClientDisk(usize),
    ClientTimer(usize),
    /// A node's next append reaches the store.
    NodeDisk(usize),
    RoomTimer(usize),
    /// A node renews its lease.
    Renew(usize),
    /// A node checks the log's head.
    Check(usize),
    /// The bus tells a node of another node's append.
    Wake(usize),
}

/// The simulated system. See the module docs.
pub struct Net {
    now: u64,
    rng: SplitMix64,
    schema: Arc<Schema>,
    store: Store,
    nodes: Vec<Node>,
    clients: Vec<Client>,
    cut: u8,
    next_peer: u64,
    next_seed: u64,
    ids: Ids,
    /// The invariants' memory.
    pub track: Tracker,
    /// What happened.
    pub stats: Stats,
    /// Print every frame, event and fault to stderr (for triage).
    pub trace: bool,
    /// Whether the last [`Net::settle`] reached quiescence.
    pub settled: bool,
}

/// A frame as a message, for traces.
fn decode(frame: &[u8]) -> Result<Message, ProtocolError> {
    Message::decode(frame, usize::MAX)
}

fn later(queue_tail: Option<u64>, at: u64) -> u64 {
    queue_tail.map_or(at, |t| t.max(at))
}

impl Net {
    /// `clients` connected clients (2–5) and one node with an empty room; `seed` drives
    /// latencies and client ids; sessions compact their outbox offline once `compact_after`
    /// batches wait.
    pub fn new(clients: usize, seed: u64, compact_after: usize) -> Self {
        Self::cluster(clients, 1, seed, compact_after)
    }

    /// As [`Net::new`], with `nodes` server nodes over one log; client `i` starts on node
    /// `i % nodes`.
    pub fn cluster(clients: usize, nodes: usize, seed: u64, compact_after: usize) -> Self {
        let schema = Arc::new(schema());
        let mut net = Self {
            now: 0,
            rng: SplitMix64::new(seed),
            schema,
            store: Store::default(),
            nodes: Vec::new(),
            clients: Vec::new(),
            cut: 0,
            next_peer: 0,
            next_seed: seed.wrapping_mul(31),
            ids: Ids::default(),
            track: Tracker::default(),
            stats: Stats::default(),
            trace: false,
            settled: false,
        };
        for n in 0..nodes {
            let node = net.load_node(n, nodes > 1);
            net.nodes.push(node);
        }
        for i in 0..clients {
            let config = SessionConfig {
                token: token(i).into(),
                compact_after,
                ..SessionConfig::default()
            };
            let store = MemoryStore::default();
            let session = net.session(&config, store.clone());
            let (unstored, link) = (VecDeque::new(), None);
            net.clients.push(Client {
                session,
                store,
                config,
                unstored,
                link,
                home: i % nodes,
            });
            net.connect(i);
        }
        net
    }

    fn session(&mut self, config: &SessionConfig, mut store: MemoryStore) -> ClientSession {
        self.next_seed += 1;
        let rng = Box::new(SplitMix64::new(self.next_seed));
        let persisted = store.load().expect("memory stores do not fail");
        ClientSession::new(self.schema.clone(), config.clone(), persisted, rng)
            .expect("a stored session reopens")
    }

    /// When something started now completes: usually within `max` ms, but one time in eight
    /// a stall (a slow fsync, a congested link) takes up to a second, so that slow disks
    /// and fast networks overtake each other.
    fn latency(&mut self, max: u64) -> u64 {
        let r = self.rng.next_u64();
        let max = if r.is_multiple_of(8) { 1_000 } else { max };
        self.now + 1 + (r >> 3) % max
    }

    fn log(&self, what: impl FnOnce() -> String) {
        if self.trace {
            eprintln!("{:>6} {}", self.now, what());
        }
    }

    /// Runs one step.
    pub fn run(&mut self, step: &Step) {
        let n = self.clients.len();
        self.log(|| format!("step {step:?}"));
        match *step {
            Step::Local { client, ref action } => self.local(client as usize % n, action),
            Step::Concurrent {
                clients,
                ref action,
            } => {
                for i in (0..n).filter(|i| clients & (1 << i) != 0) {
                    self.local(i, &action.for_client(i));
                }
            }
            Step::Advance { ms } => self.advance(u64::from(ms)),
            Step::Connect { client } => self.connect(client as usize % n),
            Step::Drop { client } => self.drop_link(client as usize % n),
            Step::Partition { mask } => self.cut = mask,
            Step::CrashClient { client, torn } => self.crash_client(client as usize % n, torn),
            Step::CrashServer { torn } => self.crash_node(0, torn),
        }
    }

    fn local(&mut self, i: usize, action: &Action) {
        let Some(ops) = ops(self.clients[i].session.local(), action, &mut self.ids) else {
            return;
        };
        let stamp = Stamp::new(self.now, format!("user{i}"));
        match self.clients[i]
            .session
            .apply(Instant(self.now), &stamp, &ops)
        {
            Ok(Some(_)) => {
                self.stats.batches += 1;
                let place =
                    |op: &cardsync_core::Op| matches!(op, cardsync_core::Op::PlaceCard { .. });
                self.stats.placements += usize::from(ops.iter().any(place));
                self.track.applied(i, &ops);
            }
            Ok(None) => {}
            Err(_) => self.stats.refused += 1,
        }
        self.drain_client(i);
    }

    fn is_cut(&self, i: usize) -> bool {
        self.cut & (1 << i) != 0
    }

    fn connect(&mut self, i: usize) {
        if self.clients[i].link.is_some() || self.is_cut(i) {
            return;
        }
        let n = self.clients[i].home;
        // A paused node accepts nothing; the client tries again later.
        if self.nodes[n].paused_until > self.now {
            return;
        }
        self.next_peer += 1;
        let peer = PeerId(self.next_peer);
        let (up, down) = (VecDeque::new(), VecDeque::new());
        let closed = false;
        self.clients[i].link = Some(Link {
            peer,
            node: n,
            up,
            down,
            closed,
        });
        self.nodes[n]
            .room
            .handle_connect(Instant(self.now), peer)
            .expect("fresh peer ids");
        self.drain_room(n);
        self.clients[i].session.handle_connected(Instant(self.now));
        self.drain_client(i);
        // A room on a shared log may be behind it (a late or lost wake-up, nobody here to
        // check): catch up before the newcomer's batches are judged (as `room_task.rs` does).
        if self.nodes[n].shared {
            self.nodes[n].stale = true;
            self.catch_up(n);
        }
    }

    /// Both ends learn the connection is gone; what was in flight vanishes.
    fn drop_link(&mut self, i: usize) {
        let Some(link) = self.clients[i].link.take() else {
            return;
        };
        if !link.closed {
            self.nodes[link.node]
                .room
                .handle_disconnect(Instant(self.now), link.peer);
            self.drain_room(link.node);
        }
        self.disconnected(i);
    }

    fn disconnected(&mut self, i: usize) {
        self.clients[i].link = None;
        let session = &mut self.clients[i].session;
        session
            .handle_disconnected(Instant(self.now))
            .expect("compaction of a sane outbox");
        self.drain_client(i);
    }

    fn crash_client(&mut self, i: usize, torn: u8) {
        self.stats.crashes += 1;
        if let Some(link) = self.clients[i].link.take()
            && !link.closed
        {
            self.nodes[link.node]
                .room
                .handle_disconnect(Instant(self.now), link.peer);
            self.drain_room(link.node);
        }
        let client = &mut self.clients[i];
        for (_, _, op) in client.unstored.drain(..).take(usize::from(torn)) {
            client
                .store
                .persist(&op)
                .expect("memory stores do not fail");
            self.track.stored(&op);
        }
        let (config, store) = (client.config.clone(), client.store.clone());
        self.track.restarted(i, store.state());
        self.clients[i].session = self.session(&config, store);
        self.drain_client(i);
    }

    /// The next thing due at or before `until`, earliest first (ties: fixed order).
    fn next_due(&self, until: u64) -> Option<(u64, Due)> {
        let mut best: Option<(u64, Due)> = None;
        let mut consider = |at: Option<u64>, due: Due| {
            if let Some(at) = at.filter(|&at| at <= until)
                && best.as_ref().is_none_or(|(b, _)| at < *b)
            {
                best = Some((at, due));
            }
        };
        for (i, c) in self.clients.iter().enumerate() {
            if let Some(link) = c.link.as_ref().filter(|_| !self.is_cut(i)) {
                // A node that is paused, or waits to catch up, reads no frame.
                let node = &self.nodes[link.node];
                let up = link.up.front().filter(|_| node.reading());
                consider(up.map(|f| node.after_pause(f.0)), Due::Up(i));
                consider(link.down.front().map(|f| f.0), Due::Down(i));
            }
            consider(c.unstored.front().map(|w| w.0), Due::ClientDisk(i));
            consider(c.session.poll_timeout().map(|t| t.0), Due::ClientTimer(i));
        }
        for (n, node) in self.nodes.iter().enumerate() {
            let at = |t: Option<u64>| t.map(|t| node.after_pause(t));
            consider(at(node.unstored.front().map(|w| w.0)), Due::NodeDisk(n));
            consider(at(node.room.poll_timeout().map(|t| t.0)), Due::RoomTimer(n));
            consider(at(node.next_renew), Due::Renew(n));
            consider(at(node.next_check), Due::Check(n));
            consider(at(node.wakes.front().map(|w| w.0)), Due::Wake(n));
        }
        best
    }

    /// Moves the clock `ms` forward, carrying out everything due on the way.
    pub fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        while let Some((at, due)) = self.next_due(until) {
            self.now = self.now.max(at);
            self.fire(due);
        }
        self.now = until;
    }

    fn fire(&mut self, due: Due) {
        let now = self.now;
        match due {
            Due::Up(i) => {
                let link = self.clients[i].link.as_mut().expect("due on a live link");
                let (peer, n) = (link.peer, link.node);
                let (_, frame) = link.up.pop_front().expect("due");
                self.log(|| format!("{i} -> node {n}: {:?}", decode(&frame)));
                let room = &mut self.nodes[n].room;
                room.handle_message(Instant(now), peer, &frame)
                    .expect("a peer the room knows");
                self.drain_room(n);
            }
            Due::Down(i) => {
                let link = self.clients[i].link.as_mut().expect("due on a live link");
                match link.down.pop_front().expect("due").1 {
                    Some(frame) => {
                        self.log(|| format!("node -> {i}: {:?}", decode(&frame)));
                        let session = &mut self.clients[i].session;
                        session
                            .handle_frame(Instant(now), &frame)
                            .expect("the room sends valid frames");
                        self.drain_client(i);
                    }
                    None => self.disconnected(i),
                }
            }
            Due::ClientDisk(i) => {
                let client = &mut self.clients[i];
                let (_, seq, op) = client.unstored.pop_front().expect("due");
                client
                    .store
                    .persist(&op)
                    .expect("memory stores do not fail");
                self.track.stored(&op);
                client.session.handle_persisted(Instant(now), seq);
                self.drain_client(i);
            }
            Due::ClientTimer(i) => {
                self.stats.retries += 1;
                self.clients[i].session.handle_timeout(Instant(now));
                self.drain_client(i);
            }
            Due::NodeDisk(n) => self.append(n),
            Due::RoomTimer(n) => {
                self.nodes[n].room.handle_timeout(Instant(now));
                self.drain_room(n);
            }
            Due::Renew(n) => self.renew(n),
            Due::Check(n) => self.check_head(n),
            Due::Wake(n) => self.wake(n),
        }
    }

    /// The drain rule for a client: carry out every action, record every event.
    fn drain_client(&mut self, i: usize) {
        while let Some(action) = self.clients[i].session.poll_action() {
            match action {
                SessionAction::Send(frame) => {
                    let at = self.latency(40);
                    if let Some(link) = self.clients[i].link.as_mut().filter(|l| !l.closed) {
                        link.up
                            .push_back((later(link.up.back().map(|f| f.0), at), frame));
                    }
                }
                SessionAction::Persist { seq, op } => {
                    let at = self.latency(30);
                    let queue = &mut self.clients[i].unstored;
                    queue.push_back((later(queue.back().map(|w| w.0), at), seq, op));
                }
            }
        }
        let client = &mut self.clients[i];
        while let Some(event) = client.session.poll_event() {
            if self.trace {
                eprintln!("{:>6} {i} event {event:?}", self.now);
            }
            self.track.event(i, &client.session, &event);
        }
        self.track.refresh(i, &client.session);
    }

    /// The drain rule for node `n`'s room. A persist becomes a compare-and-append at the
    /// head the room's next append expects.
    fn drain_room(&mut self, n: usize) {
        while let Some(action) = self.nodes[n].room.poll_action() {
            let at = self.latency(40);
            match action {
                RoomAction::Send { peer, frame } => self.down(peer, at, Some(frame.to_vec())),
                RoomAction::Close { peer, reason } => {
                    self.stats.closes.push(reason);
                    self.down(peer, at, None);
                }
                // Every simulated client says hello, so the room never pauses one.
                RoomAction::Audit(_) | RoomAction::Judged(_) | RoomAction::Pause { .. } => {}
                RoomAction::Persist { token, update } => {
                    let at = self.latency(30);
                    let node = &mut self.nodes[n];
                    let queue = &mut node.unstored;
                    let at = later(queue.back().map(|w| w.0), at);
                    queue.push_back((at, token, update, node.expected));
                    node.expected += 1;
                }
            }
        }
    }

    fn down(&mut self, peer: PeerId, at: u64, frame: Option<Vec<u8>>) {
        let link = self
            .clients
            .iter_mut()
            .filter_map(|c| c.link.as_mut())
            .find(|l| l.peer == peer && !l.closed);
        if let Some(link) = link {
            if frame.is_none() {
                // The room forgot the peer: whatever it still sends up is discarded.
                link.closed = true;
                link.up.clear();
            }
            link.down
                .push_back((later(link.down.back().map(|f| f.0), at), frame));
        }
    }

    /// Whether nothing is in flight, nothing waits for a disk, every node holds the whole
    /// log, and every outbox is empty.
    pub fn quiescent(&self) -> bool {
        self.nodes.iter().all(|node| node.idle(self.store.head()))
            && self.clients.iter().all(|c| {
                c.unstored.is_empty()
                    && c.session.pending().next().is_none()
                    && c.link
                        .as_ref()
                        .is_some_and(|l| l.up.is_empty() && l.down.is_empty())
            })
    }

    /// Heals every cut and keeps everyone connected until the system is quiescent (sets
    /// [`Net::settled`]; never getting there is a liveness failure).
    pub fn settle(&mut self) {
        self.cut = 0;
        for _ in 0..2_000 {
            for i in 0..self.clients.len() {
                self.connect(i);
            }
            self.advance(100);
            if self.quiescent() {
                self.settled = true;
                return;
            }
        }
        self.settled = false;
    }

    /// A room on the document as the log holds it (its `doc()`).
    pub fn logged(&self) -> Room<StaticTokens> {
        Room::new(
            room_config(),
            (*self.schema).clone(),
            tokens(),
            self.store.entries(),
        )
        .expect("the log holds only validated updates")
    }

    /// After [`Net::settle`]: convergence plus every tracked invariant. Returns every
    /// violation found during the run and now.
    pub fn check(&mut self) -> Result<(), String> {
        let logged = self.logged();
        let logged = logged.doc();
        let want = logged.export();
        let mut found = Vec::new();
        for (n, node) in self.nodes.iter().enumerate() {
            if node.room.doc().export() != want {
                found.push(format!("node {n}: its room differs from the log"));
            }
        }
        for (i, c) in self.clients.iter().enumerate() {
            let (local, confirmed) = (c.session.local().export(), c.session.confirmed().export());
            if local != want {
                found.push(format!(
                    "client {i}: local differs from the log:\n{local:#?}\nvs\n{want:#?}"
                ));
            }
            if confirmed != local {
                found.push(format!("client {i}: confirmed differs from local"));
            }
        }
        let replicas: Vec<&CardDoc> = (self.clients.iter().map(|c| c.session.local()))
            .chain(self.nodes.iter().map(|n| n.room.doc()))
            .collect();
        self.track.check_final(logged, &replicas);
        found.append(&mut self.track.violations);
        if found.is_empty() {
            Ok(())
        } else {
            Err(found.join("\n"))
        }
    }
}
