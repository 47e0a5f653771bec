//! What a rollback changed, as typed events.
//!
//! A rollback swaps the whole local doc, so yrs has no transaction to report. Instead the
//! exports before and after are compared and every difference becomes a [`ChangeEvent`] with
//! origin `Rollback`: the UI learns exactly which cards, fields, relationships, sequences and
//! boards the rejected change (and anything that depended on it) took with it.

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
    let mut boards = BTreeSet::new();
    boards.extend(before.boards.keys().chain(after.boards.keys()));
    for board in boards {
        if before.boards.get(board) != after.boards.get(board) {
            events.push(ChangeEvent::BoardChanged { board: *board });
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use cardsync_core::{BoardId, CardDoc, CardId, ChangeEvent, ColumnId, Schema, Stamp};

    use super::diff_exports;

    /// A card moved to another column (a rejected move, rolled back) is a board change.
    #[test]
    fn a_changed_placement_is_a_board_change() {
        let schema: Schema = serde_json::from_value(serde_json::json!({
            "version": 1,
            "cards": { "task": { "fields": {} } },
            "boards": { "kanban": { "cards": ["task"] } }
        }))
        .unwrap();
        let mut doc = CardDoc::new(schema, 1).unwrap();
        let stamp = Stamp::new(1, "me");
        let (board, card) = (BoardId::from_u128(1), CardId::from_u128(2));
        let (todo, doing) = (ColumnId::from_u128(3), ColumnId::from_u128(4));
        doc.create_board(&stamp, board, "kanban").unwrap();
        doc.add_column(&stamp, board, todo, "To do", 0).unwrap();
        doc.add_column(&stamp, board, doing, "Doing", 1).unwrap();
        doc.create_card(&stamp, card, "task", []).unwrap();
        doc.place_card(&stamp, board, card, todo, 0).unwrap();
        let before = doc.export();
        assert_eq!(diff_exports(&before, &doc.export()), vec![]);
        doc.place_card(&stamp, board, card, doing, 0).unwrap();
        assert_eq!(
            diff_exports(&before, &doc.export()),
            vec![ChangeEvent::BoardChanged { board }]
        );
    }
}
