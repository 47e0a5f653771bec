//! Shared harness for the workspace tests (and, later, the fuzz targets): a seeded
//! multi-replica simulator for the card model.
//!
//! Replicas make local changes, each of which becomes an update "on the wire". Delivery is
//! under the test's control: any update to any replica, in any order, any number of times,
//! except across an active partition. At the end the partition heals, everything is delivered,
//! and [`Sim::check`] asserts convergence and the model's invariants. Operations refer to cards
//! and sequences by position in the replica's *current* view, so random programs stay mostly
//! valid whatever happened before; ops that the replica refuses are simply counted.
#![allow(missing_docs)] // field names of the schedule enums say it all

pub mod fuzz;
pub mod net;

use std::collections::{BTreeMap, HashMap};

use cardsync_core::{
    CardDoc, CardId, CardKind, FieldDef, FieldKind, FieldValue, Op, RelationshipKind, Schema,
    SequenceId, Stamp, Value, ValueType,
};
use proptest::prelude::*;
use yrs::{Any, Map, Out, ReadTxn, Transact};

/// The schema every simulated replica uses: one card kind with a field of every kind.
pub fn schema() -> Schema {
    Schema::new(1)
        .card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String))
                .field(
                    "status",
                    FieldDef::state_machine([
                        ("todo", "doing"),
                        ("doing", "done"),
                        ("done", "todo"),
                    ]),
                )
                .field("body", FieldDef::new(FieldKind::Text))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("progress", FieldDef::new(FieldKind::Max))
                .field("tags", FieldDef::new(FieldKind::Set)),
        )
        .relationship("blocks", RelationshipKind::default())
        .relationship("relates", RelationshipKind::default())
}

/// A realistic board schema for the interop and malformed-input suites: a required title,
/// number and bool registers, a state machine, a field of every other kind, and a second card
/// kind.
pub fn board_schema() -> Schema {
    Schema::new(2)
        .card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String).required())
                .field(
                    "status",
                    FieldDef::state_machine([("todo", "doing"), ("doing", "done")]),
                )
                .field("estimate", FieldDef::register(ValueType::Number))
                .field("flagged", FieldDef::register(ValueType::Bool))
                .field("body", FieldDef::new(FieldKind::Text))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("progress", FieldDef::new(FieldKind::Max))
                .field("tags", FieldDef::new(FieldKind::Set)),
        )
        .card(
            "note",
            CardKind::default().field("text", FieldDef::new(FieldKind::Text)),
        )
        .relationship("blocks", RelationshipKind::default())
        .relationship("relates", RelationshipKind::default())
}

/// A local action, with cards and sequences picked by position in the replica's view.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum Action {
    /// Create a card (and often place it in a sequence in the same transaction).
    Create { place: Option<u8> },
    /// Set the title register.
    SetTitle { card: u8, value: u8 },
    /// Step the status state machine.
    Status { card: u8, to: u8 },
    /// Insert text at a position (clamped).
    Type { card: u8, at: u16, text: u8 },
    /// Delete a text range (clamped).
    Erase { card: u8, at: u16, len: u8 },
    /// Increment the counter.
    Vote { card: u8, by: i8 },
    /// Raise the max field.
    Progress { card: u8, value: u8 },
    /// Add or remove a tag.
    Tag { card: u8, tag: u8, add: bool },
    /// Soft-delete a card.
    Delete { card: u8 },
    /// Restore a deleted card.
    Restore { card: u8 },
    /// Link two cards.
    Link { from: u8, to: u8, kind: bool },
    /// Unlink an edge.
    Unlink { from: u8, to: u8, kind: bool },
    /// Create a sequence.
    NewSequence,
    /// Insert a card into a sequence.
    Insert { seq: u8, card: u8, at: u8 },
    /// Move a card within a sequence.
    Move { seq: u8, card: u8, at: u8 },
    /// Remove a card from a sequence.
    Remove { seq: u8, card: u8 },
    /// Undo the replica's last local transaction.
    Undo,
}

/// One step of a schedule.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum Step {
    /// A replica acts locally.
    Local {
        /// Which replica (mod count).
        replica: u8,
        /// What it does.
        action: Action,
    },
    /// Deliver one update (by index mod the wire length) to a replica, duplicates allowed.
    Deliver {
        /// Receiver.
        to: u8,
        /// Which update.
        update: u16,
    },
    /// Two replicas exchange state-vector diffs.
    Sync {
        /// One side.
        a: u8,
        /// Other side.
        b: u8,
    },
    /// Split replicas into two groups by bit mask (no delivery across), or heal with 0.
    Partition {
        /// Group mask.
        mask: u8,
    },
}

fn action() -> impl Strategy<Value = Action> + Clone {
    let b = any::<u8>;
    prop_oneof![
        3 => proptest::option::of(b()).prop_map(|place| Action::Create { place }),
        2 => (b(), b()).prop_map(|(card, value)| Action::SetTitle { card, value }),
        2 => (b(), 0u8..3).prop_map(|(card, to)| Action::Status { card, to }),
        2 => (b(), any::<u16>(), b()).prop_map(|(card, at, text)| Action::Type { card, at, text }),
        1 => (b(), any::<u16>(), 0u8..6).prop_map(|(card, at, len)| Action::Erase { card, at, len }),
        2 => (b(), any::<i8>()).prop_map(|(card, by)| Action::Vote { card, by }),
        2 => (b(), b()).prop_map(|(card, value)| Action::Progress { card, value }),
        2 => (b(), 0u8..4, any::<bool>()).prop_map(|(card, tag, add)| Action::Tag { card, tag, add }),
        1 => b().prop_map(|card| Action::Delete { card }),
        1 => b().prop_map(|card| Action::Restore { card }),
        2 => (b(), b(), any::<bool>()).prop_map(|(from, to, kind)| Action::Link { from, to, kind }),
        1 => (b(), b(), any::<bool>()).prop_map(|(from, to, kind)| Action::Unlink { from, to, kind }),
        1 => Just(Action::NewSequence),
        2 => (b(), b(), b()).prop_map(|(seq, card, at)| Action::Insert { seq, card, at }),
        3 => (b(), b(), b()).prop_map(|(seq, card, at)| Action::Move { seq, card, at }),
        1 => (b(), b()).prop_map(|(seq, card)| Action::Remove { seq, card }),
    ]
}

/// A random schedule step.
pub fn step() -> impl Strategy<Value = Step> {
    step_with(action())
}

/// A random schedule step that may also undo.
pub fn step_with_undo() -> impl Strategy<Value = Step> {
    step_with(prop_oneof![12 => action(), 1 => Just(Action::Undo)])
}

fn step_with(
    action: impl Strategy<Value = Action> + Clone + 'static,
) -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (any::<u8>(), action).prop_map(|(replica, action)| Step::Local { replica, action }),
        5 => (any::<u8>(), any::<u16>()).prop_map(|(to, update)| Step::Deliver { to, update }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Step::Sync { a, b }),
        1 => prop_oneof![Just(0u8), any::<u8>()].prop_map(|mask| Step::Partition { mask }),
    ]
}

/// The simulated replicas, the wire, and what the invariants expect.
pub struct Sim {
    replicas: Vec<CardDoc>,
    wire: Vec<Vec<u8>>,
    partition: u8,
    next_id: u128,
    clock: u64,
    /// Every applied batch, per replica.
    history: Vec<Vec<Vec<Op>>>,
    /// False once an undo ran: counters and max fields are then checked for convergence only.
    exact_counts: bool,
    /// Local ops the replicas refused (invalid in their view): counted, not errors.
    pub refused: usize,
    /// Local ops applied.
    pub applied: usize,
}

fn pick<T: Copy>(items: &[T], at: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[at as usize % items.len()])
}

impl Sim {
    /// `count` empty replicas with client ids 1..=count.
    pub fn new(count: usize) -> Self {
        let schema = std::sync::Arc::new(schema());
        let replicas = (1..=count as u64)
            .map(|id| CardDoc::with_schema(schema.clone(), id).expect("valid schema"))
            .collect();
        Self {
            replicas,
            wire: Vec::new(),
            partition: 0,
            next_id: 1,
            clock: 0,
            history: vec![Vec::new(); count],
            exact_counts: true,
            refused: 0,
            applied: 0,
        }
    }

    /// The replicas.
    pub fn replicas(&self) -> &[CardDoc] {
        &self.replicas
    }

    fn side(&self, replica: usize) -> bool {
        self.partition & (1 << replica) != 0
    }

    /// Runs one step.
    pub fn run(&mut self, step: &Step) {
        let n = self.replicas.len();
        match step {
            Step::Local { replica, action } => self.local(*replica as usize % n, action),
            Step::Deliver { to, update } => {
                if self.wire.is_empty() {
                    return;
                }
                let to = *to as usize % n;
                let bytes = &self.wire[*update as usize % self.wire.len()];
                // Updates carry no sender here; partitions are modelled by Sync only, and by
                // holding deliveries to a replica cut off from everyone else.
                if self.partition == 0 || self.side(to) == self.side(0) {
                    self.replicas[to]
                        .apply_update_v1(bytes)
                        .expect("wire updates are valid");
                }
            }
            Step::Sync { a, b } => {
                let (a, b) = (*a as usize % n, *b as usize % n);
                if a != b && (self.partition == 0 || self.side(a) == self.side(b)) {
                    self.exchange(a, b);
                }
            }
            Step::Partition { mask } => self.partition = *mask,
        }
    }

    fn exchange(&mut self, a: usize, b: usize) {
        let to_b = self.replicas[a]
            .diff_v1(&self.replicas[b].state_vector())
            .expect("sv");
        let to_a = self.replicas[b]
            .diff_v1(&self.replicas[a].state_vector())
            .expect("sv");
        self.replicas[b]
            .apply_update_v1(&to_b)
            .expect("diff applies");
        self.replicas[a]
            .apply_update_v1(&to_a)
            .expect("diff applies");
    }

    fn local(&mut self, r: usize, action: &Action) {
        self.clock += 1;
        let stamp = Stamp::new(self.clock, format!("user{r}"));
        let doc = &self.replicas[r];
        let all_cards: Vec<CardId> = doc.export().cards.keys().copied().collect();
        let live: Vec<CardId> = doc.cards(None).iter().map(|c| c.id).collect();
        let seqs = doc.sequence_ids();
        let ops: Vec<Op> = match action {
            Action::Create { place } => {
                let card = CardId::from_u128(self.next_id);
                self.next_id += 1;
                let mut ops = vec![Op::CreateCard {
                    card,
                    kind: "task".into(),
                    fields: BTreeMap::from([("body".to_owned(), Value::from("x"))]),
                }];
                if let (Some(at), Some(sequence)) = (place, pick(&seqs, place.unwrap_or(0))) {
                    ops.push(Op::InsertIntoSequence {
                        sequence,
                        card,
                        index: u32::from(*at),
                    });
                }
                ops
            }
            Action::Undo => {
                let before = self.replicas[r].state_vector();
                if self.replicas[r].undo() {
                    // yrs skips stack items whose effects remote changes already removed, so
                    // which ops an undo took back is not modelled: counts are no longer exact.
                    self.exact_counts = false;
                    let update = self.replicas[r].diff_v1(&before).expect("own state vector");
                    self.wire.push(update);
                }
                return;
            }
            Action::NewSequence => {
                let sequence = SequenceId::from_u128(self.next_id);
                self.next_id += 1;
                vec![Op::CreateSequence { sequence }]
            }
            _ => match self.targeted(r, action, &all_cards, &live, &seqs) {
                Some(op) => vec![op],
                None => return,
            },
        };
        let before = self.replicas[r].state_vector();
        // A raise below the current maximum writes nothing, so undoing it restores nothing:
        // keep only raises that took effect in the history the invariants are computed from.
        let max_before = |doc: &CardDoc, card: CardId| match doc
            .card(card)
            .map(|c| c.fields["progress"].clone())
        {
            Some(FieldValue::Max(m)) => m,
            _ => None,
        };
        let ineffective: Vec<bool> = ops
            .iter()
            .map(|op| match op {
                Op::RaiseMax { card, value, .. } => {
                    max_before(&self.replicas[r], *card).is_some_and(|m| *value <= m)
                }
                _ => false,
            })
            .collect();
        match self.replicas[r].apply(&stamp, &ops) {
            Ok(()) => {
                self.applied += 1;
                let effective = ops
                    .into_iter()
                    .zip(ineffective)
                    .filter(|(_, no)| !no)
                    .map(|(op, _)| op)
                    .collect();
                self.history[r].push(effective);
            }
            Err(_) => self.refused += 1,
        }
        // Every local transaction goes on the wire as the diff it produced.
        let update = self.replicas[r].diff_v1(&before).expect("own state vector");
        self.wire.push(update);
    }

    fn targeted(
        &self,
        r: usize,
        action: &Action,
        all: &[CardId],
        live: &[CardId],
        seqs: &[SequenceId],
    ) -> Option<Op> {
        let doc = &self.replicas[r];
        let text_len =
            |card: CardId| match doc.card(card).and_then(|c| c.fields.get("body").cloned()) {
                Some(FieldValue::Text(t)) => t.encode_utf16().count() as u32,
                _ => 0,
            };
        Some(match *action {
            Action::SetTitle { card, value } => Op::SetField {
                card: pick(live, card)?,
                field: "title".into(),
                value: Value::from(format!("t{}", value % 5)),
            },
            Action::Status { card, to } => Op::SetField {
                card: pick(live, card)?,
                field: "status".into(),
                value: Value::from(["todo", "doing", "done"][to as usize % 3]),
            },
            Action::Type { card, at, text } => {
                let card = pick(live, card)?;
                let index = u32::from(at) % (text_len(card) + 1);
                let text = ["a", "bc", "é", "🙂", "xyz"][text as usize % 5].to_owned();
                Op::InsertText {
                    card,
                    field: "body".into(),
                    index,
                    text,
                    attributes: Default::default(),
                }
            }
            Action::Erase { card, at, len } => {
                let card = pick(live, card)?;
                let total = text_len(card);
                let index = u32::from(at) % (total + 1);
                let len = u32::from(len).min(total - index);
                Op::DeleteText {
                    card,
                    field: "body".into(),
                    index,
                    len,
                }
            }
            Action::Vote { card, by } => Op::Increment {
                card: pick(live, card)?,
                field: "votes".into(),
                by: i64::from(by),
            },
            Action::Progress { card, value } => Op::RaiseMax {
                card: pick(live, card)?,
                field: "progress".into(),
                value: f64::from(value),
            },
            Action::Tag { card, tag, add } => {
                let (card, field, item) =
                    (pick(live, card)?, "tags".to_owned(), format!("tag{tag}"));
                if add {
                    Op::AddToSet { card, field, item }
                } else {
                    Op::RemoveFromSet { card, field, item }
                }
            }
            Action::Delete { card } => Op::DeleteCard {
                card: pick(live, card)?,
            },
            Action::Restore { card } => Op::RestoreCard {
                card: pick(all, card)?,
            },
            Action::Link { from, to, kind } => Op::Link {
                from: pick(live, from)?,
                kind: if kind { "blocks" } else { "relates" }.into(),
                to: pick(live, to)?,
                properties: BTreeMap::from([("w".to_owned(), Value::from(i32::from(from)))]),
            },
            Action::Unlink { from, to, kind } => Op::Unlink {
                from: pick(all, from)?,
                kind: if kind { "blocks" } else { "relates" }.into(),
                to: pick(all, to)?,
            },
            Action::Insert { seq, card, at } => Op::InsertIntoSequence {
                sequence: pick(seqs, seq)?,
                card: pick(live, card)?,
                index: u32::from(at),
            },
            Action::Move { seq, card, at } => {
                let sequence = pick(seqs, seq)?;
                let members = doc.sequence(sequence)?;
                Op::MoveInSequence {
                    sequence,
                    card: pick(&members, card)?,
                    index: u32::from(at),
                }
            }
            Action::Remove { seq, card } => {
                let sequence = pick(seqs, seq)?;
                Op::RemoveFromSequence {
                    sequence,
                    card: pick(&doc.sequence(sequence)?, card)?,
                }
            }
            Action::Create { .. } | Action::NewSequence | Action::Undo => return None,
        })
    }

    /// Heals partitions and delivers everything everywhere (in a scrambled order, with
    /// duplicates), then full state-vector syncs.
    pub fn heal(&mut self) {
        self.partition = 0;
        let n = self.replicas.len();
        let m = self.wire.len();
        for i in 0..m {
            let idx = (i * 7919 + 13) % m; // a fixed permutation-ish order with repeats
            for r in 0..n {
                self.replicas[r]
                    .apply_update_v1(&self.wire[idx].clone())
                    .expect("valid");
            }
        }
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    self.exchange(a, b);
                }
            }
        }
    }

    /// Asserts convergence and the invariants; returns a description of the first violation.
    pub fn check(&self) -> Result<(), String> {
        let first = self.replicas[0].export();
        for (i, doc) in self.replicas.iter().enumerate().skip(1) {
            let export = doc.export();
            if export != first {
                return Err(format!(
                    "replica {i} diverged:\n{export:#?}\nvs replica 0:\n{first:#?}"
                ));
            }
            if doc.integrity_report() != self.replicas[0].integrity_report() {
                return Err(format!("integrity reports differ on replica {i}"));
            }
        }
        // What counters and max fields must show: every increment and raise not undone.
        let mut votes: HashMap<CardId, i64> = HashMap::new();
        let mut progress: HashMap<CardId, f64> = HashMap::new();
        for ops in self.history.iter().flatten() {
            for op in ops {
                match op {
                    Op::Increment { card, by, .. } => *votes.entry(*card).or_default() += by,
                    Op::RaiseMax { card, value, .. } => {
                        let max = progress.entry(*card).or_insert(f64::MIN);
                        *max = max.max(*value);
                    }
                    _ => {}
                }
            }
        }
        for doc in &self.replicas {
            check_sequences(doc)?;
            check_fresh_load(doc)?;
            let export = doc.export();
            for rel in &export.relationships {
                for end in [rel.from, rel.to] {
                    if export.cards.get(&end).is_none_or(|c| c.deleted) {
                        return Err(format!("visible dangling edge {rel:?}"));
                    }
                }
                if !doc.outgoing(rel.from).contains(rel) || !doc.incoming(rel.to).contains(rel) {
                    return Err(format!("adjacency index misses {rel:?}"));
                }
            }
            for (id, card) in export.cards.iter().filter(|_| self.exact_counts) {
                let votes = votes.get(id).copied().unwrap_or(0);
                if card.fields.get("votes") != Some(&FieldValue::Counter(votes)) {
                    return Err(format!(
                        "card {id}: votes {:?}, expected {votes}",
                        card.fields.get("votes")
                    ));
                }
                let progress = progress.get(id).copied();
                if card.fields.get("progress") != Some(&FieldValue::Max(progress)) {
                    return Err(format!(
                        "card {id}: progress {:?}, expected {progress:?}",
                        card.fields.get("progress")
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Recomputes each sequence's order straight from the yrs map (flat keys
/// `{sequence}:{card}` → order key) and compares it with the incrementally maintained index:
/// each visible card exactly once, in (key, id) order.
fn check_sequences(doc: &CardDoc) -> Result<(), String> {
    let txn = doc.yrs_doc().transact();
    let Some(sequences) = txn.get_map("sequences") else {
        return Ok(());
    };
    let mut raw: BTreeMap<SequenceId, Vec<(String, CardId)>> = BTreeMap::new();
    for (key, value) in sequences.iter(&txn) {
        let (Some((sequence, card)), Out::Any(Any::String(order))) = (key.split_once(':'), value)
        else {
            continue;
        };
        let (Ok(sequence), Ok(card)) = (sequence.parse::<SequenceId>(), card.parse::<CardId>())
        else {
            return Err(format!("malformed sequence key {key}"));
        };
        if doc.card(card).is_some_and(|c| !c.deleted) {
            raw.entry(sequence)
                .or_default()
                .push((order.to_string(), card));
        }
    }
    for sequence in doc.sequence_ids() {
        let mut expected = raw.remove(&sequence).unwrap_or_default();
        expected.sort();
        let expected: Vec<CardId> = expected.into_iter().map(|(_, c)| c).collect();
        let got = doc.sequence(sequence).unwrap_or_default();
        if got != expected {
            return Err(format!(
                "sequence {sequence}: index {got:?} != map {expected:?}"
            ));
        }
    }
    if let Some((sequence, _)) = raw.into_iter().find(|(_, v)| !v.is_empty()) {
        return Err(format!(
            "sequence {sequence} has visible entries but is not listed"
        ));
    }
    Ok(())
}

/// A replica's derived state (indexes kept by observers) must equal what a fresh load of its
/// own snapshot derives.
fn check_fresh_load(doc: &CardDoc) -> Result<(), String> {
    let fresh = CardDoc::load_v1(doc.schema().clone(), 999_999, &doc.snapshot_v1())
        .map_err(|e| format!("snapshot does not load: {e}"))?;
    if fresh.export() != doc.export() {
        return Err(format!(
            "fresh load differs:\n{:#?}\nvs\n{:#?}",
            fresh.export(),
            doc.export()
        ));
    }
    if fresh.integrity_report() != doc.integrity_report() {
        return Err("fresh load has another integrity report".into());
    }
    for card in doc.export().cards.keys() {
        if fresh.outgoing(*card) != doc.outgoing(*card)
            || fresh.incoming(*card) != doc.incoming(*card)
        {
            return Err(format!("adjacency of {card} differs from a fresh load"));
        }
    }
    Ok(())
}

/// Proptest case count: 256 by default, 10,000 with `CARDSYNC_SLOW=1` (`cargo xtask test --slow`).
pub fn cases() -> u32 {
    match std::env::var("CARDSYNC_SLOW") {
        Ok(v) if !v.is_empty() && v != "0" => 10_000,
        _ => 256,
    }
}
