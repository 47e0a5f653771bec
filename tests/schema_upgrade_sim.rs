//! Schema upgrades through the sync protocol (issue 17, docs/design.md §3 "Moving to a new
//! schema"): the room runs schema v2 while 2–5 `ClientSession`s start on v1 and restart on v2
//! at random points (clients upgrading late). Upgraded clients first-write the fields v2
//! adds (a text, a counter, a max and a set) on cards created under v1, concurrently, with
//! frames delivered in a random interleaving and persists completing at random. At the end
//! every batch is acked (none rejected), every replica equals the room, and nothing is lost:
//! texts hold every insertion, counters the sum, max the max, sets every add.
//!
//! 256 cases by default; `CARDSYNC_SLOW=1` (`cargo xtask test --slow`) runs 10,000.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use cardsync_core::{
    Attributes, CardId, CardKind, FieldDef, FieldKind, FieldValue, Op, Schema, Stamp, ValueType,
};
use cardsync_sync::SyncEvent;
use cardsync_sync::connection::{Instant, SplitMix64};
use cardsync_sync::outbox::{MemoryStore, OutboxStore};
use cardsync_sync::room::{PeerId, PersistToken, Role, Room, RoomAction, RoomConfig, StaticTokens};
use cardsync_sync::session::{ClientSession, SessionAction, SessionConfig};
use cardsync_tests::cases;
use proptest::prelude::*;

fn v1() -> Arc<Schema> {
    Arc::new(Schema::new(1).card(
        "task",
        CardKind::default().field("title", FieldDef::register(ValueType::String)),
    ))
}

fn v2() -> Arc<Schema> {
    Arc::new(
        Schema::new(2).card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String))
                .field("notes", FieldDef::new(FieldKind::Text))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("peak", FieldDef::new(FieldKind::Max))
                .field("tags", FieldDef::new(FieldKind::Set)),
        ),
    )
}

const CARDS: [u128; 2] = [1, 2];

#[derive(Clone, Debug)]
enum Step {
    /// The client restarts on v2 (a no-op once it has).
    Upgrade(usize),
    /// A write: a new field once upgraded, the title before.
    Write {
        client: usize,
        card: u8,
        field: u8,
        arg: u16,
    },
    /// Delivers one queued frame, picked by the number.
    Deliver(u8),
    /// The room's persists complete.
    Persist,
}

fn step(clients: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..clients).prop_map(Step::Upgrade),
        4 => (0..clients, 0u8..2, 0u8..4, any::<u16>())
            .prop_map(|(client, card, field, arg)| Step::Write { client, card, field, arg }),
        6 => any::<u8>().prop_map(Step::Deliver),
        2 => Just(Step::Persist),
    ]
}

struct Client {
    session: ClientSession,
    store: MemoryStore,
    peer: PeerId,
    upgraded: bool,
    seed: u64,
    /// Frames to the room, and from it.
    up: VecDeque<Vec<u8>>,
    down: VecDeque<Vec<u8>>,
}

struct Sim {
    room: Room<StaticTokens>,
    held: Vec<PersistToken>,
    clients: Vec<Client>,
    next_peer: u64,
    now: u64,
    rejections: Vec<String>,
    expected: [Expected; 2],
    serial: u32,
}

#[derive(Default)]
struct Expected {
    tokens: Vec<String>,
    votes: i64,
    peak: Option<f64>,
    tags: BTreeSet<String>,
}

fn session(schema: Arc<Schema>, store: &mut MemoryStore, seed: u64) -> ClientSession {
    let config = SessionConfig {
        token: "editor".into(),
        ..SessionConfig::default()
    };
    let persisted = store.load().expect("memory store");
    ClientSession::new(schema, config, persisted, Box::new(SplitMix64::new(seed)))
        .expect("v1 → v2 is safe")
}

impl Sim {
    fn new(clients: usize) -> Self {
        let tokens = StaticTokens::default().with("editor", Role::Editor);
        let room =
            Room::new(RoomConfig::default(), v2(), tokens, Vec::<Vec<u8>>::new()).expect("room");
        let mut sim = Self {
            room,
            held: Vec::new(),
            clients: Vec::new(),
            next_peer: 0,
            now: 1_000,
            rejections: Vec::new(),
            expected: Default::default(),
            serial: 0,
        };
        for i in 0..clients as u64 {
            let mut store = MemoryStore::default();
            let client = Client {
                session: session(v1(), &mut store, 100 + i),
                store,
                peer: PeerId(0),
                upgraded: false,
                seed: 100 + i,
                up: VecDeque::new(),
                down: VecDeque::new(),
            };
            sim.clients.push(client);
            sim.connect(i as usize);
        }
        let stamp = Stamp::new(1, "setup");
        for card in CARDS {
            let op = Op::CreateCard {
                card: CardId::from_u128(card),
                kind: "task".into(),
                fields: Default::default(),
            };
            sim.clients[0]
                .session
                .apply(Instant(sim.now), &stamp, &[op])
                .expect("create");
        }
        sim.settle();
        sim
    }

    fn connect(&mut self, i: usize) {
        self.next_peer += 1;
        let peer = PeerId(self.next_peer);
        self.room
            .handle_connect(Instant(self.now), peer)
            .expect("peer");
        let c = &mut self.clients[i];
        c.peer = peer;
        c.session.handle_connected(Instant(self.now));
    }

    /// Restarts client `i` on v2 from its store, as an app update does.
    fn upgrade(&mut self, i: usize) {
        if self.clients[i].upgraded {
            return;
        }
        let now = Instant(self.now);
        self.room.handle_disconnect(now, self.clients[i].peer);
        self.drain();
        let c = &mut self.clients[i];
        c.session.handle_disconnected(now).expect("disconnect");
        c.up.clear();
        c.down.clear();
        c.seed += 1_000;
        c.session = session(v2(), &mut c.store, c.seed);
        c.upgraded = true;
        self.connect(i);
    }

    fn write(&mut self, i: usize, card: u8, field: u8, arg: u16) {
        self.serial += 1;
        let id = CardId::from_u128(CARDS[card as usize]);
        let exp = &mut self.expected[card as usize];
        let c = &mut self.clients[i];
        let name = ["notes", "votes", "peak", "tags"][field as usize].to_owned();
        let op = if !c.upgraded {
            Op::SetField {
                card: id,
                field: "title".into(),
                value: format!("t{arg}").into(),
            }
        } else {
            match field {
                0 => {
                    let token = format!("<{i}.{}>", self.serial);
                    let len = match c.session.local().card(id).map(|c| c.fields) {
                        Some(f) => match f.get("notes") {
                            Some(FieldValue::Text(t)) => t.encode_utf16().count() as u32,
                            _ => 0,
                        },
                        None => 0,
                    };
                    exp.tokens.push(token.clone());
                    Op::InsertText {
                        card: id,
                        field: name,
                        index: if arg.is_multiple_of(2) { 0 } else { len },
                        text: token,
                        attributes: Attributes::default(),
                    }
                }
                1 => {
                    let by = i64::from(arg % 7) + 1;
                    exp.votes += by;
                    Op::Increment {
                        card: id,
                        field: name,
                        by,
                    }
                }
                2 => {
                    let value = f64::from(arg);
                    exp.peak = Some(exp.peak.map_or(value, |p| p.max(value)));
                    Op::RaiseMax {
                        card: id,
                        field: name,
                        value,
                    }
                }
                _ => {
                    let item = format!("t{}", arg % 16);
                    exp.tags.insert(item.clone());
                    Op::AddToSet {
                        card: id,
                        field: name,
                        item,
                    }
                }
            }
        };
        let stamp = Stamp::new(u64::from(self.serial), "user");
        c.session
            .apply(Instant(self.now), &stamp, &[op])
            .expect("a valid local write");
    }

    /// Moves every client's and the room's output into the queues.
    fn drain(&mut self) {
        let now = Instant(self.now);
        for c in &mut self.clients {
            while let Some(action) = c.session.poll_action() {
                match action {
                    SessionAction::Send(frame) => c.up.push_back(frame),
                    SessionAction::Persist { seq, op } => {
                        c.store.persist(&op).expect("memory store");
                        c.session.handle_persisted(now, seq);
                    }
                }
            }
            while let Some(event) = c.session.poll_event() {
                if let SyncEvent::Rejected { rejection, .. } = event {
                    self.rejections.push(format!("{rejection:?}"));
                }
            }
        }
        while let Some(action) = self.room.poll_action() {
            match action {
                RoomAction::Send { peer, frame } => {
                    if let Some(c) = self.clients.iter_mut().find(|c| c.peer == peer) {
                        c.down.push_back(frame.to_vec());
                    }
                }
                RoomAction::Persist { token, .. } => self.held.push(token),
                RoomAction::Close { .. }
                | RoomAction::Audit(_)
                | RoomAction::Judged(_)
                | RoomAction::Pause { .. } => {}
            }
        }
    }

    fn persist(&mut self) {
        for token in std::mem::take(&mut self.held) {
            self.room
                .handle_persisted(Instant(self.now), token)
                .expect("issued token");
        }
        self.drain();
    }

    /// Delivers the `pick`-th non-empty queue's first frame; false when all are empty.
    fn deliver(&mut self, pick: usize) -> bool {
        self.drain();
        let queues: Vec<(usize, bool)> = self
            .clients
            .iter()
            .enumerate()
            .flat_map(|(i, c)| [(i, true, !c.up.is_empty()), (i, false, !c.down.is_empty())])
            .filter(|(_, _, has)| *has)
            .map(|(i, up, _)| (i, up))
            .collect();
        let Some(&(i, up)) = queues.get(pick % queues.len().max(1)) else {
            return false;
        };
        let now = Instant(self.now);
        let c = &mut self.clients[i];
        if up {
            let frame = c.up.pop_front().expect("non-empty");
            self.room
                .handle_message(now, c.peer, &frame)
                .expect("a connected peer");
        } else {
            let frame = c.down.pop_front().expect("non-empty");
            c.session.handle_frame(now, &frame).expect("a room frame");
        }
        self.now += 1;
        self.drain();
        true
    }

    fn settle(&mut self) {
        for _ in 0..100_000 {
            self.persist();
            if !self.deliver(0) && self.held.is_empty() {
                return;
            }
        }
        panic!("never quiescent");
    }

    fn run(&mut self, s: &Step) {
        match *s {
            Step::Upgrade(i) => self.upgrade(i),
            Step::Write {
                client,
                card,
                field,
                arg,
            } => self.write(client, card, field, arg),
            Step::Deliver(pick) => {
                self.deliver(pick as usize);
            }
            Step::Persist => self.persist(),
        }
    }

    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert!(self.rejections.is_empty(), "{:?}", self.rejections);
        let server = self.room.doc().export();
        for (i, c) in self.clients.iter().enumerate() {
            prop_assert_eq!(&c.session.local().export(), &server, "client {} differs", i);
            prop_assert_eq!(c.session.status(Instant(self.now)).pending, 0);
        }
        for (card, exp) in CARDS.iter().zip(&self.expected) {
            let fields = &server.cards[&CardId::from_u128(*card)].fields;
            let text = match fields.get("notes") {
                Some(FieldValue::Text(t)) => t.clone(),
                _ => String::new(),
            };
            for token in &exp.tokens {
                prop_assert!(
                    text.contains(token.as_str()),
                    "{} lost from {:?}",
                    token,
                    text
                );
            }
            let total: usize = exp.tokens.iter().map(String::len).sum();
            prop_assert_eq!(text.len(), total);
            let votes = match fields.get("votes") {
                Some(FieldValue::Counter(n)) => *n,
                _ => 0,
            };
            prop_assert_eq!(votes, exp.votes);
            let peak = match fields.get("peak") {
                Some(FieldValue::Max(m)) => *m,
                _ => None,
            };
            prop_assert_eq!(peak, exp.peak);
            let tags = match fields.get("tags") {
                Some(FieldValue::Set(s)) => s.clone(),
                _ => BTreeSet::new(),
            };
            prop_assert_eq!(&tags, &exp.tags);
        }
        Ok(())
    }
}

fn run(clients: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut sim = Sim::new(clients);
    for s in steps {
        sim.run(s);
    }
    for i in 0..clients {
        sim.upgrade(i);
    }
    sim.settle();
    sim.check()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/schema_upgrade_sim.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn late_upgrades_through_the_room_keep_every_write(
        (clients, steps) in (2usize..=5).prop_flat_map(|n| (Just(n), proptest::collection::vec(step(n), 1..120)))
    ) {
        run(clients, &steps)?;
    }
}

/// Two upgraded clients first-write every new field of one card, their batches crossing in
/// the room: both are acked and both kept.
#[test]
fn crossing_first_writes_are_both_acked_and_kept() {
    let mut steps = vec![Step::Upgrade(0), Step::Upgrade(1)];
    for field in 0..4 {
        for client in 0..2 {
            steps.push(Step::Write {
                client,
                card: 0,
                field,
                arg: client as u16 + 1,
            });
        }
    }
    run(2, &steps).expect("nothing lost");
}
