//! The ops that bring a card back to an earlier state: what `POST /docs/{doc}/restore`
//! submits (`http_restore.rs`).
//!
//! **Why ops, not a rewrite.** A restore must be a new forward change, judged by the room like
//! any other batch, audited and broadcast; the log is never rewritten (every replica already
//! holds it, and yrs cannot un-apply). So a restore compares the card as it was (read from the
//! log up to the chosen sequence number) with the card as it is, and writes the difference as
//! ordinary typed ops, per field kind:
//! - a register gets its old value (`Null` where it was never set);
//! - a text gets its old plain text (the current text deleted, the old one inserted: its
//!   formatting is not restored);
//! - a counter is incremented by the difference;
//! - a set gets the missing items added and the extra ones removed;
//! - a max field can only rise, so a higher value now is kept (a max never goes down);
//! - a card absent or deleted then is deleted; one deleted now and alive then is restored
//!   first (and one the document no longer has at all is created with its old registers and
//!   texts).
//!
//! Relationships, sequences and board placements are not restored (not built yet).

use cardsync_core::{Card, CardId, FieldValue, Op, Value};

/// The ops that turn `now` (the card as it is, `None` if the document never had it) into
/// `then` (as it was, `None` if it did not exist then). Empty when they are equal.
pub(crate) fn restore_card(id: CardId, then: Option<&Card>, now: Option<&Card>) -> Vec<Op> {
    let mut ops = Vec::new();
    let Some(then) = then.filter(|c| !c.deleted) else {
        if now.is_some_and(|c| !c.deleted) {
            ops.push(Op::DeleteCard { card: id });
        }
        return ops;
    };
    let Some(now) = now else {
        let fields = then
            .fields
            .iter()
            .filter_map(|(name, value)| match value {
                FieldValue::Register(v) => Some((name.clone(), v.clone())),
                FieldValue::Text(t) => Some((name.clone(), Value::from(t.as_str()))),
                _ => None,
            })
            .collect();
        ops.push(Op::CreateCard {
            card: id,
            kind: then.kind.clone(),
            fields,
        });
        let created = Card {
            fields: then
                .fields
                .iter()
                .filter(|(_, v)| matches!(v, FieldValue::Register(_) | FieldValue::Text(_)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            ..then.clone()
        };
        ops.extend(restore_fields(id, then, &created));
        return ops;
    };
    if now.deleted {
        ops.push(Op::RestoreCard { card: id });
    }
    ops.extend(restore_fields(id, then, now));
    ops
}

/// The field ops of [`restore_card`] for a card alive in both states.
fn restore_fields(card: CardId, then: &Card, now: &Card) -> Vec<Op> {
    let mut ops = Vec::new();
    let names = then.fields.keys().chain(now.fields.keys());
    let mut seen = std::collections::BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            continue;
        }
        let field = name.clone();
        match (then.fields.get(name), now.fields.get(name)) {
            (Some(FieldValue::Register(old)), current) if !matches!(current, Some(FieldValue::Register(v)) if v == old) =>
            {
                let value = old.clone();
                ops.push(Op::SetField { card, field, value });
            }
            (None, Some(FieldValue::Register(current))) if *current != Value::Null => {
                let value = Value::Null;
                ops.push(Op::SetField { card, field, value });
            }
            (old, Some(FieldValue::Text(current))) => {
                let old = match old {
                    Some(FieldValue::Text(old)) => old.as_str(),
                    _ => "",
                };
                if old != current {
                    let len = u32::try_from(current.encode_utf16().count()).unwrap_or(u32::MAX);
                    if len > 0 {
                        let field = field.clone();
                        ops.push(Op::DeleteText {
                            card,
                            field,
                            index: 0,
                            len,
                        });
                    }
                    if !old.is_empty() {
                        let (text, attributes) = (old.to_owned(), Default::default());
                        ops.push(Op::InsertText {
                            card,
                            field,
                            index: 0,
                            text,
                            attributes,
                        });
                    }
                }
            }
            (old, Some(FieldValue::Counter(current))) => {
                let old = match old {
                    Some(FieldValue::Counter(old)) => *old,
                    _ => 0,
                };
                if old != *current {
                    let by = old.saturating_sub(*current);
                    ops.push(Op::Increment { card, field, by });
                }
            }
            (old, Some(FieldValue::Set(current))) => {
                let empty = std::collections::BTreeSet::new();
                let old = match old {
                    Some(FieldValue::Set(old)) => old,
                    _ => &empty,
                };
                for item in old.difference(current) {
                    let (field, item) = (field.clone(), item.clone());
                    ops.push(Op::AddToSet { card, field, item });
                }
                for item in current.difference(old) {
                    let (field, item) = (field.clone(), item.clone());
                    ops.push(Op::RemoveFromSet { card, field, item });
                }
            }
            (Some(FieldValue::Text(old)), None) if !old.is_empty() => {
                let (text, attributes) = (old.clone(), Default::default());
                ops.push(Op::InsertText {
                    card,
                    field,
                    index: 0,
                    text,
                    attributes,
                });
            }
            (Some(FieldValue::Counter(old)), None) if *old != 0 => {
                ops.push(Op::Increment {
                    card,
                    field,
                    by: *old,
                });
            }
            (Some(FieldValue::Set(old)), None) => {
                for item in old {
                    let (field, item) = (field.clone(), item.clone());
                    ops.push(Op::AddToSet { card, field, item });
                }
            }
            (Some(FieldValue::Max(Some(old))), now_max) => {
                let below = match now_max {
                    Some(FieldValue::Max(Some(current))) => current < old,
                    _ => true,
                };
                if below {
                    ops.push(Op::RaiseMax {
                        card,
                        field,
                        value: *old,
                    });
                }
            }
            _ => {}
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn card(deleted: bool, fields: &[(&str, FieldValue)]) -> Card {
        Card {
            id: CardId::from_u128(1),
            kind: "task".into(),
            deleted,
            created: None,
            modified: None,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn each_field_kind_goes_back_and_equal_cards_need_nothing() {
        let id = CardId::from_u128(1);
        let set = |items: &[&str]| {
            FieldValue::Set(
                items
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect::<BTreeSet<_>>(),
            )
        };
        let then = card(
            false,
            &[
                ("title", FieldValue::Register("first".into())),
                ("body", FieldValue::Text("héllo".into())),
                ("votes", FieldValue::Counter(2)),
                ("tags", set(&["a", "b"])),
            ],
        );
        let now = card(
            false,
            &[
                ("title", FieldValue::Register("second".into())),
                ("owner", FieldValue::Register("bob".into())),
                ("body", FieldValue::Text("hé".into())),
                ("votes", FieldValue::Counter(7)),
                ("tags", set(&["b", "c"])),
            ],
        );
        let ops = restore_card(id, Some(&then), Some(&now));
        let field = |f: &str| f.to_owned();
        assert!(ops.contains(&Op::SetField {
            card: id,
            field: field("title"),
            value: "first".into()
        }));
        assert!(ops.contains(&Op::SetField {
            card: id,
            field: field("owner"),
            value: Value::Null
        }));
        assert!(ops.contains(&Op::DeleteText {
            card: id,
            field: field("body"),
            index: 0,
            len: 2
        }));
        assert!(ops.contains(&Op::InsertText {
            card: id,
            field: field("body"),
            index: 0,
            text: "héllo".into(),
            attributes: Default::default()
        }));
        assert!(ops.contains(&Op::Increment {
            card: id,
            field: field("votes"),
            by: -5
        }));
        assert!(ops.contains(&Op::AddToSet {
            card: id,
            field: field("tags"),
            item: "a".into()
        }));
        assert!(ops.contains(&Op::RemoveFromSet {
            card: id,
            field: field("tags"),
            item: "c".into()
        }));
        assert_eq!(ops.len(), 7, "{ops:?}");
        assert!(restore_card(id, Some(&then), Some(&then)).is_empty());
    }

    #[test]
    fn cards_are_deleted_restored_or_created() {
        let id = CardId::from_u128(1);
        let alive = card(false, &[("title", FieldValue::Register("t".into()))]);
        let gone = card(true, &[("title", FieldValue::Register("t".into()))]);
        assert_eq!(
            restore_card(id, None, Some(&alive)),
            [Op::DeleteCard { card: id }]
        );
        assert_eq!(
            restore_card(id, Some(&gone), Some(&alive)),
            [Op::DeleteCard { card: id }]
        );
        assert!(restore_card(id, None, Some(&gone)).is_empty());
        assert_eq!(
            restore_card(id, Some(&alive), Some(&gone)),
            [Op::RestoreCard { card: id }]
        );
        let created = restore_card(id, Some(&alive), None);
        assert!(
            matches!(&created[..], [Op::CreateCard { kind, .. }] if kind == "task"),
            "{created:?}"
        );
    }
}
