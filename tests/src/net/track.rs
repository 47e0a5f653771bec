//! What the invariants remember: the fate of every tracked operation, followed through
//! batches, compaction, rollback and crashes.
//!
//! Batch ids do not survive: compaction merges batches under the first one's id, a rollback
//! re-encodes the survivors under a fresh client id. Two kinds of operation are unique by
//! construction, though (see `workload.rs`): card creations (by card id) and increments (by
//! amount). Each is followed from the local write to one final fate:
//! - `Acked`: a batch holding it was acked; its effect must be on the server for good;
//! - `Vanished`: a `Rejected` event listed it; it must exist nowhere at the end;
//! - `Lost`: its client crashed before the batch was stored; legitimate, since it was never
//!   sent (only durable batches are), and it too must exist nowhere at the end.
//!
//! Every move between fates is checked as it happens: nothing acked may vanish, nothing
//! vanished or lost may be acked later (a resurrected rejection), nothing durable may be lost
//! by a restart.
//!
//! A session reports a rollback once it is durable, so other edits may reach the session
//! between the rollback and its `Rejected` event. Whether a replayed batch had lost its
//! targets is therefore judged as the batch leaves the outbox (in the drain of the rollback),
//! not when the event arrives.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use cardsync_core::layout::{self, BoardKey};
use cardsync_core::{BoardId, CardDoc, CardId, FieldValue, Op};
use cardsync_sync::SyncEvent;
use cardsync_sync::outbox::{PersistOp, Persisted};
use cardsync_sync::protocol::BatchId;
use cardsync_sync::room::PeerCloseReason;
use cardsync_sync::session::ClientSession;
use yrs::{Map, ReadTxn, Transact};

/// Where a tracked operation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Applied locally; its batch is not stored yet.
    Local,
    /// Its batch is in the client's store.
    Durable,
    /// Acked by the server.
    Acked,
    /// Reported gone by a rollback.
    Vanished,
    /// Its client crashed before storing it.
    Lost,
}

/// A tracked operation: a card creation or an increment (by its unique amount).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// `CreateCard`.
    Card(CardId),
    /// `Increment` by this amount.
    Vote(i64),
}

#[derive(Debug)]
struct Tracked {
    owner: usize,
    card: CardId,
    fate: Fate,
}

fn keys(ops: &[Op]) -> impl Iterator<Item = (Key, CardId)> + '_ {
    ops.iter().filter_map(|op| match op {
        Op::CreateCard { card, .. } => Some((Key::Card(*card), *card)),
        Op::Increment { card, by, .. } => Some((Key::Vote(*by), *card)),
        _ => None,
    })
}

/// Counters that show a schedule exercised something.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Local writes that became batches.
    pub batches: usize,
    /// Local writes the client itself refused.
    pub refused: usize,
    /// Connections the room closed, by reason.
    pub closes: Vec<PeerCloseReason>,
    /// Client and server crashes.
    pub crashes: usize,
    /// Batches that place a card on a board.
    pub placements: usize,
    /// Rate-limit backoffs that ran out (a session resent what the room had refused).
    pub retries: usize,
    /// Rooms rebuilt because another node's append moved the head under theirs.
    pub rebuilds: usize,
    /// Nodes whose lease ended (a pause past it): they gave their room up.
    pub fenced: usize,
    /// Log entries of other nodes handed to a room.
    pub caught_up: usize,
    /// Clients that moved to another node.
    pub switches: usize,
    /// Node pauses.
    pub pauses: usize,
}

/// The invariants' memory; see the module docs.
#[derive(Debug, Default)]
pub struct Tracker {
    ops: BTreeMap<Key, Tracked>,
    /// Every batch seen in an outbox, by id, as last seen (compaction rewrites the first
    /// batch of a run under its own id).
    batches: HashMap<BatchId, (Vec<Op>, Range<u32>)>,
    /// Acked batches and their clocks: the server must hold them after any crash.
    acked: Vec<(BatchId, Range<u32>)>,
    /// Per client, the batches its outbox held at the last drain.
    pending: HashMap<usize, HashSet<BatchId>>,
    /// Batches that left an outbox while something they write to was missing or deleted
    /// (in the local or the confirmed doc): a rollback's replay of them fails.
    gone_when_removed: HashSet<BatchId>,
    /// Invariant violations, in the order found.
    pub violations: Vec<String>,
    /// Rejections seen by clients, by code.
    pub rejections: BTreeMap<&'static str, usize>,
    /// Board placements (`PlaceCard`) that rollbacks of schema violations took back (a
    /// placement into a column removed meanwhile), not counting a viewer's.
    pub placements_vanished: usize,
}

impl Tracker {
    /// Client `owner` applied `ops` locally.
    pub fn applied(&mut self, owner: usize, ops: &[Op]) {
        for (key, card) in keys(ops) {
            let fate = Fate::Local;
            self.ops.insert(key, Tracked { owner, card, fate });
        }
    }

    /// The driver stored `op` in a client's store.
    pub fn stored(&mut self, op: &PersistOp) {
        let batches = match op {
            PersistOp::PutBatch(b) | PersistOp::ReplaceLast(b) => std::slice::from_ref(b),
            PersistOp::ReplaceAll(bs) => bs.as_slice(),
            _ => &[],
        };
        for (key, _) in batches.iter().flat_map(|b| keys(&b.ops)) {
            if let Some(t) = self.ops.get_mut(&key).filter(|t| t.fate == Fate::Local) {
                t.fate = Fate::Durable;
            }
        }
    }

    /// Remembers the batches client `client`'s session holds now (call after every drain).
    pub fn refresh(&mut self, client: usize, session: &ClientSession) {
        let now: HashSet<BatchId> = session.pending().map(|b| b.id).collect();
        let before = self.pending.insert(client, now.clone()).unwrap_or_default();
        for id in before.difference(&now) {
            let Some((ops, _)) = self.batches.get(id) else {
                continue;
            };
            if targets_gone(ops, session.local()) || targets_gone(ops, session.confirmed()) {
                self.gone_when_removed.insert(*id);
            }
        }
        for b in session.pending() {
            self.batches.insert(b.id, (b.ops.clone(), b.clock.clone()));
        }
    }

    fn violation(&mut self, what: String) {
        self.violations.push(what);
    }

    /// An event of client `client`'s session.
    pub fn event(&mut self, client: usize, session: &ClientSession, event: &SyncEvent) {
        match event {
            SyncEvent::Acked(ids) => {
                for id in ids {
                    let Some((ops, clock)) = self.batches.get(id).cloned() else {
                        self.violation(format!("client {client}: ack of unknown batch {id:?}"));
                        continue;
                    };
                    self.acked.push((*id, clock));
                    for (key, _) in keys(&ops) {
                        let Some(t) = self.ops.get_mut(&key) else {
                            continue;
                        };
                        if matches!(t.fate, Fate::Vanished | Fate::Lost) {
                            let fate = t.fate;
                            self.violation(format!(
                                "client {client}: {key:?} was {fate:?}, then acked in {id:?}"
                            ));
                            continue;
                        }
                        t.fate = Fate::Acked;
                    }
                }
            }
            SyncEvent::Rejected {
                rejection,
                vanished,
            } => {
                *self.rejections.entry(rejection.code.as_str()).or_default() += 1;
                if rejection.code.as_str() == "schema_violation" {
                    self.placements_vanished += (vanished.iter())
                        .filter(|op| matches!(op, Op::PlaceCard { .. }))
                        .count();
                }
                let own = self
                    .batches
                    .get(&rejection.batch)
                    .map(|(ops, _)| keys(ops).map(|(k, _)| k).collect::<Vec<_>>())
                    .unwrap_or_default();
                for (key, _) in keys(vanished) {
                    // A batch replays as a whole, and only fails when something it targets is
                    // gone: with the rejected batch, or deleted remotely (the confirmed doc)
                    // or by an earlier replay (the local doc).
                    let survivor = !own.contains(&key)
                        && !self.batches.iter().any(|(id, (ops, _))| {
                            keys(ops).any(|(k, _)| k == key)
                                && (self.gone_when_removed.contains(id)
                                    || targets_gone(ops, session.local())
                                    || targets_gone(ops, session.confirmed()))
                        });
                    if survivor {
                        self.violation(format!(
                            "client {client}: {key:?} from a batch other than rejected {:?} vanished",
                            rejection.batch
                        ));
                    }
                    let Some(t) = self.ops.get_mut(&key) else {
                        continue;
                    };
                    if t.fate == Fate::Acked {
                        self.violation(format!(
                            "client {client}: acked {key:?} reported vanished by the rejection of {:?}",
                            rejection.batch
                        ));
                        continue;
                    }
                    t.fate = Fate::Vanished;
                }
            }
            _ => {}
        }
    }

    /// Client `client` restarted from `persisted`: what was never stored is lost, and
    /// nothing stored and unsettled may be missing.
    pub fn restarted(&mut self, client: usize, persisted: &Persisted) {
        let kept: Vec<Key> = persisted
            .outbox
            .iter()
            .flat_map(|b| keys(&b.ops).map(|(k, _)| k))
            .collect();
        let mut missing = Vec::new();
        for (key, t) in self.ops.iter_mut().filter(|(_, t)| t.owner == client) {
            match t.fate {
                Fate::Local => t.fate = Fate::Lost,
                Fate::Durable if !kept.contains(key) => missing.push(*key),
                _ => {}
            }
        }
        for key in missing {
            self.violation(format!("client {client}: stored {key:?} lost by a restart"));
        }
    }

    /// How many batch acks clients saw.
    pub fn acks(&self) -> usize {
        self.acked.len()
    }

    /// Every acked batch's clocks must be in `doc` (the server, e.g. right after a crash).
    pub fn check_acked_held(&mut self, doc: &CardDoc, when: &str) {
        let sv = state_vector(doc);
        let lost: Vec<String> = self
            .acked
            .iter()
            .filter(|(id, clock)| !clock.is_empty() && held(&sv, id.client) < clock.end)
            .map(|(id, clock)| format!("{when}: acked batch {id:?} (clocks {clock:?}) is missing"))
            .collect();
        self.violations.extend(lost);
    }

    /// The end-of-run checks against the server's final document.
    pub fn check_final(&mut self, server: &CardDoc, clients: &[&CardDoc]) {
        self.check_acked_held(server, "at the end");
        let export = server.export();
        let mut votes: BTreeMap<CardId, i64> = BTreeMap::new();
        let mut found = Vec::new();
        for (key, t) in &self.ops {
            let exists = export.cards.contains_key(&t.card);
            match (key, t.fate) {
                (_, Fate::Local | Fate::Durable) => {
                    found.push(format!("{key:?} of client {} never settled", t.owner))
                }
                (Key::Card(card), Fate::Acked) if !exists => {
                    found.push(format!("acked card {card} is not on the server"))
                }
                (Key::Card(card), Fate::Vanished | Fate::Lost) => {
                    let somewhere = exists || clients.iter().any(|c| c.card(*card).is_some());
                    if somewhere {
                        found.push(format!("{:?} card {card} exists at the end", t.fate));
                    }
                }
                (Key::Vote(by), Fate::Acked) => *votes.entry(t.card).or_default() += by,
                _ => {}
            }
        }
        for (id, card) in &export.cards {
            let want = votes.remove(id).unwrap_or(0);
            if card.fields.get("votes") != Some(&FieldValue::Counter(want)) {
                found.push(format!(
                    "card {id}: votes {:?}, acked increments sum to {want}",
                    card.fields.get("votes")
                ));
            }
        }
        for (card, sum) in votes {
            found.push(format!(
                "acked increments ({sum}) on card {card}, absent on the server"
            ));
        }
        for (i, doc) in std::iter::once(server)
            .chain(clients.iter().copied())
            .enumerate()
        {
            if let Err(e) = check_boards(doc) {
                found.push(format!("replica {i} (0: the server): {e}"));
            }
        }
        self.violations.extend(found);
    }
}

/// The board invariant, read as `tests/board_convergence.rs` reads it: on every board, no
/// card shows twice, and the cards shown (in a column, or `unplaced` on a board without a live
/// column) are exactly the visible cards with a stored placement.
pub fn check_boards(doc: &CardDoc) -> Result<(), String> {
    let mut placed: BTreeMap<BoardId, BTreeSet<CardId>> = BTreeMap::new();
    {
        let txn = doc.yrs_doc().transact();
        if let Some(root) = txn.get_map(layout::BOARDS) {
            for (key, value) in root.iter(&txn) {
                if let Some(BoardKey::Placement(board, card)) = layout::parse_board_key(key)
                    && layout::placement_value(&value).is_some()
                    && doc.is_visible(card)
                {
                    placed.entry(board).or_default().insert(card);
                }
            }
        }
    }
    for (id, view) in &doc.export().boards {
        let mut shown: BTreeSet<CardId> = BTreeSet::new();
        let cards = view.columns.iter().flat_map(|c| &c.cards);
        for card in cards.chain(&view.unplaced) {
            if !shown.insert(*card) {
                return Err(format!("card {card} shows more than once on board {id}"));
            }
        }
        let stored = placed.remove(id).unwrap_or_default();
        if shown != stored {
            return Err(format!("board {id}: placed {stored:?} but shows {shown:?}"));
        }
    }
    match placed.into_iter().next() {
        Some((board, cards)) => Err(format!("cards {cards:?} placed on missing board {board}")),
        None => Ok(()),
    }
}

/// Whether a card or sequence that `ops` write to (and do not create) is missing or deleted.
fn targets_gone(ops: &[Op], doc: &CardDoc) -> bool {
    let created: Vec<CardId> = keys(ops)
        .filter_map(|(k, c)| matches!(k, Key::Card(_)).then_some(c))
        .collect();
    let card = |c: &CardId| !created.contains(c) && !doc.is_visible(*c);
    let sequences = doc.sequence_ids();
    ops.iter().any(|op| match op {
        Op::CreateCard { .. } | Op::CreateSequence { .. } => false,
        Op::SetField { card: c, .. }
        | Op::InsertText { card: c, .. }
        | Op::DeleteText { card: c, .. }
        | Op::FormatText { card: c, .. }
        | Op::Increment { card: c, .. }
        | Op::RaiseMax { card: c, .. }
        | Op::AddToSet { card: c, .. }
        | Op::RemoveFromSet { card: c, .. }
        | Op::DeleteCard { card: c }
        | Op::RestoreCard { card: c } => card(c),
        Op::Link { from, to, .. } | Op::Unlink { from, to, .. } => card(from) || card(to),
        Op::InsertIntoSequence {
            sequence, card: c, ..
        }
        | Op::MoveInSequence {
            sequence, card: c, ..
        }
        | Op::RemoveFromSequence { sequence, card: c } => !sequences.contains(sequence) || card(c),
        Op::CreateBoard { .. } => false,
        Op::AddColumn { board, .. }
        | Op::RenameColumn { board, .. }
        | Op::MoveColumn { board, .. }
        | Op::RemoveColumn { board, .. } => doc.board(*board).is_none(),
        Op::PlaceCard { board, card: c, .. } | Op::UnplaceCard { board, card: c } => {
            doc.board(*board).is_none() || card(c)
        }
    })
}

fn state_vector(doc: &CardDoc) -> yrs::StateVector {
    use yrs::updates::decoder::Decode;
    yrs::StateVector::decode_v1(&doc.state_vector()).expect("a doc's own state vector decodes")
}

fn held(sv: &yrs::StateVector, client: u64) -> u32 {
    sv.get(&yrs::block::ClientID::new(client))
}
