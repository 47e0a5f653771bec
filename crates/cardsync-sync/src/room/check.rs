//! The validator: compares the shadow (with the update) to the authoritative replica
//! (without it), entry by entry, for everything the update touched.
//!
//! The rules hold no matter who wrote the bytes, a cardsync client or a stock Yjs peer:
//! - viewers change nothing;
//! - cards: the key is a card id, the value a map, `$kind` a kind of the schema that never
//!   changes, `$` keys only the layout's own, every field declared by the kind and stored in
//!   its kind's shape (see `check_card.rs`);
//! - relationships, their properties and sequences: see `check_graph.rs`;
//! - boards, their columns and placements: see `check_board.rs`;
//! - `meta`: only a numeric `schema_version` and recorded schemas (`schema@{version}`, the
//!   room's own for its version, none newer);
//! - no new root types.
//!
//! Removing a whole card, edge or sequence is allowed: it is what undoing its creation does.
//!
//! Nothing here restates the core's rules. Root names and key formats come from
//! [`cardsync_core::layout`], keys are parsed with its canonical parsers, and registers are
//! checked by [`FieldDef::check_register_write`](cardsync_core::FieldDef::check_register_write),
//! the same rule local writes pass: a server and its clients cannot drift apart on what a
//! valid document is.

use std::collections::BTreeSet;

use cardsync_core::{CardDoc, Schema, layout};
use yrs::{Any, Map, MapRef, Out, ReadTxn, Transact, Transaction};

use super::auth::{Permissions, Role};
use super::fixed_ids::FixedIds;
use super::shadow::Touched;
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
    /// set entries (and time-ordered slots) under.
    pub writers: &'a BTreeSet<u64>,
    /// The fixed container ids the room's cards claim (`fixed_ids.rs`).
    pub fixed: &'a FixedIds,
    /// The latest stamp a time-ordered register may take (`None`: no limit).
    pub latest_stamp: Option<u64>,
}

/// One replica, read through one transaction.
pub(super) struct Side<'d> {
    pub txn: Transaction<'d>,
    pub cards: Option<MapRef>,
    pub relationships: Option<MapRef>,
    pub props: Option<MapRef>,
    pub sequences: Option<MapRef>,
    pub boards: Option<MapRef>,
    pub meta: Option<MapRef>,
}

impl<'d> Side<'d> {
    pub(super) fn new(doc: &'d CardDoc) -> Self {
        let txn = doc.yrs_doc().transact();
        Self {
            cards: txn.get_map(layout::CARDS),
            relationships: txn.get_map(layout::RELATIONSHIPS),
            props: txn.get_map(layout::RELATIONSHIP_PROPS),
            sequences: txn.get_map(layout::SEQUENCES),
            boards: txn.get_map(layout::BOARDS),
            meta: txn.get_map(layout::META),
            txn,
        }
    }

    /// The value under `key` of a root map.
    pub fn get(&self, root: &Option<MapRef>, key: &str) -> Option<Out> {
        root.as_ref()?.get(&self.txn, key)
    }

    /// A root entry's value as a map (anything else reads as `None`).
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
    for key in touched.props.keys() {
        check.property(key)?;
    }
    for key in touched.sequences.keys() {
        check.sequence(key)?;
    }
    for key in touched.boards.keys() {
        check.board_entry(key)?;
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
    /// Whether `json` may be recorded as the schema of `version`: it is a schema of that
    /// version; the room's own if the version is the room's; and if older, one the room's
    /// schema is a safe move from. A record is what opening the document compares with
    /// (docs/design.md §3, "Moving to a new schema"), so a record the room's schema could not
    /// safely follow would make the document refuse to open with `unsafe_schema_change`: a
    /// peer could brick it by recording a schema that was never its replica's. A newer one
    /// would make the room's own schema look like a downgrade.
    fn recorded_schema(&self, version: u32, json: &str) -> bool {
        let ours = self.rules.schema;
        match serde_json::from_str::<cardsync_core::Schema>(json) {
            Ok(schema) if schema.version == version => {
                (version < ours.version && ours.unsafe_changes_from(&schema).is_empty())
                    || (version == ours.version && schema == *ours)
            }
            _ => false,
        }
    }

    pub(super) fn meta(&self, key: &str) -> Result<(), Violation> {
        let value = self.new.get(&self.new.meta, key);
        let valid = match (key, value) {
            (_, None) => true,
            (layout::SCHEMA_VERSION, Some(Out::Any(Any::Number(n)))) => is_plain(&Any::Number(n)),
            (_, Some(Out::Any(Any::String(json)))) => layout::parse_schema_key(key)
                .is_some_and(|version| self.recorded_schema(version, &json)),
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
