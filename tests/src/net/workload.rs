//! The workload of the network simulation: a schema with rules the room enforces beyond what a
//! client checks, the roles of the simulated users, random local actions, and the schedule
//! steps (edits, time, connections, partitions, crashes) proptest draws.
//!
//! Some actions pass the client's local validation and are still refused by the room, on
//! purpose: the point of the simulation is the ack/reject/rollback path under failures.
//! - every write of the *viewer* client (the room maps its token to `Viewer`);
//! - `owner`, a field the room reserves to admins ([`room_config`]), set by an editor;
//! - `status` moves the client's (stale) view allows but the room's state does not: from
//!   `todo` a card may go to `doing` or to `dropped`, so when two clients move the same card
//!   concurrently, the second move reaching the room starts from a state it does not allow;
//! - board placements into a column another client removed meanwhile (the room refuses a
//!   placement naming a removed column; the client's view still had it live).
//!
//! Board moves race too: [`Step::Concurrent`] moves one card into a different column on each
//! client, and at the end every replica must show each placed card in exactly one column.
//!
//! Actions pick cards and sequences by position in the client's *current* local view, so
//! random programs stay mostly valid whatever happened before. Card ids are globally unique,
//! and so is the amount of every increment: the invariants follow single operations through
//! batches, compaction, rollback and crashes by these two keys.

use std::collections::BTreeMap;

use cardsync_core::{
    BoardId, BoardKind, CardDoc, CardId, CardKind, ColumnId, FieldDef, FieldKind, FieldValue, Op,
    RelationshipKind, Schema, SequenceId, Value, ValueType,
};
use cardsync_sync::room::{FieldRule, RateLimit, Role, RoomConfig, StaticTokens};
use proptest::prelude::*;

/// The schema every simulated peer uses.
pub fn schema() -> Schema {
    Schema::new(1)
        .card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String))
                .field("owner", FieldDef::register(ValueType::String))
                .field(
                    "status",
                    FieldDef::state_machine([
                        ("todo", "doing"),
                        ("todo", "dropped"),
                        ("doing", "done"),
                        ("done", "todo"),
                        ("dropped", "todo"),
                    ]),
                )
                .field("body", FieldDef::new(FieldKind::Text))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("tags", FieldDef::new(FieldKind::Set)),
        )
        .relationship("blocks", RelationshipKind::default())
        .board("kanban", BoardKind::default())
}

/// The room's policy: only admins set `owner`; and a batch rate low enough that a client
/// resending its outbox after a partition or a restart is rate-limited, so that the
/// simulation exercises the retry path (`RateLimited` is retryable: the batch must survive).
pub fn room_config() -> RoomConfig {
    let mut config = RoomConfig {
        batch_rate: RateLimit {
            burst: 12,
            refill_ms: 100,
        },
        ..RoomConfig::default()
    };
    config.permissions.field_rules.push(FieldRule {
        kind: "task".into(),
        field: "owner".into(),
        roles: vec![Role::Admin],
    });
    config
}

/// Client `i`'s token. Client 2 is the viewer, so every run with three or more clients has one.
pub fn token(i: usize) -> &'static str {
    ["admin", "editor", "viewer", "editor", "admin"][i % 5]
}

/// The room's static token table.
pub fn tokens() -> StaticTokens {
    StaticTokens::default()
        .with("admin", Role::Admin)
        .with("editor", Role::Editor)
        .with("viewer", Role::Viewer)
}

/// A local action; `u8`s pick targets by position in the client's view.
#[derive(Clone, Debug)]
#[allow(missing_docs)] // the variant names say it
pub enum Action {
    /// Create a card, maybe placed in a sequence and voted on in the same batch.
    Create {
        place: Option<u8>,
        vote: bool,
    },
    SetTitle {
        card: u8,
        value: u8,
    },
    /// Admins only (the room refuses editors; the client does not know).
    SetOwner {
        card: u8,
    },
    /// Step the state machine to one of its states (valid in the local view, or refused).
    Status {
        card: u8,
        to: u8,
    },
    Type {
        card: u8,
        at: u16,
    },
    Vote {
        card: u8,
        down: bool,
    },
    Tag {
        card: u8,
        tag: u8,
        add: bool,
    },
    Delete {
        card: u8,
    },
    Restore {
        card: u8,
    },
    Link {
        from: u8,
        to: u8,
    },
    Unlink {
        from: u8,
        to: u8,
    },
    NewSequence,
    Insert {
        seq: u8,
        card: u8,
        at: u8,
    },
    Move {
        seq: u8,
        card: u8,
        at: u8,
    },
    /// Two independent ops in one batch: a title on one card, a vote on another.
    Pair {
        a: u8,
        b: u8,
    },
    /// Create a board with one column.
    NewBoard,
    AddColumn {
        board: u8,
        at: u8,
    },
    MoveColumn {
        board: u8,
        column: u8,
        at: u8,
    },
    RemoveColumn {
        board: u8,
        column: u8,
    },
    /// Place (or move) a card in a column of a board.
    Place {
        board: u8,
        card: u8,
        column: u8,
        at: u8,
    },
    /// Take a card off a board.
    Unplace {
        board: u8,
        card: u8,
    },
}

impl Action {
    /// The action as client `i` takes it in a [`Step::Concurrent`]: a `Status` target shifted
    /// by `2 * i`, so that neighbours race from `todo` to `doing` and to `dropped`; a
    /// placement's column shifted by `i`, so that they move one card into different columns.
    pub fn for_client(&self, i: usize) -> Action {
        match *self {
            Action::Status { card, to } => Action::Status {
                card,
                to: to.wrapping_add(2 * i as u8),
            },
            Action::Place {
                board,
                card,
                column,
                at,
            } => Action::Place {
                board,
                card,
                column: column.wrapping_add(i as u8),
                at,
            },
            ref other => other.clone(),
        }
    }
}

/// A random action.
pub fn action() -> impl Strategy<Value = Action> + Clone {
    let b = any::<u8>;
    prop_oneof![
        4 => (proptest::option::of(b()), any::<bool>()).prop_map(|(place, vote)| Action::Create { place, vote }),
        2 => (b(), b()).prop_map(|(card, value)| Action::SetTitle { card, value }),
        1 => b().prop_map(|card| Action::SetOwner { card }),
        // Mostly the first card, so that clients race on the same state machine.
        6 => (prop_oneof![Just(0u8), b()], 0u8..4).prop_map(|(card, to)| Action::Status { card, to }),
        1 => (b(), any::<u16>()).prop_map(|(card, at)| Action::Type { card, at }),
        3 => (b(), any::<bool>()).prop_map(|(card, down)| Action::Vote { card, down }),
        1 => (b(), 0u8..3, any::<bool>()).prop_map(|(card, tag, add)| Action::Tag { card, tag, add }),
        1 => b().prop_map(|card| Action::Delete { card }),
        1 => b().prop_map(|card| Action::Restore { card }),
        1 => (b(), b()).prop_map(|(from, to)| Action::Link { from, to }),
        1 => (b(), b()).prop_map(|(from, to)| Action::Unlink { from, to }),
        1 => Just(Action::NewSequence),
        1 => (b(), b(), b()).prop_map(|(seq, card, at)| Action::Insert { seq, card, at }),
        2 => (b(), b(), b()).prop_map(|(seq, card, at)| Action::Move { seq, card, at }),
        2 => (b(), b()).prop_map(|(a, b)| Action::Pair { a, b }),
        2 => Just(Action::NewBoard),
        1 => (b(), b()).prop_map(|(board, at)| Action::AddColumn { board, at }),
        1 => (b(), b(), b()).prop_map(|(board, column, at)| Action::MoveColumn { board, column, at }),
        1 => (b(), b()).prop_map(|(board, column)| Action::RemoveColumn { board, column }),
        // Mostly the first board and card, so that moves race.
        4 => (prop_oneof![Just(0u8), b()], prop_oneof![Just(0u8), b()], b(), b())
            .prop_map(|(board, card, column, at)| Action::Place { board, card, column, at }),
        1 => (b(), b()).prop_map(|(board, card)| Action::Unplace { board, card }),
    ]
}

/// One step of a schedule. Client numbers are taken modulo the client count.
#[derive(Clone, Debug)]
pub enum Step {
    /// A client edits locally.
    Local {
        /// Which client.
        client: u8,
        /// What it does.
        action: Action,
    },
    /// Several clients act at the same instant, as users reacting to the same card do (see
    /// [`Action::for_client`]).
    Concurrent {
        /// Bit `i` makes client `i` act.
        clients: u8,
        /// What they do.
        action: Action,
    },
    /// Time passes; everything due happens.
    Advance {
        /// Milliseconds.
        ms: u16,
    },
    /// A disconnected client connects (unless its link is cut).
    Connect {
        /// Which client.
        client: u8,
    },
    /// A client's connection drops; frames in flight vanish.
    Drop {
        /// Which client.
        client: u8,
    },
    /// Cuts the links of the clients in the bit mask (0 heals everything).
    Partition {
        /// Bit `i` cuts client `i`.
        mask: u8,
    },
    /// A client crashes and restarts from its store.
    CrashClient {
        /// Which client.
        client: u8,
        /// Pending writes stored, unconfirmed, before the crash.
        torn: u8,
    },
    /// The server crashes and rebuilds its room from the update log.
    CrashServer {
        /// Pending writes stored, unconfirmed, before the crash.
        torn: u8,
    },
}

/// A random schedule step.
pub fn step() -> impl Strategy<Value = Step> {
    let client = any::<u8>;
    prop_oneof![
        16 => (client(), action()).prop_map(|(client, action)| Step::Local { client, action }),
        2 => (any::<u8>(), action()).prop_map(|(clients, action)| Step::Concurrent { clients, action }),
        5 => (1u16..400).prop_map(|ms| Step::Advance { ms }),
        2 => client().prop_map(|client| Step::Connect { client }),
        1 => client().prop_map(|client| Step::Drop { client }),
        1 => prop_oneof![Just(0u8), any::<u8>()].prop_map(|mask| Step::Partition { mask }),
        1 => (client(), 0u8..4).prop_map(|(client, torn)| Step::CrashClient { client, torn }),
        1 => (0u8..4).prop_map(|torn| Step::CrashServer { torn }),
    ]
}

/// Hands out globally unique card and sequence ids and increment amounts.
#[derive(Debug, Default)]
pub struct Ids {
    next: u128,
    next_vote: i64,
}

impl Ids {
    fn id(&mut self) -> u128 {
        self.next += 1;
        self.next
    }

    /// A vote amount never used before (its absolute value is unique), so an increment can be
    /// followed by its amount alone.
    fn vote(&mut self, down: bool) -> i64 {
        self.next_vote += 1;
        if down {
            -self.next_vote
        } else {
            self.next_vote
        }
    }
}

fn pick<T: Copy>(items: &[T], at: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[at as usize % items.len()])
}

/// The ops of `action` in `doc`'s view, or `None` when it has no target there.
pub fn ops(doc: &CardDoc, action: &Action, ids: &mut Ids) -> Option<Vec<Op>> {
    let export = doc.export();
    let all: Vec<CardId> = export.cards.keys().copied().collect();
    let live: Vec<CardId> = export
        .cards
        .iter()
        .filter(|(_, c)| !c.deleted)
        .map(|(id, _)| *id)
        .collect();
    let seqs: Vec<SequenceId> = export.sequences.keys().copied().collect();
    let boards: Vec<BoardId> = export.boards.keys().copied().collect();
    let columns = |board: BoardId| -> Vec<ColumnId> {
        export.boards[&board].columns.iter().map(|c| c.id).collect()
    };
    let set = |card, field: &str, value: Value| Op::SetField {
        card,
        field: field.into(),
        value,
    };
    let vote = |card, by| Op::Increment {
        card,
        field: "votes".into(),
        by,
    };
    Some(match *action {
        Action::Create { place, vote: v } => {
            let card = CardId::from_u128(ids.id());
            let fields = BTreeMap::from([("status".to_owned(), Value::from("todo"))]);
            let mut ops = vec![Op::CreateCard {
                card,
                kind: "task".into(),
                fields,
            }];
            if let (Some(at), Some(sequence)) = (place, pick(&seqs, place.unwrap_or(0))) {
                let index = u32::from(at);
                ops.push(Op::InsertIntoSequence {
                    sequence,
                    card,
                    index,
                });
            }
            if v {
                ops.push(vote(card, ids.vote(false)));
            }
            ops
        }
        Action::SetTitle { card, value } => {
            vec![set(pick(&live, card)?, "title", format!("t{value}").into())]
        }
        Action::SetOwner { card } => vec![set(pick(&live, card)?, "owner", "me".into())],
        Action::Status { card, to } => {
            let to = ["todo", "doing", "done", "dropped"][to as usize % 4];
            vec![set(pick(&live, card)?, "status", to.into())]
        }
        Action::Type { card, at } => {
            let card = pick(&live, card)?;
            let len = match export.cards[&card].fields.get("body") {
                Some(FieldValue::Text(t)) => t.encode_utf16().count() as u32,
                _ => 0,
            };
            vec![Op::InsertText {
                card,
                field: "body".into(),
                index: u32::from(at) % (len + 1),
                text: "ab".into(),
                attributes: Default::default(),
            }]
        }
        Action::Vote { card, down } => vec![vote(pick(&live, card)?, ids.vote(down))],
        Action::Tag { card, tag, add } => {
            let (card, field, item) = (pick(&live, card)?, "tags".to_owned(), format!("g{tag}"));
            vec![if add {
                Op::AddToSet { card, field, item }
            } else {
                Op::RemoveFromSet { card, field, item }
            }]
        }
        Action::Delete { card } => vec![Op::DeleteCard {
            card: pick(&live, card)?,
        }],
        Action::Restore { card } => vec![Op::RestoreCard {
            card: pick(&all, card)?,
        }],
        Action::Link { from, to } => vec![Op::Link {
            from: pick(&live, from)?,
            kind: "blocks".into(),
            to: pick(&live, to)?,
            properties: Default::default(),
        }],
        Action::Unlink { from, to } => vec![Op::Unlink {
            from: pick(&all, from)?,
            kind: "blocks".into(),
            to: pick(&all, to)?,
        }],
        Action::NewSequence => vec![Op::CreateSequence {
            sequence: SequenceId::from_u128(ids.id()),
        }],
        Action::Insert { seq, card, at } => vec![Op::InsertIntoSequence {
            sequence: pick(&seqs, seq)?,
            card: pick(&live, card)?,
            index: u32::from(at),
        }],
        Action::Move { seq, card, at } => {
            let sequence = pick(&seqs, seq)?;
            vec![Op::MoveInSequence {
                sequence,
                card: pick(&export.sequences[&sequence], card)?,
                index: u32::from(at),
            }]
        }
        Action::Pair { a, b } => {
            let (a, b) = (pick(&live, a)?, pick(&live, b)?);
            if a == b {
                return None;
            }
            vec![set(a, "title", "pair".into()), vote(b, ids.vote(false))]
        }
        Action::NewBoard => {
            let board = BoardId::from_u128(ids.id());
            let (column, name) = (ColumnId::from_u128(ids.id()), "first".into());
            let kind = "kanban".into();
            vec![
                Op::CreateBoard { board, kind },
                Op::AddColumn {
                    board,
                    column,
                    name,
                    index: 0,
                },
            ]
        }
        Action::AddColumn { board, at } => vec![Op::AddColumn {
            board: pick(&boards, board)?,
            column: ColumnId::from_u128(ids.id()),
            name: format!("c{at}"),
            index: u32::from(at % 4),
        }],
        Action::MoveColumn { board, column, at } => {
            let board = pick(&boards, board)?;
            vec![Op::MoveColumn {
                board,
                column: pick(&columns(board), column)?,
                index: u32::from(at % 4),
            }]
        }
        Action::RemoveColumn { board, column } => {
            let board = pick(&boards, board)?;
            vec![Op::RemoveColumn {
                board,
                column: pick(&columns(board), column)?,
            }]
        }
        Action::Place {
            board,
            card,
            column,
            at,
        } => {
            let board = pick(&boards, board)?;
            vec![Op::PlaceCard {
                board,
                card: pick(&live, card)?,
                column: pick(&columns(board), column)?,
                index: u32::from(at % 8),
            }]
        }
        Action::Unplace { board, card } => {
            let board = pick(&boards, board)?;
            let view = &export.boards[&board];
            let placed: Vec<CardId> = (view.columns.iter().flat_map(|c| &c.cards))
                .chain(&view.unplaced)
                .copied()
                .collect();
            vec![Op::UnplaceCard {
                board,
                card: pick(&placed, card)?,
            }]
        }
    })
}
