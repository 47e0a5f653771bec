//! The in-memory order of one sequence, kept in step with its yrs map.
//!
//! Reading a sequence's order must not sort 10k keys, and placing a card at visible index `i`
//! must find its neighbours' keys without walking the list: both would break the ≤ 5 µs per
//! move budget (docs/design.md §3). So each sequence keeps a sorted list of `(key, card)` entries in
//! blocks of bounded size, each block counting its visible entries; rank lookups skip whole
//! blocks. Entries for cards that are deleted or not (yet) known are kept but hidden, so that
//! restoring a card, or its late arrival, puts it back where its key says.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ids::CardId;
use crate::order_key;

const BLOCK: usize = 128;

#[derive(Clone, Debug)]
struct Entry {
    key: Arc<str>,
    card: CardId,
    hidden: bool,
}

impl Entry {
    fn sort_key(&self) -> (&str, CardId) {
        (&self.key, self.card)
    }
}

#[derive(Clone, Debug, Default)]
struct Block {
    entries: Vec<Entry>,
    visible: usize,
}

/// The sorted, partly hidden order of one sequence.
#[derive(Clone, Debug, Default)]
pub(crate) struct OrderIndex {
    blocks: Vec<Block>,
    /// Each card's key and whether its entry is hidden: a card's visibility is known without
    /// a search of the blocks, so the observer's repeat of a local write, and the placement
    /// of a card that is not in this list, cost a hash lookup instead of a `locate`.
    keys: HashMap<CardId, (Arc<str>, bool)>,
    visible: usize,
}

impl OrderIndex {
    /// Number of visible entries.
    pub fn visible_len(&self) -> usize {
        self.visible
    }

    /// Whether no card has an entry.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the card has an entry (visible or hidden).
    pub fn contains(&self, card: CardId) -> bool {
        self.keys.contains_key(&card)
    }

    fn locate(&self, key: &str, card: CardId) -> (usize, Result<usize, usize>) {
        let probe = (key, card);
        // First block whose last entry is >= probe.
        let b = self
            .blocks
            .partition_point(|blk| blk.entries.last().is_some_and(|e| e.sort_key() < probe));
        let b = b.min(self.blocks.len().saturating_sub(1));
        let pos = self.blocks.get(b).map_or(Err(0), |blk| {
            blk.entries.binary_search_by(|e| e.sort_key().cmp(&probe))
        });
        (b, pos)
    }

    /// Sets a card's key (insert or move), with its visibility.
    pub fn upsert(&mut self, card: CardId, key: Arc<str>, hidden: bool) {
        // Local writes update the index at once and the observer repeats it at commit.
        if self.keys.get(&card).is_some_and(|(k, _)| *k == key) {
            self.set_hidden(card, hidden);
            return;
        }
        self.remove(card);
        self.keys.insert(card, (key.clone(), hidden));
        if self.blocks.is_empty() {
            self.blocks.push(Block::default());
        }
        let (b, pos) = self.locate(&key, card);
        let at = pos.unwrap_or_else(|at| at);
        let block = &mut self.blocks[b];
        block.entries.insert(at, Entry { key, card, hidden });
        if !hidden {
            block.visible += 1;
            self.visible += 1;
        }
        if block.entries.len() > 2 * BLOCK {
            let tail = block.entries.split_off(BLOCK);
            let tail_visible = tail.iter().filter(|e| !e.hidden).count();
            block.visible -= tail_visible;
            self.blocks.insert(
                b + 1,
                Block {
                    entries: tail,
                    visible: tail_visible,
                },
            );
        }
    }

    /// Removes a card's entry, if any.
    pub fn remove(&mut self, card: CardId) {
        let Some((key, _)) = self.keys.remove(&card) else {
            return;
        };
        let (b, pos) = self.locate(&key, card);
        if let Ok(at) = pos {
            let block = &mut self.blocks[b];
            if !block.entries.remove(at).hidden {
                block.visible -= 1;
                self.visible -= 1;
            }
            if block.entries.is_empty() && self.blocks.len() > 1 {
                self.blocks.remove(b);
            }
        }
    }

    /// Shows or hides a card's entry (card deleted, restored, created late).
    pub fn set_hidden(&mut self, card: CardId, hidden: bool) {
        let key = match self.keys.get_mut(&card) {
            Some((_, was)) if *was == hidden => return,
            Some((key, was)) => {
                *was = hidden;
                key.clone()
            }
            None => return,
        };
        if let (b, Ok(at)) = self.locate(&key, card) {
            let block = &mut self.blocks[b];
            let entry = &mut block.entries[at];
            if entry.hidden != hidden {
                entry.hidden = hidden;
                if hidden {
                    block.visible -= 1;
                    self.visible -= 1;
                } else {
                    block.visible += 1;
                    self.visible += 1;
                }
            }
        }
    }

    /// The keys around visible position `index` as if `skip` were not in the list: the key of
    /// the visible entry before it and of the visible entry at it.
    pub fn neighbours(&self, index: usize, skip: Option<CardId>) -> (Option<&str>, Option<&str>) {
        let before = index.checked_sub(1).and_then(|i| self.nth_visible(i, skip));
        let at = self.nth_visible(index, skip);
        (before.map(|e| &*e.key), at.map(|e| &*e.key))
    }

    fn nth_visible(&self, mut n: usize, skip: Option<CardId>) -> Option<&Entry> {
        // The block holding `skip`, when that entry is visible and so counted in `visible`.
        let skip_block = skip.and_then(|card| {
            let (key, hidden) = self.keys.get(&card)?;
            if *hidden {
                return None;
            }
            let (b, at) = self.locate(key, card);
            (!self.blocks[b].entries[at.ok()?].hidden).then_some(b)
        });
        for (i, block) in self.blocks.iter().enumerate() {
            let count = block.visible - usize::from(skip_block == Some(i));
            if n >= count {
                n -= count;
                continue;
            }
            return block
                .entries
                .iter()
                .filter(|e| !e.hidden && Some(e.card) != skip)
                .nth(n);
        }
        None
    }

    /// Visible cards in order.
    pub fn visible(&self) -> impl Iterator<Item = CardId> + '_ {
        self.blocks
            .iter()
            .flat_map(|b| &b.entries)
            .filter(|e| !e.hidden)
            .map(|e| e.card)
    }

    /// An order key placing `card` at visible `index` (clamped to the end), counted without
    /// the card itself; `jitter` comes from the replica's SplitMix64 sequence.
    pub fn key_for(&self, card: CardId, index: u32, jitter: u64) -> Arc<str> {
        let len = self.visible_len() - usize::from(self.visible_entry(card));
        let (before, at) = self.neighbours((index as usize).min(len), Some(card));
        // Foreign or colliding keys can leave no room between the neighbours; then step past
        // the run of equal keys, then give up on one bound. Order stays deterministic either
        // way because it is read from the stored keys.
        let key = order_key::between_jittered(before, at, jitter)
            .or_else(|| {
                let next = self.next_distinct_key(before?);
                order_key::between_jittered(before, next, jitter)
            })
            .or_else(|| order_key::between_jittered(before, None, jitter))
            .or_else(|| order_key::between_jittered(None, at, jitter))
            .unwrap_or_else(|| "a0".to_owned());
        Arc::from(key)
    }

    /// Whether the card has a visible entry.
    fn visible_entry(&self, card: CardId) -> bool {
        self.keys.get(&card).is_some_and(|(_, hidden)| !hidden)
    }

    /// The card's position among the visible entries, if its entry is visible: whole blocks
    /// before it are skipped by their counts.
    pub fn rank(&self, card: CardId) -> Option<usize> {
        let (key, hidden) = self.keys.get(&card)?;
        if *hidden {
            return None;
        }
        let (b, at) = self.locate(key, card);
        let at = at.ok()?;
        let block = &self.blocks[b];
        if block.entries[at].hidden {
            return None;
        }
        let before: usize = self.blocks[..b].iter().map(|blk| blk.visible).sum();
        Some(before + block.entries[..at].iter().filter(|e| !e.hidden).count())
    }

    /// Every entry in order, hidden ones included: `(key, card, hidden)`.
    pub fn entries(&self) -> impl Iterator<Item = (&Arc<str>, CardId, bool)> + '_ {
        self.blocks
            .iter()
            .flat_map(|b| &b.entries)
            .map(|e| (&e.key, e.card, e.hidden))
    }

    /// The first key strictly greater than `key` (to step past runs of equal keys).
    pub fn next_distinct_key(&self, key: &str) -> Option<&str> {
        self.blocks
            .iter()
            .flat_map(|b| &b.entries)
            .map(|e| &*e.key)
            .find(|k| *k > key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_a_sorted_vector(ops in proptest::collection::vec((0u8..4, 0u128..40, 0u16..500), 0..600)) {
            let mut index = OrderIndex::default();
            let mut model: HashMap<CardId, (String, bool)> = HashMap::new();
            for (op, card, key) in ops {
                let card = CardId::from_u128(card);
                match op {
                    0 | 1 => {
                        let key = format!("k{key:03}");
                        let hidden = op == 1;
                        index.upsert(card, Arc::from(key.as_str()), hidden);
                        model.insert(card, (key, hidden));
                    }
                    2 => { index.remove(card); model.remove(&card); }
                    _ => {
                        let hidden = key % 2 == 0;
                        index.set_hidden(card, hidden);
                        if let Some(entry) = model.get_mut(&card) { entry.1 = hidden; }
                    }
                }
                let mut expect: Vec<_> = model.iter().filter(|(_, (_, h))| !h).map(|(c, (k, _))| (k.clone(), *c)).collect();
                expect.sort();
                let expect: Vec<CardId> = expect.into_iter().map(|(_, c)| c).collect();
                prop_assert_eq!(index.visible().collect::<Vec<_>>(), expect.clone());
                prop_assert_eq!(index.visible_len(), expect.len());
                for (i, c) in expect.iter().enumerate() {
                    prop_assert_eq!(index.nth_visible(i, None).map(|e| e.card), Some(*c));
                    let without: Vec<_> = expect.iter().filter(|x| *x != c).collect();
                    let got = index.nth_visible(i, Some(*c)).map(|e| e.card);
                    prop_assert_eq!(got, without.get(i).map(|x| **x));
                    prop_assert_eq!(index.rank(*c), Some(i));
                }
            }
        }
    }
}
