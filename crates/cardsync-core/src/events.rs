//! Typed change events, one batch per transaction.
//!
//! yrs reports low-level map and text deltas; UIs want "card X's field Y changed". Deep
//! observers on the three roots translate the former into [`ChangeEvent`]s and also keep the
//! derived indexes ([`Tracker`]) in step: which cards exist and are deleted, which
//! relationships touch a card, and each sequence's order. Doing both in one place means remote
//! updates, local writes, undo and rollback all update reads the same way.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yrs::types::{Delta, EntryChange, Event, Events, PathSegment};
use yrs::{Any, Map, Out, TransactionMut};

use crate::board::Boards;
use crate::ids::{BoardId, CardId, RelationshipKey, SequenceId};
use crate::layout::{self, SequenceKey, edge_removed};
use crate::order_index::OrderIndex;
use crate::text_bounds::has_astral;

/// Where a transaction came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A local user action.
    Local,
    /// An update from another peer or the server.
    Remote,
    /// The sync layer rebuilding after a rejection (what vanished, what was replayed).
    Rollback,
    /// Undo or redo of local actions.
    Undo,
}

impl Origin {
    /// The yrs transaction origin carrying this tag.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Origin::Local => "cardsync.local",
            Origin::Remote => "cardsync.remote",
            Origin::Rollback => "cardsync.rollback",
            Origin::Undo => "cardsync.undo",
        }
    }
}

/// What changed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChangeEvent {
    /// A card appeared.
    CardCreated {
        /// Card.
        card: CardId,
        /// Its kind.
        kind: String,
    },
    /// A field's value changed.
    FieldChanged {
        /// Card.
        card: CardId,
        /// Field.
        field: String,
    },
    /// A card was soft-deleted (or its creation undone).
    CardDeleted {
        /// Card.
        card: CardId,
    },
    /// A card was restored.
    CardRestored {
        /// Card.
        card: CardId,
    },
    /// A relationship was created or revived.
    RelationshipAdded {
        /// Which one.
        key: RelationshipKey,
    },
    /// A relationship was removed.
    RelationshipRemoved {
        /// Which one.
        key: RelationshipKey,
    },
    /// A relationship's properties changed.
    RelationshipChanged {
        /// Which one.
        key: RelationshipKey,
    },
    /// A sequence was created or its order changed.
    SequenceChanged {
        /// Which one.
        sequence: SequenceId,
    },
    /// A board was created, or its columns or placements changed.
    BoardChanged {
        /// Which one.
        board: BoardId,
    },
}

/// The events of one transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeBatch {
    /// Where the transaction came from.
    pub origin: Origin,
    /// What changed, without duplicates, in the order first seen.
    pub events: Vec<ChangeEvent>,
}

/// Derived state kept in step with the document, plus the events of the open transaction.
#[derive(Default)]
pub(crate) struct Tracker {
    events: Vec<ChangeEvent>,
    seen: HashSet<ChangeEvent>,
    /// Every card present, with its deleted flag.
    pub cards: HashMap<CardId, bool>,
    /// Relationship keys touching each card, at either end.
    pub adjacency: HashMap<CardId, HashSet<RelationshipKey>>,
    /// Property names of each relationship.
    pub props: HashMap<RelationshipKey, BTreeSet<String>>,
    /// The order of each sequence (created, or holding entries that arrived first).
    pub sequences: HashMap<SequenceId, OrderIndex>,
    /// Sequences that have their creation marker.
    pub created_sequences: HashSet<SequenceId>,
    /// The sequences each card has an entry in, so a card's deletion touches only those.
    memberships: HashMap<CardId, Vec<SequenceId>>,
    /// Every board's columns and placements.
    pub boards: Boards,
    /// Text fields that may contain characters outside the BMP (see `validate`).
    pub astral: HashMap<(CardId, String), bool>,
    /// A transaction of validated ops is being written: its text inserts were already
    /// accounted for in `astral` by the validation, so the events need not read them back.
    /// (Reading a text event's delta walks the whole text: O(length) per keystroke.)
    pub writing_ops: bool,
    /// Whether events are gathered at all: only while the document buffers change batches
    /// (`CardDoc::buffer_changes`). Nobody reads them otherwise, and gathering them (a
    /// clone, a hash and a push per event) was 4–11% of a JS write (issue 21's profile).
    pub collect: bool,
}

impl Tracker {
    pub(crate) fn push(&mut self, event: ChangeEvent) {
        if self.collect && self.seen.insert(event.clone()) {
            self.events.push(event);
        }
    }

    /// Takes the events gathered so far.
    pub fn take_events(&mut self) -> Vec<ChangeEvent> {
        self.seen.clear();
        std::mem::take(&mut self.events)
    }

    /// Whether a card exists and is not deleted.
    pub fn is_visible(&self, card: CardId) -> bool {
        self.cards.get(&card) == Some(&false)
    }

    /// Records a card's presence and deleted flag (`None`: gone) and re-derives what hangs on it.
    pub fn set_card(&mut self, card: CardId, deleted: Option<bool>) {
        match deleted {
            Some(d) => self.cards.insert(card, d),
            None => self.cards.remove(&card),
        };
        let hidden = !self.is_visible(card);
        for sequence in self.memberships.get(&card).into_iter().flatten() {
            if let Some(index) = self.sequences.get_mut(sequence) {
                index.set_hidden(card, hidden);
            }
        }
        self.boards.set_hidden(card, hidden);
    }

    /// Records a relationship key.
    pub fn add_edge(&mut self, key: &RelationshipKey) {
        for end in [key.from, key.to] {
            self.adjacency.entry(end).or_default().insert(key.clone());
        }
    }

    fn remove_edge(&mut self, key: &RelationshipKey) {
        for end in [key.from, key.to] {
            if let Some(set) = self.adjacency.get_mut(&end) {
                set.remove(key);
            }
        }
    }

    /// Whether a sequence exists: created (here or elsewhere), or holding entries that arrived
    /// before its creation did. An undone, empty creation leaves nothing, as a fresh load would.
    pub fn sequence_exists(&self, sequence: SequenceId) -> bool {
        self.created_sequences.contains(&sequence)
            || self.sequences.get(&sequence).is_some_and(|i| !i.is_empty())
    }

    /// Marks a sequence created.
    pub fn create_sequence(&mut self, sequence: SequenceId) {
        self.created_sequences.insert(sequence);
        self.sequences.entry(sequence).or_default();
    }

    /// Sets a card's order key in a sequence (`None`: removed).
    pub fn place(&mut self, sequence: SequenceId, card: CardId, key: Option<Arc<str>>) {
        let hidden = !self.is_visible(card);
        if key.is_none() && !self.sequences.contains_key(&sequence) {
            return;
        }
        let index = self.sequences.entry(sequence).or_default();
        let member = self.memberships.entry(card).or_default();
        match key {
            Some(key) => {
                index.upsert(card, key, hidden);
                if !member.contains(&sequence) {
                    member.push(sequence);
                }
            }
            None => {
                index.remove(card);
                member.retain(|s| *s != sequence);
            }
        }
    }
}

pub(crate) fn new_value(change: &EntryChange) -> Option<&Out> {
    match change {
        EntryChange::Inserted(v) | EntryChange::Updated(_, v) => Some(v),
        EntryChange::Removed(_) => None,
    }
}

fn key_at(path: &std::collections::VecDeque<PathSegment>, i: usize) -> Option<&str> {
    match path.get(i)? {
        PathSegment::Key(k) => Some(k),
        PathSegment::Index(_) => None,
    }
}

fn is_true(value: Option<Out>) -> bool {
    matches!(value, Some(Out::Any(Any::Bool(true))))
}

/// Translates a deep event batch on the `cards` root.
pub(crate) fn on_cards(tracker: &mut Tracker, txn: &TransactionMut<'_>, events: &Events<'_>) {
    for event in events.iter() {
        let path = event.path();
        let Some(card) = key_at(&path, 0) else {
            // The root map itself: cards appear or vanish.
            let Event::Map(e) = event else { continue };
            for (key, change) in e.keys(txn) {
                let Some(card) = CardId::from_key(key) else {
                    continue;
                };
                match new_value(change) {
                    Some(Out::YMap(map)) => {
                        let kind = match map.get(txn, layout::KIND) {
                            Some(Out::Any(Any::String(k))) => k.to_string(),
                            _ => String::new(),
                        };
                        tracker.set_card(card, Some(is_true(map.get(txn, layout::DELETED))));
                        tracker.push(ChangeEvent::CardCreated { card, kind });
                    }
                    // Removed (an undone creation), or replaced by a non-card: gone.
                    _ => {
                        tracker.set_card(card, None);
                        tracker.push(ChangeEvent::CardDeleted { card });
                    }
                }
            }
            continue;
        };
        let Some(card) = CardId::from_key(card) else {
            continue;
        };
        if let Some(field) = key_at(&path, 1) {
            if let Event::Text(text) = event {
                let key = (card, field.to_owned());
                if !tracker.writing_ops
                    && tracker.astral.get(&key) == Some(&false)
                    && text.delta(txn).iter().any(|d| {
                        matches!(d, Delta::Inserted(Out::Any(Any::String(s)), _) if has_astral(s))
                    })
                {
                    tracker.astral.insert(key, true);
                }
            }
            tracker.push(ChangeEvent::FieldChanged {
                card,
                field: field.to_owned(),
            });
            continue;
        }
        let Event::Map(e) = event else { continue };
        for (key, change) in e.keys(txn) {
            if &**key == layout::DELETED {
                let deleted = matches!(new_value(change), Some(Out::Any(Any::Bool(true))));
                if tracker.cards.get(&card) != Some(&deleted) {
                    tracker.set_card(card, Some(deleted));
                }
                tracker.push(if deleted {
                    ChangeEvent::CardDeleted { card }
                } else {
                    ChangeEvent::CardRestored { card }
                });
            } else if !key.starts_with(layout::RESERVED_PREFIX) {
                // A text field replaced wholesale: forget what we knew of its content.
                tracker.astral.remove(&(card, key.to_string()));
                tracker.push(ChangeEvent::FieldChanged {
                    card,
                    field: key.to_string(),
                });
            }
        }
    }
}

/// Translates an event batch on the `relationships` root (flat: no nested events).
pub(crate) fn on_relationships(
    tracker: &mut Tracker,
    txn: &TransactionMut<'_>,
    events: &Events<'_>,
) {
    for event in events.iter() {
        let Event::Map(e) = event else { continue };
        if !event.path().is_empty() {
            continue;
        }
        for (key, change) in e.keys(txn) {
            let Some(key) = RelationshipKey::from_key(key) else {
                continue;
            };
            let was_linked = match change {
                EntryChange::Updated(old, _) | EntryChange::Removed(old) => {
                    edge_removed(old) == Some(false)
                }
                EntryChange::Inserted(_) => false,
            };
            let linked = new_value(change).and_then(edge_removed) == Some(false);
            if new_value(change).is_some() {
                tracker.add_edge(&key);
            } else {
                tracker.remove_edge(&key);
            }
            match (was_linked, linked) {
                (false, true) => tracker.push(ChangeEvent::RelationshipAdded { key }),
                (true, false) => tracker.push(ChangeEvent::RelationshipRemoved { key }),
                _ => {}
            }
        }
    }
}

/// Translates an event batch on the `relationship_props` root.
pub(crate) fn on_relationship_props(
    tracker: &mut Tracker,
    txn: &TransactionMut<'_>,
    events: &Events<'_>,
) {
    for event in events.iter() {
        let Event::Map(e) = event else { continue };
        if !event.path().is_empty() {
            continue;
        }
        for (key, change) in e.keys(txn) {
            let Some((edge, name)) = layout::parse_prop_key(key) else {
                continue;
            };
            let names = tracker.props.entry(edge.clone()).or_default();
            match new_value(change) {
                Some(Out::Any(_)) => names.insert(name.to_owned()),
                _ => names.remove(name),
            };
            tracker.push(ChangeEvent::RelationshipChanged { key: edge });
        }
    }
}

/// Translates an event batch on the `sequences` root (flat: no nested events).
pub(crate) fn on_sequences(tracker: &mut Tracker, txn: &TransactionMut<'_>, events: &Events<'_>) {
    for event in events.iter() {
        let Event::Map(e) = event else { continue };
        if !event.path().is_empty() {
            continue;
        }
        for (key, change) in e.keys(txn) {
            let sequence = match layout::parse_sequence_key(key) {
                Some(SequenceKey::Marker(sequence)) => {
                    if new_value(change).is_some() {
                        tracker.create_sequence(sequence);
                    } else {
                        tracker.created_sequences.remove(&sequence);
                    }
                    sequence
                }
                Some(SequenceKey::Entry(sequence, card)) => {
                    let order = match new_value(change) {
                        Some(Out::Any(Any::String(s))) => Some(s.clone()),
                        _ => None,
                    };
                    tracker.place(sequence, card, order);
                    sequence
                }
                None => continue,
            };
            tracker.push(ChangeEvent::SequenceChanged { sequence });
        }
    }
}
