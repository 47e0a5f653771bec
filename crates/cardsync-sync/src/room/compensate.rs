//! Compensation: how a stock Yjs peer's invalid update is undone instead of refused.
//!
//! A cardsync client rolls back what the room rejects (docs/design.md §5). A stock `y-websocket`
//! client cannot: it ignores the `Reject`, keeps the refused change, and builds every later
//! change on it, so each later update starts after clocks the room never accepted and is
//! refused too. One refused write used to lose every later write of that client, silently.
//!
//! So for a peer admitted without a cardsync hello, the room accepts the update and writes, in
//! the same log append, a change of its own that puts back what the update broke:
//! - an entry the update created that breaks a rule (a card without a `$kind`, a text field
//!   written as a plain string, `$created` as a `Y.Map`, a key that is not a canonical id) is
//!   removed whole;
//! - in a card that existed before, each key that breaks a rule gets its previous value back
//!   (a register its previous value, so a merged `todo → done` becomes `todo` again), entry by
//!   entry inside counter, max and set maps, so their identity and concurrent entries stay
//!   (first only entries under other replicas' keys, so the writer's own valid entries stay;
//!   then, if the field still breaks a rule, every changed entry);
//! - an entry the update replaced whole, or that still breaks a rule after its keys were put
//!   back, is put back whole, as a copy of its previous value.
//!
//! The change is written as [`COMPENSATOR_CLIENT_ID`](super::shadow::COMPENSATOR_CLIENT_ID)
//! on the shadow, which already holds the update, and it is later in causal order than the
//! update, so it wins every register and map-key conflict on every replica, the stock one
//! included. The
//! loop below re-runs the validator after each round of repairs and only ends when every
//! entry the update touched passes or was put back whole (previous values are valid: the
//! authoritative replica only holds validated state). Each round either repairs a key not
//! repaired before or puts an entry back whole, and entries put back whole are not checked
//! again, so it ends.
//!
//! Content in a root that is not cardsync's is emptied: a Yjs root cannot be removed, but
//! everything in it can, so what stays is a name with nothing in it.
//!
//! What is never compensated, and stays a plain refusal: updates from viewers (a viewer's
//! change never enters the log), updates that do not decode or wait for missing clocks, and
//! anything from a peer that said hello.

use std::collections::BTreeSet;

use cardsync_core::layout::{parse_replica_key, parse_set_entry};
use cardsync_core::{CardDoc, DecodeError, layout, merge_updates_v1};
use yrs::branch::BranchPtr;
use yrs::{Array, ArrayRef, Map, MapRef, Out, ReadTxn, Transact};

use super::check::{Check, Rules, Side};
use super::restore::{align_entries, put_back};
use super::shadow::{Shadow, Touched};
use super::violation::Violation;

/// The room's own change undoing an update's invalid effects, and what they were.
#[derive(Debug)]
pub(super) struct Compensation {
    /// A v1 update written as the room's reserved client id.
    pub update: Vec<u8>,
    /// Each rule the update broke, in the order the repairs found them.
    pub violations: Vec<Violation>,
}

/// A root map of the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Root {
    Cards,
    Relationships,
    Props,
    Sequences,
    Boards,
    Meta,
}

impl Root {
    fn name(self) -> &'static str {
        match self {
            Root::Cards => layout::CARDS,
            Root::Relationships => layout::RELATIONSHIPS,
            Root::Props => layout::RELATIONSHIP_PROPS,
            Root::Sequences => layout::SEQUENCES,
            Root::Boards => layout::BOARDS,
            Root::Meta => layout::META,
        }
    }
}

/// One thing to put back.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Repair {
    /// A whole entry of a root map.
    Entry(Root, String),
    /// One key of a card that existed before the update: `(card, key, how)`.
    CardKey(String, String, Depth),
}

/// How much of a counter, max or set map to put back. Other values are put back whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Depth {
    /// Only entries under other replicas' keys: the writer's own entries stay, so a valid
    /// increment beside an invalid one survives.
    Foreign,
    /// Every entry that changed.
    All,
}

/// An entry the validator refuses.
struct Failure {
    root: Root,
    entry: String,
    violation: Violation,
}

/// The key of a card a violation names, if it names one.
fn key_of(violation: &Violation) -> Option<String> {
    match violation {
        Violation::FieldForbidden { field, .. }
        | Violation::UnknownField { field, .. }
        | Violation::WrongShape { field, .. }
        | Violation::TypeMismatch { field, .. }
        | Violation::NotFinite { field, .. }
        | Violation::BadShape { field, .. }
        | Violation::StampAhead { field, .. }
        | Violation::MissingRequired { field, .. }
        | Violation::InvalidTransition { field, .. }
        | Violation::ForeignEntry { field, .. }
        | Violation::CounterRange { field, .. }
        | Violation::MaxDecreased { field, .. }
        | Violation::LateContainer { field, .. }
        | Violation::ContainerCollision { field, .. } => Some(field.clone()),
        // A replaced card (no field) is put back whole; a replaced field container gets its
        // previous value back.
        Violation::ContainerReplaced { field, .. } => (!field.is_empty()).then(|| field.clone()),
        Violation::BadBookkeeping { key, .. } => Some(key.clone()),
        Violation::MissingKind { .. }
        | Violation::UnknownKind { .. }
        | Violation::KindChanged { .. } => Some(layout::KIND.to_owned()),
        Violation::ReadOnly { .. }
        | Violation::ForeignClient { .. }
        | Violation::ReservedClient { .. }
        | Violation::BadKey { .. }
        | Violation::NotAMap { .. }
        | Violation::UnknownRelationshipKind { .. }
        | Violation::BadEdgeEntry { .. }
        | Violation::EndpointKind { .. }
        | Violation::BadSequenceEntry { .. }
        | Violation::BadBoardEntry { .. }
        | Violation::UnknownBoardKind { .. }
        | Violation::BoardKindChanged { .. }
        | Violation::UnknownBoard { .. }
        | Violation::UnknownColumn { .. }
        | Violation::CardNotAllowed { .. }
        | Violation::BadMeta { .. }
        | Violation::UnknownRoot(_) => None,
    }
}

/// Every touched entry the validator refuses, except those already put back whole.
fn failures(
    rules: &Rules<'_>,
    old: &CardDoc,
    new: &CardDoc,
    touched: &Touched,
    settled: &BTreeSet<(Root, String)>,
) -> Vec<Failure> {
    let check = Check {
        rules,
        old: Side::new(old),
        new: Side::new(new),
    };
    let mut found = Vec::new();
    let mut note = |root: Root, entry: &str, result: Result<(), Violation>| {
        if let Err(violation) = result
            && !settled.contains(&(root, entry.to_owned()))
        {
            let entry = entry.to_owned();
            found.push(Failure {
                root,
                entry,
                violation,
            });
        }
    };
    for (key, touch) in &touched.cards {
        note(Root::Cards, key, check.card(key, touch));
    }
    for key in touched.relationships.keys() {
        note(Root::Relationships, key, check.edge(key));
    }
    for key in touched.props.keys() {
        note(Root::Props, key, check.property(key));
    }
    for key in touched.sequences.keys() {
        note(Root::Sequences, key, check.sequence(key));
    }
    for key in touched.boards.keys() {
        note(Root::Boards, key, check.board_entry(key));
    }
    for key in &touched.meta {
        note(Root::Meta, key, check.meta(key));
    }
    found
}

/// How to repair a failure: a key of a card that existed and was not replaced, unless that key
/// was repaired already; otherwise the whole entry.
fn repair_of(
    failure: &Failure,
    old: &CardDoc,
    touched: &Touched,
    done: &BTreeSet<Repair>,
) -> Repair {
    if failure.root == Root::Cards {
        let replaced = touched.cards.get(&failure.entry).is_some_and(|t| t.whole);
        let existed = {
            let side = Side::new(old);
            side.map(&side.cards, &failure.entry).is_some()
        };
        if existed
            && !replaced
            && let Some(key) = key_of(&failure.violation)
        {
            for depth in [Depth::Foreign, Depth::All] {
                let repair = Repair::CardKey(failure.entry.clone(), key.clone(), depth);
                if !done.contains(&repair) {
                    return repair;
                }
            }
        }
    }
    Repair::Entry(failure.root, failure.entry.clone())
}

/// Empties roots that are not cardsync's: a Yjs root cannot be removed, but everything in it
/// can, map entries and sequence content alike (a root an update made is of no known type
/// until someone reads it as one, so both are emptied). What stays is a name with nothing in
/// it, which no reader sees. Returns the update it made.
fn empty_roots(shadow: &mut Shadow, names: &[String]) -> Option<Vec<u8>> {
    shadow.write(|txn| {
        let branches: Vec<BranchPtr> = txn
            .root_refs()
            .filter(|(name, _)| names.iter().any(|n| n == name))
            .filter_map(|(_, root)| root.try_branch().map(BranchPtr::from))
            .collect();
        for branch in branches {
            MapRef::from(branch).clear(txn);
            let len = branch.content_len();
            if len > 0 {
                ArrayRef::from(branch).remove_range(txn, 0, len);
            }
        }
    })
}

/// Writes one round of repairs to the shadow; returns the update it made.
fn write(
    shadow: &mut Shadow,
    old: &CardDoc,
    repairs: &[Repair],
    writers: &BTreeSet<u64>,
) -> Option<Vec<u8>> {
    let target = |root: Root| -> MapRef { shadow.doc().yrs_doc().get_or_insert_map(root.name()) };
    let roots = [
        Root::Cards,
        Root::Relationships,
        Root::Props,
        Root::Sequences,
        Root::Boards,
        Root::Meta,
    ]
    .map(|root| (root, target(root)));
    let into = |root: Root| {
        roots
            .iter()
            .find(|(r, _)| *r == root)
            .map(|(_, m)| m.clone())
    };
    let otx = old.yrs_doc().transact();
    let before =
        |root: Root, key: &str| -> Option<Out> { otx.get_map(root.name())?.get(&otx, key) };
    shadow.write(|txn| {
        for repair in repairs {
            match repair {
                Repair::Entry(root, key) => {
                    if let Some(map) = into(*root) {
                        put_back(txn, &map, key, before(*root, key).as_ref(), &otx);
                    }
                }
                Repair::CardKey(card, key, depth) => {
                    let cards = into(Root::Cards);
                    let Some(Out::YMap(now)) = cards.and_then(|c| c.get(txn, card)) else {
                        continue;
                    };
                    let was = match before(Root::Cards, card) {
                        Some(Out::YMap(was)) => was.get(&otx, key),
                        _ => None,
                    };
                    match (&was, now.get(txn, key)) {
                        (Some(Out::YMap(was)), Some(Out::YMap(inner))) => {
                            let foreign = |entry: &str| {
                                let client = parse_replica_key(entry)
                                    .or_else(|| parse_set_entry(entry).map(|(_, c)| c));
                                !client.is_some_and(|c| writers.contains(&c))
                            };
                            let all = |_: &str| true;
                            match depth {
                                Depth::Foreign => align_entries(txn, &inner, was, &otx, foreign),
                                Depth::All => align_entries(txn, &inner, was, &otx, all),
                            }
                        }
                        _ => put_back(txn, &now, key, was.as_ref(), &otx),
                    }
                }
            }
        }
    })
}

/// Undoes every invalid effect of the update the shadow just applied (`touched` is what it
/// touched; `old` the authoritative replica without it). See the module docs of `room/compensate.rs`.
pub(super) fn compensate(
    shadow: &mut Shadow,
    old: &CardDoc,
    rules: &Rules<'_>,
    touched: &Touched,
    foreign_roots: &[String],
) -> Result<Compensation, DecodeError> {
    let mut done: BTreeSet<Repair> = BTreeSet::new();
    let mut settled: BTreeSet<(Root, String)> = BTreeSet::new();
    let mut updates: Vec<Vec<u8>> = Vec::new();
    let mut violations: Vec<Violation> = Vec::new();
    if !foreign_roots.is_empty() {
        updates.extend(empty_roots(shadow, foreign_roots));
        violations.extend(foreign_roots.iter().cloned().map(Violation::UnknownRoot));
    }
    loop {
        let found = failures(rules, old, shadow.doc(), touched, &settled);
        if found.is_empty() {
            break;
        }
        let mut round = Vec::new();
        for failure in found {
            let repair = repair_of(&failure, old, touched, &done);
            if let Repair::Entry(root, entry) = &repair {
                settled.insert((*root, entry.clone()));
            }
            done.insert(repair.clone());
            round.push(repair);
            violations.push(failure.violation);
        }
        updates.extend(write(shadow, old, &round, rules.writers));
    }
    let parts: Vec<&[u8]> = updates.iter().map(Vec::as_slice).collect();
    let update = match parts.as_slice() {
        [one] => one.to_vec(),
        _ => merge_updates_v1(&parts)?,
    };
    Ok(Compensation { update, violations })
}
