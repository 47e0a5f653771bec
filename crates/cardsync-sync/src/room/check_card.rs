//! Card rules: kind, bookkeeping keys, and each field in its kind's shape.
//!
//! Fields are checked by comparing the card before and after the update:
//! - registers: plain, finite, of the declared type, required ones never cleared, and a
//!   state machine moves only along a listed move (from unset: only to an initial state);
//! - text: a Y.Text (content is free);
//! - counter and max: a map whose *changed* entries are keyed by a client id the update
//!   writes as (DESIGN.md §3: entries are per replica; writing another replica's entry would
//!   overwrite its count), hold finite numbers, and for max never go down or vanish;
//! - set: a map whose added entries are `item@client` for such a client id and hold `true`;
//!   removing anyone's entry is how an observed-remove set removes, so removals are free.
//!
//! A card the update creates (or replaces whole) has every field checked, and field rules
//! apply to the fields it gives a value.

use std::collections::{BTreeMap, BTreeSet};

use cardsync_core::{CardId, FieldDef, FieldKind, ValueType};
use yrs::{Any, GetString, Map, MapRef, Out, ReadTxn};

use super::check::{Check, is_plain};
use super::shadow::{Touch, roots};
use super::violation::Violation;

const KIND: &str = "$kind";
const DELETED: &str = "$deleted";
const CREATED: &str = "$created";
const MODIFIED: &str = "$modified";

fn string(map: &MapRef, txn: &impl ReadTxn, key: &str) -> Option<String> {
    match map.get(txn, key) {
        Some(Out::Any(Any::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

fn type_name(any: &Any) -> &'static str {
    match any {
        Any::Null => "null",
        Any::Bool(_) => "bool",
        Any::Number(_) => "number",
        Any::String(_) => "string",
        Any::Undefined => "undefined",
        Any::Buffer(_) => "binary",
        Any::Array(_) => "array",
        Any::Map(_) => "object",
    }
}

fn accepts(value_type: ValueType, any: &Any) -> bool {
    matches!(
        (value_type, any),
        (_, Any::Null)
            | (ValueType::Any, _)
            | (ValueType::String, Any::String(_))
            | (ValueType::Number, Any::Number(_))
            | (ValueType::Bool, Any::Bool(_))
    )
}

fn is_number(any: &Any) -> bool {
    matches!(any, Any::Number(_)) && is_plain(any)
}

fn number(any: Option<&Any>) -> Option<f64> {
    match any? {
        Any::Number(yrs::Number::Int(n)) => Some(*n as f64),
        Any::Number(yrs::Number::Float(n)) => Some(*n),
        _ => None,
    }
}

/// The entries of a nested counter, max or set map: key → plain value (`None` for a nested
/// shared type, which no entry may be).
fn entries(map: Option<&MapRef>, txn: &impl ReadTxn) -> BTreeMap<String, Option<Any>> {
    map.map(|m| {
        m.iter(txn)
            .map(|(k, v)| {
                let v = match v {
                    Out::Any(any) => Some(any),
                    _ => None,
                };
                (k.to_owned(), v)
            })
            .collect()
    })
    .unwrap_or_default()
}

/// States a state machine may start in: those no move leads to, or all when it is a cycle
/// (the rule `cardsync_core` applies to local writes).
fn is_initial(table: &BTreeMap<String, Vec<String>>, state: &str) -> bool {
    let targets: BTreeSet<&str> = table.values().flatten().map(String::as_str).collect();
    let all_targets = table.keys().all(|s| targets.contains(s.as_str()));
    table.contains_key(state) && (all_targets || !targets.contains(state))
}

/// One field of one card, before and after.
struct Field<'f> {
    card: &'f str,
    name: &'f str,
    def: &'f FieldDef,
}

impl Field<'_> {
    fn err_shape(&self, expected: &'static str) -> Violation {
        Violation::WrongShape {
            card: self.card.to_owned(),
            field: self.name.to_owned(),
            expected,
        }
    }

    fn register(&self, old: Option<&Any>, new: Option<&Any>) -> Result<(), Violation> {
        let (card, field) = (self.card.to_owned(), self.name.to_owned());
        let cleared = new.is_none_or(|v| *v == Any::Null);
        if cleared {
            let was_set = old.is_some_and(|v| *v != Any::Null);
            return if self.def.required && (was_set || old.is_none()) {
                Err(Violation::MissingRequired { card, field })
            } else {
                Ok(())
            };
        }
        let new = new.unwrap_or(&Any::Null);
        if !accepts(self.def.value_type, new) || !matches!(new, Any::Bool(_) | Any::Number(_) | Any::String(_)) {
            return Err(Violation::TypeMismatch {
                card,
                field,
                expected: self.def.value_type,
                got: type_name(new),
            });
        }
        if !is_plain(new) {
            return Err(Violation::NotFinite { card, field });
        }
        let (Some(table), Any::String(to)) = (&self.def.transitions, new) else {
            return Ok(());
        };
        let from = match old {
            Some(Any::String(s)) => Some(s.to_string()),
            _ => None,
        };
        let allowed = match &from {
            Some(from) if **from == **to => true,
            Some(from) => table.get(from).is_some_and(|next| next.iter().any(|s| **s == **to)),
            None => is_initial(table, to),
        };
        if allowed {
            Ok(())
        } else {
            Err(Violation::InvalidTransition {
                card,
                field,
                from,
                to: to.to_string(),
            })
        }
    }

    fn entries(
        &self,
        old: BTreeMap<String, Option<Any>>,
        new: BTreeMap<String, Option<Any>>,
        writers: &BTreeSet<u64>,
    ) -> Result<(), Violation> {
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for key in keys {
            let (before, after) = (old.get(key), new.get(key));
            if before == after {
                continue;
            }
            let foreign = || Violation::ForeignEntry {
                card: self.card.to_owned(),
                field: self.name.to_owned(),
                key: key.clone(),
            };
            let own = |client: &str| client.parse::<u64>().is_ok_and(|c| writers.contains(&c));
            let after = match after {
                Some(Some(any)) => Some(any),
                Some(None) => return Err(self.err_shape("a map of plain values")),
                None => None,
            };
            match self.def.kind {
                FieldKind::Counter => {
                    if !own(key) {
                        return Err(foreign());
                    }
                    if after.is_some_and(|a| !is_number(a)) {
                        return Err(self.err_shape("a map of finite numbers"));
                    }
                }
                FieldKind::Max => {
                    if !own(key) {
                        return Err(foreign());
                    }
                    let Some(after) = after.filter(|a| is_number(a)) else {
                        return Err(self.err_shape("a map of finite numbers"));
                    };
                    let was = number(before.and_then(Option::as_ref));
                    if was.is_some_and(|was| number(Some(after)).is_some_and(|now| now < was)) {
                        return Err(Violation::MaxDecreased {
                            card: self.card.to_owned(),
                            field: self.name.to_owned(),
                            key: key.clone(),
                        });
                    }
                }
                FieldKind::Set => {
                    let Some(after) = after else { continue };
                    let owner = key.rsplit_once('@').map(|(_, c)| c);
                    if !owner.is_some_and(own) {
                        return Err(foreign());
                    }
                    if *after != Any::Bool(true) {
                        return Err(self.err_shape("a map of `item@client` → true"));
                    }
                }
                FieldKind::Register | FieldKind::Text => {}
            }
        }
        Ok(())
    }
}

impl Check<'_, '_> {
    /// Checks one touched card.
    pub(super) fn card(&self, key: &str, touch: &Touch) -> Result<(), Violation> {
        let root = roots::CARDS;
        if key.parse::<CardId>().is_err() {
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
                return Err(Violation::KindChanged { card, from, to: kind });
            }
        }
        let fresh = old.is_none() || touch.whole;
        let keys: BTreeSet<String> = if fresh {
            let mut keys: BTreeSet<String> = new.keys(ntx).map(str::to_owned).collect();
            if let Some(old) = &old {
                keys.extend(old.keys(otx).map(str::to_owned));
            }
            // Required registers must be there even if the update did not mention them.
            keys.extend(
                kind_def
                    .fields
                    .iter()
                    .filter(|(_, d)| d.required)
                    .map(|(n, _)| n.clone()),
            );
            keys
        } else {
            touch.keys.clone()
        };
        for name in &keys {
            let before = old.as_ref().and_then(|m| m.get(otx, name));
            let after = new.get(ntx, name);
            if name.starts_with('$') {
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
            self.field(&field, before, after)?;
        }
        Ok(())
    }

    fn bookkeeping(&self, card: &str, key: &str, value: Option<&Out>) -> Result<(), Violation> {
        let valid = match (key, value) {
            (KIND, _) => true, // checked above
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

    fn field(&self, field: &Field<'_>, old: Option<Out>, new: Option<Out>) -> Result<(), Violation> {
        let as_any = |v: Option<Out>| -> Result<Option<Any>, ()> {
            match v {
                None => Ok(None),
                Some(Out::Any(any)) => Ok(Some(any)),
                Some(_) => Err(()),
            }
        };
        match field.def.kind {
            FieldKind::Register => {
                let new = as_any(new).map_err(|()| field.err_shape("a plain value"))?;
                let old = as_any(old).unwrap_or(None);
                field.register(old.as_ref(), new.as_ref())
            }
            FieldKind::Text => match new {
                None | Some(Out::YText(_)) => Ok(()),
                Some(_) => Err(field.err_shape("a text")),
            },
            FieldKind::Counter | FieldKind::Max | FieldKind::Set => {
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
                field.entries(before, after, self.rules.writers)
            }
        }
    }
}

/// Whether a field of a new card is empty (not "set" for the purpose of field rules).
fn is_blank(value: Option<&Out>, txn: &impl ReadTxn) -> bool {
    match value {
        None | Some(Out::Any(Any::Null)) => true,
        Some(Out::YText(text)) => text.get_string(txn).is_empty(),
        Some(Out::YMap(map)) => map.len(txn) == 0,
        Some(_) => false,
    }
}
