//! The validator: compares the shadow (with the update) to the authoritative replica
//! (without it), entry by entry, for everything the update touched.
//!
//! The rules hold no matter who wrote the bytes, a cardsync client or a stock Yjs peer:
//! - viewers change nothing;
//! - cards: the key is a card id, the value a map, `$kind` a kind of the schema that never
//!   changes, `$` keys only the layout's own, every field declared by the kind and stored in
//!   its kind's shape (see `check_card.rs`);
//! - relationships: the key parses, the kind is declared, `from`/`kind`/`to` agree with the
//!   key, properties are plain values, and a newly linked edge's endpoints have allowed kinds;
//! - sequences: card id → valid order key;
//! - `meta`: only a numeric `schema_version`;
//! - no new root types.
//!
//! Removing a whole card, edge or sequence is allowed: it is what undoing its creation does.

use std::collections::BTreeSet;

use cardsync_core::{CardDoc, RelationshipKey, Schema, SequenceId, order_key};
use yrs::{Any, Map, MapRef, Out, ReadTxn, Transact, Transaction};

use super::auth::{Permissions, Role};
use super::shadow::{Touch, Touched, roots};
use super::violation::Violation;

/// Who is writing, and under which rules.
pub(crate) struct Rules<'a> {
    /// The document schema.
    pub schema: &'a Schema,
    /// The room's policy.
    pub permissions: &'a Permissions,
    /// The writer's role.
    pub role: Role,
    /// Client ids whose clocks the update adds: the only keys it may write counter, max and
    /// set entries under.
    pub writers: &'a BTreeSet<u64>,
}

/// One replica, read through one transaction.
pub(super) struct Side<'d> {
    pub txn: Transaction<'d>,
    pub cards: Option<MapRef>,
    pub relationships: Option<MapRef>,
    pub sequences: Option<MapRef>,
    pub meta: Option<MapRef>,
}

impl<'d> Side<'d> {
    fn new(doc: &'d CardDoc) -> Self {
        let txn = doc.yrs_doc().transact();
        Self {
            cards: txn.get_map(roots::CARDS),
            relationships: txn.get_map(roots::RELATIONSHIPS),
            sequences: txn.get_map(roots::SEQUENCES),
            meta: txn.get_map(roots::META),
            txn,
        }
    }

    /// The value under `key` of a root map.
    pub fn get(&self, root: &Option<MapRef>, key: &str) -> Option<Out> {
        root.as_ref()?.get(&self.txn, key)
    }

    /// A map entry's value as a map (anything else reads as `None`).
    pub fn map(&self, root: &Option<MapRef>, key: &str) -> Option<MapRef> {
        match self.get(root, key)? {
            Out::YMap(map) => Some(map),
            _ => None,
        }
    }
}

/// Both replicas and the rules.
pub(super) struct Check<'a, 'd> {
    pub rules: &'a Rules<'a>,
    pub old: Side<'d>,
    pub new: Side<'d>,
}

/// Checks everything `touched` names. `old` is the authoritative replica, `new` the shadow.
pub(crate) fn check(
    rules: &Rules<'_>,
    old: &CardDoc,
    new: &CardDoc,
    touched: &Touched,
    foreign_roots: &[String],
) -> Result<(), Violation> {
    if touched.is_empty() && foreign_roots.is_empty() {
        return Ok(());
    }
    if !rules.role.can_write() {
        return Err(Violation::ReadOnly { role: rules.role });
    }
    if let Some(root) = foreign_roots.first() {
        return Err(Violation::UnknownRoot(root.clone()));
    }
    let check = Check {
        rules,
        old: Side::new(old),
        new: Side::new(new),
    };
    for (key, touch) in &touched.cards {
        check.card(key, touch)?;
    }
    for key in touched.relationships.keys() {
        check.edge(key)?;
    }
    for (key, touch) in &touched.sequences {
        check.sequence(key, touch)?;
    }
    for key in &touched.meta {
        check.meta(key)?;
    }
    Ok(())
}

/// A plain value: what registers, properties and entries may hold.
pub(super) fn is_plain(any: &Any) -> bool {
    match any {
        Any::Null | Any::Bool(_) | Any::String(_) => true,
        Any::Number(yrs::Number::Int(_)) => true,
        Any::Number(yrs::Number::Float(f)) => f.is_finite(),
        _ => false,
    }
}

impl Check<'_, '_> {
    fn edge(&self, key: &str) -> Result<(), Violation> {
        let root = roots::RELATIONSHIPS;
        let parsed: RelationshipKey = key.parse().map_err(|_| Violation::BadKey {
            root,
            key: key.to_owned(),
        })?;
        let Some(kind) = self.rules.schema.relationships.get(&parsed.kind) else {
            return Err(Violation::UnknownRelationshipKind { kind: parsed.kind });
        };
        let bad = |entry: &str| Violation::BadEdgeEntry {
            key: key.to_owned(),
            entry: entry.to_owned(),
        };
        let edge = match self.new.get(&self.new.relationships, key) {
            None => return Ok(()),
            Some(Out::YMap(map)) => map,
            Some(_) => {
                return Err(Violation::NotAMap {
                    root,
                    key: key.to_owned(),
                });
            }
        };
        let txn = &self.new.txn;
        let expect = [
            ("from", parsed.from.to_string()),
            ("kind", parsed.kind.clone()),
            ("to", parsed.to.to_string()),
        ];
        for (entry, want) in &expect {
            match edge.get(txn, entry) {
                Some(Out::Any(Any::String(s))) if *s == **want => {}
                _ => return Err(bad(entry)),
            }
        }
        for (entry, value) in edge.iter(txn) {
            match (entry, value) {
                ("from" | "kind" | "to", _) => {}
                ("removed", Out::Any(Any::Bool(_))) => {}
                ("props", Out::YMap(props)) => {
                    if let Some((name, _)) = props.iter(txn).find(|(_, v)| match v {
                        Out::Any(any) => !is_plain(any),
                        _ => true,
                    }) {
                        return Err(bad(&format!("props.{name}")));
                    }
                }
                (other, _) => return Err(bad(other)),
            }
        }
        let linked = |side: &Side<'_>| {
            side.map(&side.relationships, key).is_some_and(|m| {
                !matches!(m.get(&side.txn, "removed"), Some(Out::Any(Any::Bool(true))))
            })
        };
        if linked(&self.new) && !linked(&self.old) {
            for (end, card, allowed) in [("from", parsed.from, &kind.from), ("to", parsed.to, &kind.to)]
            {
                let card_kind = self
                    .new
                    .map(&self.new.cards, &card.to_string())
                    .and_then(|m| match m.get(txn, "$kind") {
                        Some(Out::Any(Any::String(k))) => Some(k.to_string()),
                        _ => None,
                    });
                // A missing endpoint is a modelled state (a dangling edge, hidden by reads).
                if let Some(card_kind) = card_kind {
                    if !allowed.is_empty() && !allowed.contains(&card_kind) {
                        return Err(Violation::EndpointKind {
                            key: key.to_owned(),
                            end,
                            kind: card_kind,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn sequence(&self, key: &str, touch: &Touch) -> Result<(), Violation> {
        let root = roots::SEQUENCES;
        if key.parse::<SequenceId>().is_err() {
            return Err(Violation::BadKey {
                root,
                key: key.to_owned(),
            });
        }
        let map = match self.new.get(&self.new.sequences, key) {
            None => return Ok(()),
            Some(Out::YMap(map)) => map,
            Some(_) => {
                return Err(Violation::NotAMap {
                    root,
                    key: key.to_owned(),
                });
            }
        };
        let txn = &self.new.txn;
        let entries: Vec<String> = if touch.whole {
            map.keys(txn).map(str::to_owned).collect()
        } else {
            touch.keys.iter().cloned().collect()
        };
        for entry in entries {
            let valid = entry.parse::<cardsync_core::CardId>().is_ok()
                && match map.get(txn, &entry) {
                    None => true,
                    Some(Out::Any(Any::String(order))) => order_key::is_valid(&order),
                    Some(_) => false,
                };
            if !valid {
                return Err(Violation::BadSequenceEntry {
                    sequence: key.to_owned(),
                    key: entry,
                });
            }
        }
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<(), Violation> {
        let value = self.new.get(&self.new.meta, key);
        let valid = match (key, value) {
            (_, None) => true,
            ("schema_version", Some(Out::Any(Any::Number(n)))) => is_plain(&Any::Number(n)),
            _ => false,
        };
        if valid {
            Ok(())
        } else {
            Err(Violation::BadMeta {
                key: key.to_owned(),
            })
        }
    }
}
