//! A deterministic network simulation: one server [`Room`] and 2–5 [`ClientSession`]s, wired
//! by a simulated network, disks and clock, all in one thread, driven by a schedule of
//! [`Step`]s (proptest generates them; the fuzz targets can too).
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
//! crashed client restarts from its [`MemoryStore`] with a fresh RNG seed; a crashed server
//! rebuilds its room from the update log. In-memory state (connections, unconfirmed writes,
//! the room's record of rejected ranges) is gone.
//!
//! # Time
//! Simulated milliseconds. [`Step::Advance`] moves the clock and carries out, in time order,
//! every frame delivery, disk write and timeout due on the way, following the crate's drain
//! rule after every `handle_*` call. The room's hello timeout and the sessions' rate-limit
//! backoffs are driven through `poll_timeout`/`handle_timeout`. Reconnecting is up to the
//! schedule ([`Step::Connect`]) and to [`Net::settle`]; the `Connection` state machine
//! (backoff, heartbeats) has its own tests and is not wired in.
//!
//! The invariants live in `track.rs`; what the schedule can ask for is in `workload.rs`.

mod bytes;
mod track;
mod workload;

use std::collections::VecDeque;
use std::sync::Arc;

use cardsync_core::{Schema, Stamp};
use cardsync_sync::connection::{Instant, SplitMix64};
use cardsync_sync::outbox::{MemoryStore, OutboxStore, PersistOp};
use cardsync_sync::protocol::{Message, ProtocolError};
use cardsync_sync::room::{PeerId, PersistToken, Room, RoomAction, StaticTokens};
use cardsync_sync::session::{ClientSession, SessionAction, SessionConfig};
pub use track::{Fate, Key, Stats, Tracker};
pub use workload::{Action, Ids, Step, action, ops, room_config, schema, step, token, tokens};

/// One connection: the two FIFO directions, with delivery times.
struct Link {
    peer: PeerId,
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
}

struct Server {
    room: Room<StaticTokens>,
    log: Vec<Vec<u8>>,
    unstored: VecDeque<(u64, PersistToken, Vec<u8>)>,
}

/// Something due at a time.
enum Due {
    Up(usize),
    Down(usize),
    ClientDisk(usize),
    ClientTimer(usize),
    ServerDisk,
    RoomTimer,
}

/// The simulated system. See the module docs.
pub struct Net {
    now: u64,
    rng: SplitMix64,
    schema: Arc<Schema>,
    server: Server,
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
    /// `clients` connected clients (2–5) and an empty room; `seed` drives latencies and client
    /// ids; sessions compact their outbox offline once `compact_after` batches wait.
    pub fn new(clients: usize, seed: u64, compact_after: usize) -> Self {
        let schema = Arc::new(schema());
        let (log, unstored) = (Vec::new(), VecDeque::new());
        let room = Room::new(room_config(), (*schema).clone(), tokens(), &log)
            .expect("the simulation's schema is valid");
        let server = Server {
            room,
            log,
            unstored,
        };
        let mut net = Self {
            now: 0,
            rng: SplitMix64::new(seed),
            schema,
            server,
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
            Step::CrashServer { torn } => self.crash_server(torn),
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
        self.next_peer += 1;
        let peer = PeerId(self.next_peer);
        let (up, down) = (VecDeque::new(), VecDeque::new());
        let closed = false;
        self.clients[i].link = Some(Link {
            peer,
            up,
            down,
            closed,
        });
        self.server
            .room
            .handle_connect(Instant(self.now), peer)
            .expect("fresh peer ids");
        self.drain_room();
        self.clients[i].session.handle_connected(Instant(self.now));
        self.drain_client(i);
    }

    /// Both ends learn the connection is gone; what was in flight vanishes.
    fn drop_link(&mut self, i: usize) {
        let Some(link) = self.clients[i].link.take() else {
            return;
        };
        self.server
            .room
            .handle_disconnect(Instant(self.now), link.peer);
        self.drain_room();
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
        if let Some(link) = self.clients[i].link.take() {
            self.server
                .room
                .handle_disconnect(Instant(self.now), link.peer);
            self.drain_room();
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

    fn crash_server(&mut self, torn: u8) {
        self.stats.crashes += 1;
        let server = &mut self.server;
        let written = server.unstored.drain(..).take(usize::from(torn));
        server.log.extend(written.map(|(_, _, update)| update));
        for i in 0..self.clients.len() {
            if self.clients[i].link.is_some() {
                self.disconnected(i);
            }
        }
        let log = &self.server.log;
        self.server.room = Room::new(room_config(), (*self.schema).clone(), tokens(), log)
            .expect("the log holds only validated updates");
        self.track
            .check_acked_held(self.server.room.doc(), "after a server crash");
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
                consider(link.up.front().map(|f| f.0), Due::Up(i));
                consider(link.down.front().map(|f| f.0), Due::Down(i));
            }
            consider(c.unstored.front().map(|w| w.0), Due::ClientDisk(i));
            consider(c.session.poll_timeout().map(|t| t.0), Due::ClientTimer(i));
        }
        consider(self.server.unstored.front().map(|w| w.0), Due::ServerDisk);
        consider(self.server.room.poll_timeout().map(|t| t.0), Due::RoomTimer);
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
                let (peer, (_, frame)) = (link.peer, link.up.pop_front().expect("due"));
                self.log(|| format!("{i} -> room: {:?}", decode(&frame)));
                let room = &mut self.server.room;
                room.handle_message(Instant(now), peer, &frame)
                    .expect("a peer the room knows");
                self.drain_room();
            }
            Due::Down(i) => {
                let link = self.clients[i].link.as_mut().expect("due on a live link");
                match link.down.pop_front().expect("due").1 {
                    Some(frame) => {
                        self.log(|| format!("room -> {i}: {:?}", decode(&frame)));
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
            Due::ServerDisk => {
                let (_, token, update) = self.server.unstored.pop_front().expect("due");
                self.server.log.push(update);
                let room = &mut self.server.room;
                room.handle_persisted(Instant(now), token)
                    .expect("issued tokens");
                self.drain_room();
            }
            Due::RoomTimer => {
                self.server.room.handle_timeout(Instant(now));
                self.drain_room();
            }
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

    /// The drain rule for the room.
    fn drain_room(&mut self) {
        while let Some(action) = self.server.room.poll_action() {
            let at = self.latency(40);
            match action {
                RoomAction::Send { peer, frame } => self.down(peer, at, Some(frame.to_vec())),
                RoomAction::Close { peer, reason } => {
                    self.stats.closes.push(reason);
                    self.down(peer, at, None);
                }
                // Every simulated client says hello, so the room never pauses one.
                RoomAction::Audit(_) | RoomAction::Pause { .. } => {}
                RoomAction::Persist { token, update } => {
                    let at = self.latency(30);
                    let queue = &mut self.server.unstored;
                    queue.push_back((later(queue.back().map(|w| w.0), at), token, update));
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

    /// Whether nothing is in flight, nothing waits for a disk, and every outbox is empty.
    pub fn quiescent(&self) -> bool {
        self.server.unstored.is_empty()
            && self.server.room.pending_persists() == 0
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

    /// After [`Net::settle`]: convergence plus every tracked invariant. Returns every
    /// violation found during the run and now.
    pub fn check(&mut self) -> Result<(), String> {
        let server = self.server.room.doc();
        let want = server.export();
        let mut found = Vec::new();
        for (i, c) in self.clients.iter().enumerate() {
            let (local, confirmed) = (c.session.local().export(), c.session.confirmed().export());
            if local != want {
                found.push(format!(
                    "client {i}: local differs from the server:\n{local:#?}\nvs\n{want:#?}"
                ));
            }
            if confirmed != local {
                found.push(format!("client {i}: confirmed differs from local"));
            }
        }
        let locals: Vec<_> = self.clients.iter().map(|c| c.session.local()).collect();
        self.track.check_final(server, &locals);
        found.append(&mut self.track.violations);
        if found.is_empty() {
            Ok(())
        } else {
            Err(found.join("\n"))
        }
    }
}
