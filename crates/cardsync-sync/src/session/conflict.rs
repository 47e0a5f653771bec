//! Field conflicts: a remote write overwrote a register that a pending local batch also wrote.
//!
//! Last writer wins merges these without help, but silently; the seeds' apps showed users an
//! audit trail instead. Before a remote update is applied, the session notes the register
//! values its pending batches wrote; afterwards it compares what the *confirmed* doc now holds
//! (the remote side's value) with the local value, and reports each clash with its winner.

use std::collections::{BTreeMap, VecDeque};

use cardsync_core::{CardDoc, CardId, FieldValue, Op, Value};
use serde::{Deserialize, Serialize};

use crate::outbox::Outbox;

/// Two writers set the same field concurrently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// The card.
    pub card: CardId,
    /// The register field.
    pub field: String,
    /// What our pending batch wrote.
    pub local: Value,
    /// What the remote writer wrote.
    pub remote: Value,
    /// What the document holds now (one of the two).
    pub winner: Value,
}

/// Register writes of pending batches, last one per field.
pub(crate) fn pending_writes(outbox: &Outbox) -> BTreeMap<(CardId, String), Value> {
    let mut writes = BTreeMap::new();
    for op in outbox.batches().flat_map(|b| &b.ops) {
        if let Op::SetField { card, field, value } = op {
            writes.insert((*card, field.clone()), value.clone());
        }
    }
    writes
}

pub(crate) fn register(doc: &CardDoc, card: CardId, field: &str) -> Option<Value> {
    match doc.card(card)?.fields.get(field)? {
        FieldValue::Register(v) => Some(v.clone()),
        _ => None,
    }
}

/// The confirmed values of the pending fields, before a remote update.
pub(crate) fn snapshot(
    confirmed: &CardDoc,
    writes: &BTreeMap<(CardId, String), Value>,
) -> Vec<Option<Value>> {
    writes
        .keys()
        .map(|(card, field)| register(confirmed, *card, field))
        .collect()
}

/// Conflicts the remote update caused: fields whose confirmed value it changed to something
/// other than our pending write.
pub(crate) fn detect(
    confirmed: &CardDoc,
    local: &CardDoc,
    writes: &BTreeMap<(CardId, String), Value>,
    before: &[Option<Value>],
) -> Vec<Conflict> {
    writes
        .iter()
        .zip(before)
        .filter_map(|(((card, field), ours), before)| {
            let remote = register(confirmed, *card, field).unwrap_or_default();
            let changed = before.as_ref().unwrap_or(&Value::Null) != &remote;
            (changed && remote != *ours).then(|| Conflict {
                card: *card,
                field: field.clone(),
                local: ours.clone(),
                remote,
                winner: register(local, *card, field).unwrap_or_default(),
            })
        })
        .collect()
}

/// A bounded log of the most recent conflicts.
#[derive(Clone, Debug, Default)]
pub struct ConflictLog {
    entries: VecDeque<Conflict>,
    capacity: usize,
}

impl ConflictLog {
    /// A log keeping the last `capacity` conflicts.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn record(&mut self, conflict: Conflict) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(conflict);
    }

    /// The logged conflicts, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &Conflict> {
        self.entries.iter()
    }
}
