//! Deleted ranges kept outside yrs.
//!
//! An update may delete items the document does not have yet (they were written by a client
//! whose update is still on its way). yrs would keep those ranges in its store as a "pending
//! delete set" and unwrap a re-encoding of it on every snapshot; the intake keeps them here
//! instead, and hands each range to yrs once the items it names have arrived.

use std::collections::BTreeMap;

use crate::lib0::write_var;

/// Deleted ranges per client, sorted and merged, as `[start, end)` clock pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct DeleteSet(BTreeMap<u64, Vec<(u32, u32)>>);

impl DeleteSet {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The set of `(client, clock, len)` ranges (each `clock + len` fits 32 bits: the screen
    /// checked).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (u64, u32, u32)>) -> Self {
        let mut map: BTreeMap<u64, Vec<(u32, u32)>> = BTreeMap::new();
        for (client, clock, len) in ranges {
            if len > 0 {
                map.entry(client).or_default().push((clock, clock + len));
            }
        }
        for ranges in map.values_mut() {
            ranges.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
            for &(start, end) in ranges.iter() {
                match merged.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => merged.push((start, end)),
                }
            }
            *ranges = merged;
        }
        Self(map)
    }

    fn ranges(&self) -> impl Iterator<Item = (u64, u32, u32)> + '_ {
        self.0.iter().flat_map(|(&client, ranges)| {
            ranges
                .iter()
                .map(move |&(start, end)| (client, start, end - start))
        })
    }

    /// Adds every range of `other`.
    pub fn extend(&mut self, other: &DeleteSet) {
        *self = Self::from_ranges(self.ranges().chain(other.ranges()));
    }

    /// Splits off the ranges below each client's `clock` (what the document holds), leaving
    /// the rest in `self`.
    pub fn take_below(&mut self, clock: impl Fn(u64) -> u32) -> DeleteSet {
        let (now, later) = split(self.ranges(), clock);
        *self = later;
        now
    }

    /// A v1 update holding only these deletions (no structs).
    pub fn update_v1(&self) -> Vec<u8> {
        let mut out = vec![0];
        self.write_v1(&mut out);
        out
    }

    /// Writes the set in lib0 v1 (the tail of a v1 update).
    pub fn write_v1(&self, out: &mut Vec<u8>) {
        write_var(out, self.0.len() as u64);
        for (&client, ranges) in &self.0 {
            write_var(out, client);
            write_var(out, ranges.len() as u64);
            for &(start, end) in ranges {
                write_var(out, start.into());
                write_var(out, (end - start).into());
            }
        }
    }
}

/// Splits ranges into the parts below each client's `clock` and the parts from it on.
pub(super) fn split(
    ranges: impl IntoIterator<Item = (u64, u32, u32)>,
    clock: impl Fn(u64) -> u32,
) -> (DeleteSet, DeleteSet) {
    let (mut now, mut later) = (Vec::new(), Vec::new());
    for (client, start, len) in ranges {
        let (end, have) = (start + len, clock(client));
        if start < have {
            now.push((client, start, end.min(have) - start));
        }
        if end > have {
            let from = start.max(have);
            later.push((client, from, end - from));
        }
    }
    (DeleteSet::from_ranges(now), DeleteSet::from_ranges(later))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_split_at_the_document_clock() {
        let mut set = DeleteSet::from_ranges([(1, 5, 2), (1, 0, 3), (2, 10, 1), (3, 1, 0)]);
        set.extend(&DeleteSet::from_ranges([(1, 2, 4)]));
        assert_eq!(set.0[&1], [(0, 7)]);
        assert!(!set.0.contains_key(&3));
        let now = set.take_below(|client| if client == 1 { 4 } else { 0 });
        assert_eq!(now.0[&1], [(0, 4)]);
        assert!(!now.0.contains_key(&2));
        assert_eq!(set.0[&1], [(4, 7)]);
        assert_eq!(set.0[&2], [(10, 11)]);
        let mut bytes = Vec::new();
        now.write_v1(&mut bytes);
        assert_eq!(bytes, [1, 1, 1, 0, 4]);
    }
}
