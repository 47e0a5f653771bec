//! Rules for one field of a card, before and after an update:
//! - registers: a plain value, then `cardsync_core`'s own register rule (type, finiteness,
//!   required, state machine), the one local writes pass;
//! - counter and max: a map whose *changed* entries are keyed by a client id the update
//!   writes as (docs/design.md §3: entries are per replica, and writing another replica's entry
//!   would overwrite its count); counter entries are integers and the total stays within
//!   JavaScript's safe integers; max entries are finite and never go down or vanish;
//! - set: added entries are `item@client` for such a client id and hold `true`; removing
//!   anyone's entry is how an observed-remove set removes, so removals are free.
//!
//! Entry keys are parsed with [`cardsync_core::layout`]'s canonical parsers: a client id
//! spelled `07` is another key than `7`, and would let a replica write beside its own entry.

use std::collections::{BTreeMap, BTreeSet};

use cardsync_core::layout::{parse_replica_key, parse_set_entry};
use cardsync_core::{FieldDef, FieldKind, RegisterError, Value};
use yrs::{Any, Map, MapRef, Number, Out, ReadTxn};

use super::violation::Violation;
use crate::MAX_SAFE_INTEGER;

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

    /// Checks a register's change with the core's own rule
    /// ([`FieldDef::check_register_write`]). The room only adds what the core's [`Value`]
    /// cannot express: a stored binary or undefined, or an array or map outside a composite
    /// register, is refused here, and values
    /// are read with [`Value::from_any`], as every read of the core sees them.
    pub fn register(&self, old: Option<&Any>, new: Option<&Any>) -> Result<(), Violation> {
        let (card, field) = (self.card.to_owned(), self.name.to_owned());
        let expected = self.def.value_type;
        let composite =
            self.def.composite.is_some() && matches!(new, Some(Any::Array(_) | Any::Map(_)));
        if let Some(any) = new
            && !composite
            && !matches!(
                any,
                Any::Null | Any::Bool(_) | Any::Number(_) | Any::String(_)
            )
        {
            let got = type_name(any);
            return Err(Violation::TypeMismatch {
                card,
                field,
                expected,
                got,
            });
        }
        let from = old.map(Value::from_any);
        let to = new.map_or(Value::Null, Value::from_any);
        self.def
            .check_register_write(from.as_ref(), &to)
            .map_err(|e| match e {
                RegisterError::TypeMismatch { got } => Violation::TypeMismatch {
                    card,
                    field,
                    expected,
                    got,
                },
                RegisterError::NotFinite => Violation::NotFinite { card, field },
                RegisterError::MissingRequired => Violation::MissingRequired { card, field },
                RegisterError::InvalidTransition { from, to } => Violation::InvalidTransition {
                    card,
                    field,
                    from,
                    to,
                },
                RegisterError::BadShape(error) => Violation::BadShape { card, field, error },
            })
    }

    /// Checks the entries of a counter, max or set field that the update changed.
    pub fn entries(
        &self,
        old: &BTreeMap<String, Option<Any>>,
        new: &BTreeMap<String, Option<Any>>,
        writers: &BTreeSet<u64>,
        latest_stamp: Option<u64>,
    ) -> Result<(), Violation> {
        let own = |client: Option<u64>| client.is_some_and(|c| writers.contains(&c));
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
                    if !own(parse_replica_key(key)) {
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
                    if !own(parse_replica_key(key)) {
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
                    if !own(parse_set_entry(key).map(|(_, client)| client)) {
                        return Err(foreign());
                    }
                    if *after != Any::Bool(true) {
                        return Err(self.err_shape("a map of `item@client` → true"));
                    }
                }
                FieldKind::TimeOrdered => {
                    if !own(parse_replica_key(key)) {
                        return Err(foreign());
                    }
                    let Some(after) = after else { continue };
                    let slot = yrs::Out::Any(after.clone());
                    let Some((at, value)) = cardsync_core::layout::slot_value(&slot) else {
                        return Err(self.err_shape("a map of replica → {value, at}"));
                    };
                    self.register(None, Some(value))?;
                    if let Some(latest) = latest_stamp
                        && at > latest
                    {
                        return Err(Violation::StampAhead {
                            card: self.card.to_owned(),
                            field: self.name.to_owned(),
                            at,
                            latest,
                        });
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
