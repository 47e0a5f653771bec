//! Rules for one field of a card, before and after an update:
//! - registers: plain, finite, of the declared type, required ones never cleared, and a
//!   state machine moves only along a listed move (from unset: only to an initial state, the
//!   rule `cardsync_core` applies to local writes);
//! - counter and max: a map whose *changed* entries are keyed by a client id the update
//!   writes as (DESIGN.md §3: entries are per replica, and writing another replica's entry
//!   would overwrite its count); counter entries are integers and the total stays within
//!   JavaScript's safe integers; max entries are finite and never go down or vanish;
//! - set: added entries are `item@client` for such a client id and hold `true`; removing
//!   anyone's entry is how an observed-remove set removes, so removals are free.

use std::collections::{BTreeMap, BTreeSet};

use cardsync_core::{FieldDef, FieldKind, ValueType};
use yrs::{Any, Map, MapRef, Number, Out, ReadTxn};

use super::check::is_plain;
use super::violation::Violation;

/// Largest integer JavaScript represents exactly.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

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

fn number(any: Option<&Any>) -> Option<f64> {
    match any? {
        Any::Number(Number::Int(n)) => Some(*n as f64),
        Any::Number(Number::Float(n)) if n.is_finite() => Some(*n),
        _ => None,
    }
}

/// A counter entry as a safe integer (Yjs writes integers beyond 2^31 as floats).
fn safe_integer(any: &Any) -> Option<i64> {
    let n = match any {
        Any::Number(Number::Int(n)) => *n,
        Any::Number(Number::Float(f)) if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 => {
            *f as i64
        }
        _ => return None,
    };
    (n.abs() <= MAX_SAFE_INTEGER).then_some(n)
}

/// The entries of a nested counter, max or set map: key → plain value (`None` for a nested
/// shared type, which no entry may be).
pub(super) fn entries(map: Option<&MapRef>, txn: &impl ReadTxn) -> BTreeMap<String, Option<Any>> {
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

/// Whether a state machine may start in `state`: no move leads to it, or the machine is a
/// cycle (every state has a way in).
fn is_initial(table: &BTreeMap<String, Vec<String>>, state: &str) -> bool {
    let targets: BTreeSet<&str> = table.values().flatten().map(String::as_str).collect();
    let all_targets = table.keys().all(|s| targets.contains(s.as_str()));
    table.contains_key(state) && (all_targets || !targets.contains(state))
}

/// One field of one card.
pub(super) struct Field<'f> {
    pub card: &'f str,
    pub name: &'f str,
    pub def: &'f FieldDef,
}

impl Field<'_> {
    pub fn err_shape(&self, expected: &'static str) -> Violation {
        Violation::WrongShape {
            card: self.card.to_owned(),
            field: self.name.to_owned(),
            expected,
        }
    }

    pub fn register(&self, old: Option<&Any>, new: Option<&Any>) -> Result<(), Violation> {
        let (card, field) = (self.card.to_owned(), self.name.to_owned());
        let Some(new) = new.filter(|v| **v != Any::Null) else {
            let was_set = old.is_some_and(|v| *v != Any::Null);
            return if self.def.required && (was_set || old.is_none()) {
                Err(Violation::MissingRequired { card, field })
            } else {
                Ok(())
            };
        };
        let scalar = matches!(new, Any::Bool(_) | Any::Number(_) | Any::String(_));
        if !scalar || !accepts(self.def.value_type, new) {
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
            Some(from) => table
                .get(from)
                .is_some_and(|next| next.iter().any(|s| **s == **to)),
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

    /// Checks the entries of a counter, max or set field that the update changed.
    pub fn entries(
        &self,
        old: &BTreeMap<String, Option<Any>>,
        new: &BTreeMap<String, Option<Any>>,
        writers: &BTreeSet<u64>,
    ) -> Result<(), Violation> {
        let own = |client: &str| {
            client
                .parse::<u64>()
                .is_ok_and(|c| c.to_string() == client && writers.contains(&c))
        };
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for key in keys {
            let (before, after) = (old.get(key), new.get(key));
            if before == after {
                continue;
            }
            let at = |make: fn(String, String, String) -> Violation| {
                make(self.card.to_owned(), self.name.to_owned(), key.clone())
            };
            let foreign = || at(|card, field, key| Violation::ForeignEntry { card, field, key });
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
                    if after.is_some_and(|a| safe_integer(a).is_none()) {
                        return Err(at(|card, field, key| Violation::CounterRange {
                            card,
                            field,
                            key,
                        }));
                    }
                }
                FieldKind::Max => {
                    if !own(key) {
                        return Err(foreign());
                    }
                    let Some(now) = number(after) else {
                        return Err(self.err_shape("a map of finite numbers"));
                    };
                    if number(before.and_then(Option::as_ref)).is_some_and(|was| now < was) {
                        return Err(at(|card, field, key| Violation::MaxDecreased {
                            card,
                            field,
                            key,
                        }));
                    }
                }
                FieldKind::Set => {
                    let Some(after) = after else { continue };
                    if !key.rsplit_once('@').is_some_and(|(_, c)| own(c)) {
                        return Err(foreign());
                    }
                    if *after != Any::Bool(true) {
                        return Err(self.err_shape("a map of `item@client` → true"));
                    }
                }
                FieldKind::Register | FieldKind::Text => {}
            }
        }
        if self.def.kind == FieldKind::Counter {
            let total: i128 = new
                .values()
                .filter_map(|v| v.as_ref().and_then(safe_integer))
                .map(i128::from)
                .sum();
            if total.abs() > i128::from(MAX_SAFE_INTEGER) {
                let key = String::new();
                return Err(Violation::CounterRange {
                    card: self.card.to_owned(),
                    field: self.name.to_owned(),
                    key,
                });
            }
        }
        Ok(())
    }
}
