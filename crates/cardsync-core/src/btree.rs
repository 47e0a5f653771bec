//! B-tree maps and sets built by insertion rather than `collect()`.
//!
//! Why: `FromIterator` for `BTreeMap` and `BTreeSet` buffers the items and stable-sorts them,
//! and every item type gets its own copy of the standard library's sort (about 2.5 KB of wasm
//! each). Inserting one by one (`Extend`) reuses the insert code the map has anyway, for the
//! same result: on a repeated key the last value wins either way. The reads that build these
//! collections get their keys from yrs maps, so there is no sorted order to exploit.

use std::collections::{BTreeMap, BTreeSet};

/// `items` as a map; a repeated key keeps its last value, as `collect()` would.
pub(crate) fn map_of<K: Ord, V>(items: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, V> {
    let mut map = BTreeMap::new();
    map.extend(items);
    map
}

/// `items` as a set.
pub(crate) fn set_of<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    let mut set = BTreeSet::new();
    set.extend(items);
    set
}
