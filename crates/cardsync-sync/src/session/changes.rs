//! What a rollback changed, as typed events.
//!
//! A rollback swaps the whole local doc, so yrs has no transaction to report. Instead the
//! exports before and after are compared and every difference becomes a [`ChangeEvent`] with
//! origin `Rollback`: the UI learns exactly which cards, fields, relationships and sequences
//! the rejected change (and anything that depended on it) took with it.

use std::collections::BTreeSet;

use cardsync_core::{ChangeEvent, DocExport, RelationshipKey};

/// The events that turn `before` into `after`.
pub(crate) fn diff_exports(before: &DocExport, after: &DocExport) -> Vec<ChangeEvent> {
    let mut events = Vec::new();
    for (id, old) in &before.cards {
        match after.cards.get(id) {
            None => events.push(ChangeEvent::CardDeleted { card: *id }),
            Some(new) => {
                if old.deleted != new.deleted {
                    events.push(if new.deleted {
                        ChangeEvent::CardDeleted { card: *id }
                    } else {
                        ChangeEvent::CardRestored { card: *id }
                    });
                }
                // `extend`, not `collect()`: see cardsync-core's `btree` module.
                let mut names = BTreeSet::new();
                names.extend(old.fields.keys().chain(new.fields.keys()));
                for field in names {
                    if old.fields.get(field) != new.fields.get(field) {
                        events.push(ChangeEvent::FieldChanged {
                            card: *id,
                            field: field.clone(),
                        });
                    }
                }
            }
        }
    }
    for (id, new) in &after.cards {
        if !before.cards.contains_key(id) {
            events.push(ChangeEvent::CardCreated {
                card: *id,
                kind: new.kind.clone(),
            });
        }
    }
    let key = |r: &cardsync_core::Relationship| RelationshipKey::new(r.from, r.kind.clone(), r.to);
    for old in &before.relationships {
        match after.relationships.iter().find(|r| key(r) == key(old)) {
            None => events.push(ChangeEvent::RelationshipRemoved { key: key(old) }),
            Some(new) if new != old => {
                events.push(ChangeEvent::RelationshipChanged { key: key(old) })
            }
            Some(_) => {}
        }
    }
    for new in &after.relationships {
        if !before.relationships.iter().any(|r| key(r) == key(new)) {
            events.push(ChangeEvent::RelationshipAdded { key: key(new) });
        }
    }
    let mut sequences = BTreeSet::new();
    sequences.extend(before.sequences.keys().chain(after.sequences.keys()));
    for sequence in sequences {
        if before.sequences.get(sequence) != after.sequences.get(sequence) {
            events.push(ChangeEvent::SequenceChanged {
                sequence: *sequence,
            });
        }
    }
    events
}
