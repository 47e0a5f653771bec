//! Typed change events, one batch per transaction.
//!
//! yrs reports low-level map and text deltas; UIs want "card X's field Y changed". Deep
//! observers on the three roots translate the former into [`ChangeEvent`]s and also keep the
//! derived indexes ([`Tracker`]) in step: which cards exist and are deleted, which
//! relationships touch a card, and each sequence's order. Doing both in one place means remote
//! updates, local writes, undo and rollback all update reads the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yrs::types::{EntryChange, Event, PathSegment};
use yrs::{Any, Map, MapRef, Out, TransactionMut};

use crate::ids::{CardId, SequenceId};
use crate::layout;
use crate::order_index::OrderIndex;
use crate::relationship::RelationshipKey;

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
    /// The order of each sequence.
    pub sequences: HashMap<SequenceId, OrderIndex>,
}

impl Tracker {
    fn push(&mut self, event: ChangeEvent) {
        if self.seen.insert(event.clone()) {
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
        for index in self.sequences.values_mut() {
            index.set_hidden(card, hidden);
        }
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

    /// Sets a card's order key in a sequence (`None`: removed).
    pub fn place(&mut self, sequence: SequenceId, card: CardId, key: Option<Arc<str>>) {
        let hidden = !self.is_visible(card);
        if let Some(index) = self.sequences.get_mut(&sequence) {
            match key {
                Some(key) => index.upsert(card, key, hidden),
                None => index.remove(card),
            }
        }
    }

    /// Builds a sequence's index from its map, as it arrives (new, loaded, or redone).
    pub fn load_sequence(&mut self, txn: &TransactionMut<'_>, sequence: SequenceId, map: &MapRef) {
        let mut index = OrderIndex::default();
        for (key, value) in map.iter(txn) {
            if let (Ok(card), Out::Any(Any::String(order))) = (key.parse::<CardId>(), value) {
                index.upsert(card, order, !self.is_visible(card));
            }
        }
        self.sequences.insert(sequence, index);
    }
}

fn new_map(change: &EntryChange) -> Option<&MapRef> {
    match change {
        EntryChange::Inserted(Out::YMap(m)) | EntryChange::Updated(_, Out::YMap(m)) => Some(m),
        _ => None,
    }
}

fn new_value(change: &EntryChange) -> Option<&Out> {
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
pub(crate) fn on_cards(
    tracker: &mut Tracker,
    txn: &TransactionMut<'_>,
    events: &yrs::types::Events<'_>,
) {
    for event in events.iter() {
        let path = event.path();
        let Some(card) = key_at(&path, 0).map(str::parse::<CardId>) else {
            // The root map itself: cards appear or vanish.
            let Event::Map(e) = event else { continue };
            for (key, change) in e.keys(txn) {
                let Ok(card) = key.parse::<CardId>() else {
                    continue;
                };
                if let Some(map) = new_map(change) {
                    let kind = match map.get(txn, layout::KIND) {
                        Some(Out::Any(Any::String(k))) => k.to_string(),
                        _ => String::new(),
                    };
                    tracker.set_card(card, Some(is_true(map.get(txn, layout::DELETED))));
                    tracker.push(ChangeEvent::CardCreated { card, kind });
                } else if matches!(change, EntryChange::Removed(_)) {
                    tracker.set_card(card, None);
                    tracker.push(ChangeEvent::CardDeleted { card });
                }
            }
            continue;
        };
        let Ok(card) = card else { continue };
        if let Some(field) = key_at(&path, 1) {
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
            } else if !key.starts_with(crate::schema::RESERVED_PREFIX) {
                tracker.push(ChangeEvent::FieldChanged {
                    card,
                    field: key.to_string(),
                });
            }
        }
    }
}

/// Translates a deep event batch on the `relationships` root.
pub(crate) fn on_relationships(
    tracker: &mut Tracker,
    txn: &TransactionMut<'_>,
    events: &yrs::types::Events<'_>,
) {
    for event in events.iter() {
        let path = event.path();
        let Some(key) = key_at(&path, 0) else {
            let Event::Map(e) = event else { continue };
            for (key, change) in e.keys(txn) {
                let Ok(key) = key.parse::<RelationshipKey>() else {
                    continue;
                };
                if let Some(map) = new_map(change) {
                    tracker.add_edge(&key);
                    if !is_true(map.get(txn, layout::REMOVED)) {
                        tracker.push(ChangeEvent::RelationshipAdded { key });
                    }
                } else if matches!(change, EntryChange::Removed(_)) {
                    tracker.remove_edge(&key);
                    tracker.push(ChangeEvent::RelationshipRemoved { key });
                }
            }
            continue;
        };
        let Ok(key) = key.parse::<RelationshipKey>() else {
            continue;
        };
        if path.len() > 1 {
            tracker.push(ChangeEvent::RelationshipChanged { key });
            continue;
        }
        let Event::Map(e) = event else { continue };
        if let Some(change) = e.keys(txn).get(layout::REMOVED) {
            tracker.push(
                if matches!(new_value(change), Some(Out::Any(Any::Bool(true)))) {
                    ChangeEvent::RelationshipRemoved { key }
                } else {
                    ChangeEvent::RelationshipAdded { key }
                },
            );
        }
    }
}

/// Translates a deep event batch on the `sequences` root.
pub(crate) fn on_sequences(
    tracker: &mut Tracker,
    txn: &TransactionMut<'_>,
    events: &yrs::types::Events<'_>,
) {
    for event in events.iter() {
        let Event::Map(e) = event else { continue };
        let path = event.path();
        match key_at(&path, 0).map(str::parse::<SequenceId>) {
            None => {
                for (key, change) in e.keys(txn) {
                    let Ok(sequence) = key.parse::<SequenceId>() else {
                        continue;
                    };
                    match new_map(change) {
                        Some(map) => tracker.load_sequence(txn, sequence, map),
                        None => {
                            tracker.sequences.remove(&sequence);
                        }
                    }
                    tracker.push(ChangeEvent::SequenceChanged { sequence });
                }
            }
            Some(Ok(sequence)) => {
                for (key, change) in e.keys(txn) {
                    let Ok(card) = key.parse::<CardId>() else {
                        continue;
                    };
                    let order = match new_value(change) {
                        Some(Out::Any(Any::String(s))) => Some(s.clone()),
                        _ => None,
                    };
                    tracker.place(sequence, card, order);
                }
                tracker.push(ChangeEvent::SequenceChanged { sequence });
            }
            Some(Err(_)) => {}
        }
    }
}
