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

use cardsync_core::layout::{self, FROM, KIND, REL_KIND, REMOVED, SequenceKey, TO};
use cardsync_core::{RelationshipKey, order_key};
use yrs::{Any, Map, Out};

use super::check::{Check, Side, is_plain};
use super::violation::Violation;

/// A key of `root` that the layout's canonical parsers refuse.
fn bad_key(root: &'static str, key: &str) -> Violation {
    Violation::BadKey {
        root,
        key: key.to_owned(),
    }
}

/// The relationship, if the schema declares its kind.
fn declared(check: &Check<'_, '_>, edge: RelationshipKey) -> Result<RelationshipKey, Violation> {
    if !check.rules.schema.relationships.contains_key(&edge.kind) {
        return Err(Violation::UnknownRelationshipKind { kind: edge.kind });
    }
    Ok(edge)
}

/// Whether the edge is present and linked on one side.
fn linked(side: &Side<'_>, key: &str) -> bool {
    side.get(&side.relationships, key)
        .is_some_and(|value| layout::edge_removed(&value) == Some(false))
}

impl Check<'_, '_> {
    pub(super) fn edge(&self, key: &str) -> Result<(), Violation> {
        let root = layout::RELATIONSHIPS;
        let parsed = RelationshipKey::from_key(key).ok_or_else(|| bad_key(root, key))?;
        let parsed = declared(self, parsed)?;
        let bad = |entry: &str| Violation::BadEdgeEntry {
            key: key.to_owned(),
            entry: entry.to_owned(),
        };
        let value = match self.new.get(&self.new.relationships, key) {
            None => return Ok(()),
            Some(Out::Any(Any::Map(value))) => value,
            Some(_) => {
                return Err(Violation::NotAMap {
                    root,
                    key: key.to_owned(),
                });
            }
        };
        let expect = [
            (FROM, parsed.from.to_string()),
            (REL_KIND, parsed.kind.clone()),
            (TO, parsed.to.to_string()),
        ];
        for (entry, want) in &expect {
            match value.get(*entry) {
                Some(Any::String(s)) if **s == **want => {}
                _ => return Err(bad(entry)),
            }
        }
        for (entry, v) in value.iter() {
            let valid = match entry.as_str() {
                FROM | REL_KIND | TO => true,
                REMOVED => matches!(v, Any::Bool(_)),
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
                    .and_then(|m| match m.get(&self.new.txn, KIND) {
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
        let root = layout::RELATIONSHIP_PROPS;
        let (edge, name) = layout::parse_prop_key(key).ok_or_else(|| bad_key(root, key))?;
        let edge = declared(self, edge)?;
        match self.new.get(&self.new.props, key) {
            None => Ok(()),
            Some(Out::Any(any)) if !name.is_empty() && is_plain(&any) => Ok(()),
            Some(_) => Err(Violation::BadEdgeEntry {
                key: edge.to_string(),
                entry: name.to_owned(),
            }),
        }
    }

    pub(super) fn sequence(&self, key: &str) -> Result<(), Violation> {
        let value = self.new.get(&self.new.sequences, key);
        let valid = match layout::parse_sequence_key(key) {
            None => false,
            Some(SequenceKey::Marker(_)) => {
                matches!(value, None | Some(Out::Any(Any::Bool(true))))
            }
            Some(SequenceKey::Entry(..)) => match value {
                None => true,
                Some(Out::Any(Any::String(order))) => order_key::is_valid(&order),
                Some(_) => false,
            },
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
