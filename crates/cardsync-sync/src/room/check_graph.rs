//! Rules for relationships, their properties and sequences, in the flat layout of
//! `cardsync_core` (no nested containers under keys two peers may write at once):
//! - `relationships`: `{from}:{kind}:{to}` (canonical ids, a declared kind) → the plain map
//!   `{from, kind, to, removed}` agreeing with its key; when an edge becomes linked, an
//!   endpoint card that exists must be of a kind the relationship allows (a missing one is a
//!   modelled state: a dangling edge, hidden by reads);
//! - `relationship_props`: `{edge key}\u{1f}{name}` → a plain, finite value;
//! - `sequences`: `{sequence}` → `true`, and `{sequence}:{card}` → a valid order key.
//!
//! Removing any of these entries is allowed: it is what undoing their creation does.

use cardsync_core::{CardId, RelationshipKey, SequenceId, order_key};
use yrs::{Any, Map, Out};

use super::check::{Check, Side, canonical, is_plain};
use super::shadow::roots;
use super::violation::Violation;

/// Separates the relationship key from the property name in `relationship_props`.
const PROP_SEPARATOR: char = '\u{1f}';

/// A relationship key, if canonical and of a declared kind.
fn edge_key(check: &Check<'_, '_>, key: &str) -> Result<RelationshipKey, Violation> {
    let parsed: RelationshipKey = canonical(key).ok_or_else(|| Violation::BadKey {
        root: roots::RELATIONSHIPS,
        key: key.to_owned(),
    })?;
    if !check.rules.schema.relationships.contains_key(&parsed.kind) {
        return Err(Violation::UnknownRelationshipKind { kind: parsed.kind });
    }
    Ok(parsed)
}

/// Whether the edge is present and linked on one side.
fn linked(side: &Side<'_>, key: &str) -> bool {
    match side.get(&side.relationships, key) {
        Some(Out::Any(Any::Map(value))) => value.get("removed") != Some(&Any::Bool(true)),
        _ => false,
    }
}

impl Check<'_, '_> {
    pub(super) fn edge(&self, key: &str) -> Result<(), Violation> {
        let parsed = edge_key(self, key)?;
        let bad = |entry: &str| Violation::BadEdgeEntry {
            key: key.to_owned(),
            entry: entry.to_owned(),
        };
        let value = match self.new.get(&self.new.relationships, key) {
            None => return Ok(()),
            Some(Out::Any(Any::Map(value))) => value,
            Some(_) => {
                return Err(Violation::NotAMap {
                    root: roots::RELATIONSHIPS,
                    key: key.to_owned(),
                });
            }
        };
        let expect = [
            ("from", parsed.from.to_string()),
            ("kind", parsed.kind.clone()),
            ("to", parsed.to.to_string()),
        ];
        for (entry, want) in &expect {
            match value.get(*entry) {
                Some(Any::String(s)) if **s == **want => {}
                _ => return Err(bad(entry)),
            }
        }
        for (entry, v) in value.iter() {
            let valid = match entry.as_str() {
                "from" | "kind" | "to" => true,
                "removed" => matches!(v, Any::Bool(_)),
                _ => false,
            };
            if !valid {
                return Err(bad(entry));
            }
        }
        if linked(&self.new, key) && !linked(&self.old, key) {
            let kind = &self.rules.schema.relationships[&parsed.kind];
            for (end, card, allowed) in [
                ("from", parsed.from, &kind.from),
                ("to", parsed.to, &kind.to),
            ] {
                let card_kind = self
                    .new
                    .map(&self.new.cards, &card.to_string())
                    .and_then(|m| match m.get(&self.new.txn, "$kind") {
                        Some(Out::Any(Any::String(k))) => Some(k.to_string()),
                        _ => None,
                    });
                if let Some(card_kind) = card_kind
                    && !allowed.is_empty()
                    && !allowed.contains(&card_kind)
                {
                    return Err(Violation::EndpointKind {
                        key: key.to_owned(),
                        end,
                        kind: card_kind,
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn property(&self, key: &str) -> Result<(), Violation> {
        let Some((edge, name)) = key.split_once(PROP_SEPARATOR) else {
            return Err(Violation::BadKey {
                root: roots::RELATIONSHIP_PROPS,
                key: key.to_owned(),
            });
        };
        edge_key(self, edge)?;
        match self.new.get(&self.new.props, key) {
            None => Ok(()),
            Some(Out::Any(any)) if !name.is_empty() && is_plain(&any) => Ok(()),
            Some(_) => Err(Violation::BadEdgeEntry {
                key: edge.to_owned(),
                entry: name.to_owned(),
            }),
        }
    }

    pub(super) fn sequence(&self, key: &str) -> Result<(), Violation> {
        let value = self.new.get(&self.new.sequences, key);
        let valid = match key.split_once(':') {
            None => {
                canonical::<SequenceId>(key).is_some()
                    && matches!(value, None | Some(Out::Any(Any::Bool(true))))
            }
            Some((sequence, card)) => {
                canonical::<SequenceId>(sequence).is_some()
                    && canonical::<CardId>(card).is_some()
                    && match value {
                        None => true,
                        Some(Out::Any(Any::String(order))) => order_key::is_valid(&order),
                        Some(_) => false,
                    }
            }
        };
        if valid {
            Ok(())
        } else {
            Err(Violation::BadSequenceEntry {
                key: key.to_owned(),
            })
        }
    }
}
