//! Card rules: the key, the kind, the `$` bookkeeping keys, and each field in its kind's
//! shape (the field rules themselves are in `check_field.rs`).
//!
//! A card the update creates has every field checked, required registers included; field
//! permissions apply to the fields it gives a value. An existing card has the keys the update
//! touched checked, comparing before and after. Replacing a card, or a text, counter, max or
//! set container of one, is refused (`check_container.rs`): it discards what was inside.

use std::collections::BTreeSet;

use cardsync_core::layout::{self, CREATED, DELETED, KIND, MODIFIED, RESERVED_PREFIX};
use cardsync_core::{CardId, FieldKind};
use yrs::{Any, GetString, Map, MapRef, Out, ReadTxn};

use super::check::Check;
use super::check_field::{Field, entries};
use super::shadow::Touch;
use super::violation::Violation;

fn string(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Option<String> {
    match map.get(txn, key) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

/// Whether a field of a new card is empty (not "set", for the purpose of field rules).
fn is_blank(value: Option<&Out>, txn: &impl ReadTxn) -> bool {
    match value {
        None | Some(Out::Any(Any::Null)) => true,
        Some(Out::YText(text)) => text.get_string(txn).is_empty(),
        Some(Out::YMap(map)) => map.len(txn) == 0,
        Some(_) => false,
    }
}

impl Check<'_, '_> {
    /// Checks one touched card.
    pub(super) fn card(&self, key: &str, touch: &Touch) -> Result<(), Violation> {
        let root = layout::CARDS;
        if CardId::from_key(key).is_none() {
            return Err(Violation::BadKey {
                root,
                key: key.to_owned(),
            });
        }
        let new = match self.new.get(&self.new.cards, key) {
            None => return Ok(()),
            Some(Out::YMap(map)) => map,
            Some(_) => {
                return Err(Violation::NotAMap {
                    root,
                    key: key.to_owned(),
                });
            }
        };
        let old = self.old.map(&self.old.cards, key);
        let (ntx, otx) = (&self.new.txn, &self.old.txn);
        let card = key.to_owned();
        let Some(kind) = string(&new, ntx, KIND) else {
            return Err(Violation::MissingKind { card });
        };
        let Some(kind_def) = self.rules.schema.cards.get(&kind) else {
            return Err(Violation::UnknownKind { card, kind });
        };
        if let Some(old) = &old {
            let from = string(old, otx, KIND).unwrap_or_default();
            if from != kind {
                return Err(Violation::KindChanged {
                    card,
                    from,
                    to: kind,
                });
            }
        }
        if touch.whole {
            self.card_kept(key)?;
        }
        if let Some(id) = CardId::from_key(key)
            && !self.rules.fixed.knows(id)
            && let Some(field) = self.rules.fixed.collision(id, kind_def)
        {
            return Err(Violation::ContainerCollision {
                card,
                field: field.to_owned(),
            });
        }
        let fresh = old.is_none() || touch.whole;
        let keys: BTreeSet<String> = if fresh {
            let mut keys: BTreeSet<String> = new.keys(ntx).map(str::to_owned).collect();
            if let Some(old) = &old {
                keys.extend(old.keys(otx).map(str::to_owned));
            }
            let required = kind_def.fields.iter().filter(|(_, d)| d.required);
            keys.extend(required.map(|(name, _)| name.clone()));
            keys
        } else {
            touch.keys.clone()
        };
        for name in &keys {
            let before = old.as_ref().and_then(|m| m.get(otx, name));
            let after = new.get(ntx, name);
            if name.starts_with(RESERVED_PREFIX) {
                self.bookkeeping(key, name, after.as_ref())?;
                continue;
            }
            let Some(def) = kind_def.fields.get(name) else {
                if after.is_none() {
                    continue; // Removing an undeclared entry only cleans up.
                }
                return Err(Violation::UnknownField {
                    card,
                    kind,
                    field: name.clone(),
                });
            };
            let sets = !fresh || !is_blank(after.as_ref(), ntx);
            let permissions = self.rules.permissions;
            if sets && !permissions.may_write_field(self.rules.role, &kind, name) {
                return Err(Violation::FieldForbidden {
                    role: self.rules.role,
                    kind,
                    field: name.clone(),
                });
            }
            let field = Field {
                card: key,
                name,
                def,
            };
            self.field(&field, old.is_some(), before, after)?;
        }
        Ok(())
    }

    fn bookkeeping(&self, card: &str, key: &str, value: Option<&Out>) -> Result<(), Violation> {
        let valid = match (key, value) {
            (KIND, _) => true, // checked with the card
            (_, None) => true,
            (DELETED, Some(Out::Any(Any::Bool(_)))) => true,
            (CREATED | MODIFIED, Some(Out::Any(Any::Map(_)))) => true,
            _ => false,
        };
        if valid {
            Ok(())
        } else {
            Err(Violation::BadBookkeeping {
                card: card.to_owned(),
                key: key.to_owned(),
            })
        }
    }

    /// `existing`: the card was in the document before the update.
    fn field(
        &self,
        field: &Field<'_>,
        existing: bool,
        old: Option<Out>,
        new: Option<Out>,
    ) -> Result<(), Violation> {
        if field.def.kind != FieldKind::Register {
            self.container(field.card, field.name, existing, old.as_ref(), new.as_ref())?;
        }
        match field.def.kind {
            FieldKind::Register => {
                let plain = |v: Option<Out>| match v {
                    None => Ok(None),
                    Some(Out::Any(any)) => Ok(Some(any)),
                    Some(_) => Err(field.err_shape("a plain value")),
                };
                let new = plain(new)?;
                let old = plain(old).unwrap_or(None);
                field.register(old.as_ref(), new.as_ref())
            }
            FieldKind::Text => match new {
                None | Some(Out::YText(_)) => Ok(()),
                Some(_) => Err(field.err_shape("a text")),
            },
            FieldKind::Counter | FieldKind::Max | FieldKind::Set | FieldKind::TimeOrdered => {
                let new = match new {
                    None => None,
                    Some(Out::YMap(map)) => Some(map),
                    Some(_) => return Err(field.err_shape("a map")),
                };
                let old = match old {
                    Some(Out::YMap(map)) => Some(map),
                    _ => None,
                };
                let before = entries(old.as_ref(), &self.old.txn);
                let after = entries(new.as_ref(), &self.new.txn);
                field.entries(&before, &after, self.rules.writers, self.rules.latest_stamp)
            }
        }
    }
}
