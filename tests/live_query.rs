//! Live queries stay equal to a fresh filter of the document, on every client, after every step
//! of random programs: local writes, undo, remote updates from the other client through a room,
//! and rollbacks of the batches the room rejects (Bob may not set `owner`, which only admins may
//! set; his write applies locally and rolls back when the rejection comes).
//!
//! Each client keeps three live queries over its local doc, updated only from the change
//! batches the session hands out (`ClientSession::poll_changes`); after every step each must
//! list exactly the cards a full scan finds, in the same order, and its deltas must account for
//! every entry and exit.
//!
//! 256 cases by default; `CARDSYNC_SLOW=1` (`cargo xtask test --slow`) runs 10,000.

use std::collections::BTreeSet;
use std::sync::Arc;

use cardsync_core::{
    Attributes, CardDoc, CardId, CardKind, FieldDef, FieldValue, LiveQuery, Op, OrderBy, Query,
    Schema, Stamp, Value, ValueType,
};
use cardsync_sync::{
    ClientSession, FieldRule, Instant, PeerId, Persisted, RateLimit, Role, Room, RoomAction,
    RoomConfig, SessionAction, SessionConfig, SplitMix64, StaticTokens,
};
use cardsync_tests::cases;
use proptest::prelude::*;

const CARDS: u128 = 8;
const STATUSES: [&str; 3] = ["open", "doing", "done"];
const OWNERS: [Option<&str>; 3] = [None, Some("ann"), Some("bob")];

fn schema() -> Schema {
    let fields = || {
        CardKind::default()
            .field("status", FieldDef::register(ValueType::String))
            .field("owner", FieldDef::register(ValueType::String))
            .field("points", FieldDef::register(ValueType::Number))
    };
    Schema::new(1).card("task", fields()).card("bug", fields())
}

fn queries() -> Vec<Query> {
    let open_tasks = Query {
        kind: Some("task".into()),
        filter: [("status".to_owned(), Value::from("open"))].into(),
        order_by: Some(OrderBy {
            field: "points".into(),
            descending: true,
        }),
    };
    let unowned = Query {
        filter: [("owner".to_owned(), Value::Null)].into(),
        order_by: Some(OrderBy {
            field: "status".into(),
            descending: false,
        }),
        ..Query::default()
    };
    vec![open_tasks, unowned, Query::default()]
}

/// What a full scan finds: the query's answer, computed the slow way.
fn scan(doc: &CardDoc, query: &Query) -> Vec<CardId> {
    let value = |card: &cardsync_core::Card, field: &str| match card.fields.get(field) {
        Some(FieldValue::Register(v)) => v.clone(),
        None => Value::Null,
        Some(other) => panic!("not a register: {other:?}"),
    };
    let mut found: Vec<(Value, CardId)> = doc
        .cards(query.kind.as_deref())
        .into_iter()
        .filter(|c| query.filter.iter().all(|(f, v)| &value(c, f) == v))
        .map(|c| {
            let key = query
                .order_by
                .as_ref()
                .map_or(Value::Null, |o| value(&c, &o.field));
            (key, c.id)
        })
        .collect();
    // Values here are null, strings or numbers: null first, then by value, ties by id.
    let rank = |v: &Value| match v {
        Value::Null => (0, 0.0, String::new()),
        Value::Number(n) => (1, *n, String::new()),
        Value::String(s) => (2, 0.0, s.clone()),
        other => panic!("unexpected {other:?}"),
    };
    found.sort_by(|(a, x), (b, y)| {
        rank(a)
            .partial_cmp(&rank(b))
            .unwrap()
            .then_with(|| x.cmp(y))
    });
    if query.order_by.as_ref().is_some_and(|o| o.descending) {
        // Descending by value, ties still by id.
        found.sort_by(|(a, x), (b, y)| {
            rank(b)
                .partial_cmp(&rank(a))
                .unwrap()
                .then_with(|| x.cmp(y))
        });
    }
    found.into_iter().map(|(_, id)| id).collect()
}

#[derive(Clone, Debug)]
enum Step {
    Create {
        r: u8,
        card: u8,
        bug: bool,
        status: u8,
        points: u8,
    },
    Status {
        r: u8,
        card: u8,
        status: u8,
    },
    Owner {
        r: u8,
        card: u8,
        owner: u8,
    },
    Points {
        r: u8,
        card: u8,
        points: u8,
    },
    Delete {
        r: u8,
        card: u8,
    },
    Restore {
        r: u8,
        card: u8,
    },
    Undo {
        r: u8,
    },
    Pump,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (any::<u8>(), any::<u8>(), any::<bool>(), any::<u8>(), any::<u8>())
            .prop_map(|(r, card, bug, status, points)| Step::Create { r, card, bug, status, points }),
        3 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(r, card, status)| Step::Status { r, card, status }),
        2 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(r, card, owner)| Step::Owner { r, card, owner }),
        2 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(r, card, points)| Step::Points { r, card, points }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(r, card)| Step::Delete { r, card }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(r, card)| Step::Restore { r, card }),
        1 => any::<u8>().prop_map(|r| Step::Undo { r }),
        3 => Just(Step::Pump),
    ]
}

struct Client {
    session: ClientSession,
    live: Vec<LiveQuery>,
    /// Each query's members as its deltas report them.
    tracked: Vec<BTreeSet<CardId>>,
    /// Each query's exits, as its deltas report them.
    exits: Vec<usize>,
}

impl Client {
    /// Hands the session's change batches to the live queries, checking each delta.
    fn catch_up(&mut self) {
        while let Some(batch) = self.session.poll_changes() {
            let queries = self.live.iter_mut().zip(&mut self.tracked);
            for ((live, tracked), exits) in queries.zip(&mut self.exits) {
                let delta = live.update(self.session.local(), &batch);
                *exits += delta.removed.len();
                for card in &delta.added {
                    assert!(tracked.insert(*card), "added twice: {card}");
                }
                for card in &delta.removed {
                    assert!(tracked.remove(card), "removed but absent: {card}");
                }
                for card in &delta.updated {
                    assert!(tracked.contains(card), "updated but absent: {card}");
                }
            }
        }
    }

    fn check(&self, name: &str) {
        let doc = self.session.local();
        for (live, tracked) in self.live.iter().zip(&self.tracked) {
            let expected = scan(doc, live.query());
            assert_eq!(live.ids(), expected, "{name}: {:?}", live.query());
            let members: BTreeSet<CardId> = expected.into_iter().collect();
            assert_eq!(tracked, &members, "{name}: deltas of {:?}", live.query());
        }
    }
}

fn run(steps: Vec<Step>) -> Vec<Client> {
    let schema = Arc::new(schema());
    let mut config = RoomConfig::default();
    // The programs run at one instant: no bucket would refill, so lift both limits.
    let unlimited = RateLimit {
        burst: 1,
        refill_ms: 0,
    };
    config.batch_rate = unlimited;
    config.rejection_rate = unlimited;
    for kind in ["task", "bug"] {
        config.permissions.field_rules.push(FieldRule {
            kind: kind.into(),
            field: "owner".into(),
            roles: vec![Role::Admin],
        });
    }
    let tokens = StaticTokens::default()
        .with("ann", Role::Admin)
        .with("bob", Role::Editor);
    let mut room = Room::new(config, (*schema).clone(), tokens, Vec::<Vec<u8>>::new()).unwrap();
    let now = Instant(0);
    let mut clients: Vec<Client> = ["ann", "bob"]
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let config = SessionConfig {
                token: token.into(),
                ..SessionConfig::default()
            };
            let seed = i as u64 + 1;
            let session = ClientSession::new(
                schema.clone(),
                config,
                Persisted::default(),
                Box::new(SplitMix64::new(seed)),
            )
            .unwrap();
            let live: Vec<LiveQuery> = queries()
                .into_iter()
                .map(|q| session.local().live_query(q).unwrap())
                .collect();
            let tracked = live.iter().map(|l| l.ids().into_iter().collect()).collect();
            Client {
                session,
                exits: vec![0; live.len()],
                live,
                tracked,
            }
        })
        .collect();
    for (i, c) in clients.iter_mut().enumerate() {
        room.handle_connect(now, PeerId(i as u64)).unwrap();
        c.session.handle_connected(now);
    }
    let names = ["ann", "bob"];
    for (at, step) in steps.into_iter().enumerate() {
        let stamp = |r: u8| Stamp::new(at as u64 * 2_000, names[usize::from(r) % 2]);
        let card = |n: u8| CardId::from_u128(1 + u128::from(n) % CARDS);
        let set = |card, field: &str, value: Value| Op::SetField {
            card,
            field: field.into(),
            value,
        };
        let (r, ops) = match step {
            Step::Create {
                r,
                card: n,
                bug,
                status,
                points,
            } => {
                let mut fields = Attributes::default();
                fields.insert(
                    "status".into(),
                    Value::from(STATUSES[usize::from(status) % 3]),
                );
                fields.insert("points".into(), Value::Number(f64::from(points % 5)));
                let kind = if bug { "bug" } else { "task" };
                let create = Op::CreateCard {
                    card: card(n),
                    kind: kind.into(),
                    fields,
                };
                (r, vec![create])
            }
            Step::Status { r, card: n, status } => (
                r,
                vec![set(
                    card(n),
                    "status",
                    STATUSES[usize::from(status) % 3].into(),
                )],
            ),
            Step::Owner { r, card: n, owner } => {
                let owner = OWNERS[usize::from(owner) % 3].map_or(Value::Null, Value::from);
                (r, vec![set(card(n), "owner", owner)])
            }
            Step::Points { r, card: n, points } => (
                r,
                vec![set(card(n), "points", Value::Number(f64::from(points % 5)))],
            ),
            Step::Delete { r, card: n } => (r, vec![Op::DeleteCard { card: card(n) }]),
            Step::Restore { r, card: n } => (r, vec![Op::RestoreCard { card: card(n) }]),
            Step::Undo { r } => {
                let c = &mut clients[usize::from(r) % 2];
                let _ = c.session.undo(now, &stamp(r));
                c.catch_up();
                continue;
            }
            Step::Pump => {
                pump(&mut room, &mut clients, now);
                continue;
            }
        };
        let c = &mut clients[usize::from(r) % 2];
        // A write the local rules refuse (an unknown or deleted card) changes nothing.
        let _ = c.session.apply(now, &stamp(r), &ops);
        c.catch_up();
        c.check(names[usize::from(r) % 2]);
    }
    pump(&mut room, &mut clients, now);
    for (c, name) in clients.iter().zip(names) {
        c.check(name);
    }
    assert_eq!(
        clients[0].session.local().export(),
        clients[1].session.local().export()
    );
    clients
}

/// Delivers every frame and confirms every persist until nothing moves (the drain rule),
/// keeping the live queries current after each input.
fn pump(room: &mut Room<StaticTokens>, clients: &mut [Client], now: Instant) {
    loop {
        let mut moved = false;
        for (i, c) in clients.iter_mut().enumerate() {
            while let Some(action) = c.session.poll_action() {
                moved = true;
                match action {
                    SessionAction::Persist { seq, .. } => c.session.handle_persisted(now, seq),
                    SessionAction::Send(frame) => {
                        room.handle_message(now, PeerId(i as u64), &frame).unwrap()
                    }
                }
            }
            c.catch_up();
        }
        while let Some(action) = room.poll_action() {
            moved = true;
            match action {
                RoomAction::Persist { token, .. } => room.handle_persisted(now, token).unwrap(),
                RoomAction::Send { peer, frame } => {
                    let c = &mut clients[peer.0 as usize];
                    let _ = c.session.handle_frame(now, &frame).unwrap();
                    c.catch_up();
                    c.check(["ann", "bob"][peer.0 as usize]);
                }
                RoomAction::Close { .. }
                | RoomAction::Audit(_)
                | RoomAction::Judged(_)
                | RoomAction::Pause { .. } => {}
            }
        }
        if !moved {
            break;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn live_queries_equal_a_fresh_filter(steps in prop::collection::vec(step(), 1..60)) {
        run(steps);
    }
}

/// The rollback case on its own: Bob's owner write takes the card out of his "unowned" query,
/// and the rejection's rollback brings it back.
#[test]
fn a_rollback_moves_a_card_back_into_the_result() {
    let steps = vec![
        Step::Create {
            r: 0,
            card: 0,
            bug: false,
            status: 0,
            points: 1,
        },
        Step::Pump,
        Step::Owner {
            r: 1,
            card: 0,
            owner: 2,
        },
        Step::Pump,
    ];
    let clients = run(steps);
    let bob = &clients[1];
    assert!(bob.session.status(Instant(0)).last_rejection.is_some());
    let card = CardId::from_u128(1);
    assert!(bob.live[1].contains(card), "back among the unowned");
    assert_eq!(bob.exits[1], 1, "it left once, on Bob's own write");
}
