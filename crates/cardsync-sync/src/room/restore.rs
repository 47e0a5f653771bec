//! Putting entries back: copies values of the authoritative replica into the shadow.
//!
//! A compensation (`compensate.rs`) undoes what a stock peer's update broke by writing the
//! entry's previous value again, or removing the entry if it had none. yrs cannot re-insert an
//! existing shared type, so a text or map that the update replaced comes back as a *copy*:
//! same content (text with its formatting, maps entry by entry), new identity. Where the
//! update changed entries *inside* an existing counter, max or set map, [`align_entries`]
//! rewrites only those entries in place instead, so the map keeps its identity and concurrent
//! writes of other replicas into it still merge.
//!
//! Only the layout's shapes occur in a valid document (plain values, texts, maps of plain
//! values, maps of those), and the values copied here come from the authoritative replica,
//! which holds only validated state; anything else is removed rather than copied.

use std::collections::BTreeSet;

use yrs::types::Delta;
use yrs::types::text::YChange;
use yrs::{In, Map, MapPrelim, MapRef, Out, ReadTxn, Text, TextPrelim, TransactionMut};

/// Sets `key` of `into` to a copy of `old` (read through `otx`), or removes it if `old` is
/// `None`.
pub(super) fn put_back(
    txn: &mut TransactionMut<'_>,
    into: &MapRef,
    key: &str,
    old: Option<&Out>,
    otx: &impl ReadTxn,
) {
    match old {
        None => {
            into.remove(txn, key);
        }
        Some(Out::Any(any)) => {
            into.insert(txn, key, In::Any(any.clone()));
        }
        Some(Out::YText(text)) => {
            let copy = into.insert(txn, key, TextPrelim::new(""));
            let delta =
                text.diff(otx, YChange::identity)
                    .into_iter()
                    .filter_map(|chunk| match chunk.insert {
                        Out::Any(any) => Some(Delta::Inserted(In::Any(any), chunk.attributes)),
                        _ => None,
                    });
            copy.apply_delta(txn, delta);
        }
        Some(Out::YMap(map)) => {
            let copy = into.insert(txn, key, MapPrelim::default());
            for (k, v) in map.iter(otx) {
                put_back(txn, &copy, k, Some(&v), otx);
            }
        }
        Some(_) => {
            into.remove(txn, key);
        }
    }
}

/// Whether two entries hold the same plain value (shared types never compare equal).
fn same(a: Option<&Out>, b: Option<&Out>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Out::Any(a)), Some(Out::Any(b))) => a == b,
        _ => false,
    }
}

/// Makes the entries of `into` (a counter, max or set map in the shadow) that `pick` selects
/// equal to those of `old` (the same field in the authoritative replica), touching only
/// entries that differ.
pub(super) fn align_entries(
    txn: &mut TransactionMut<'_>,
    into: &MapRef,
    old: &MapRef,
    otx: &impl ReadTxn,
    pick: impl Fn(&str) -> bool,
) {
    let mut keys: BTreeSet<String> = into.keys(txn).map(str::to_owned).collect();
    keys.extend(old.keys(otx).map(str::to_owned));
    for key in keys.into_iter().filter(|k| pick(k)) {
        let before = old.get(otx, &key);
        let after = into.get(txn, &key);
        if !same(before.as_ref(), after.as_ref()) {
            put_back(txn, into, &key, before.as_ref(), otx);
        }
    }
}
