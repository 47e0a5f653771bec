//! Which characters of a client were typed as one run, for every item the document holds.
//!
//! **Why.** An insert whose right origin is not after its left origin is refused when both
//! lie in one *typing run*: blocks that each continue the previous one (left origin = the
//! previous clock). A run reads in clock order, so there an out-of-order pair is provably
//! dishonest, and only there can the two share one yrs block, which is what makes yrs place
//! the insert differently in different replicas ([`super::origins`]). yrs does not expose its
//! blocks' origins, so the intake records run starts itself, from every update it integrates
//! and every local transaction, as clocks arrive (in order, per client). Reading the order
//! from the document instead costs a walk over the whole text per insert (150 µs at 20k
//! items), so this index is what keeps remote typing as cheap as yrs' own integration.
//!
//! The same record keeps which clocks hold items whose content can never be a parent (neither
//! a shared type nor deleted content): yrs 0.28.1 refuses an item naming one as parent only
//! when it reaches it, half-way through an update, with everything before it integrated
//! already; the plan refuses it first ([`super::plan`]). yrs does not expose content kinds
//! either. (A recorded string deleted since then is refused too, though yrs would take it: no
//! honest item has a string as parent.)
//!
//! And it keeps the parent of each run ([`super::places`]): yrs does not expose parents
//! either, and an insert whose neighbours lie in different parents is refused.
//!
//! Where a client's record has a hole (its clocks arrived some way the intake did not see,
//! such as a direct write to the yrs document), the record stops for that client and the
//! caller falls back to reading positions.

use std::collections::HashMap;
use std::ops::Range;

use super::places::Place;
use crate::untrusted::screen::{CONTENT_DELETED, CONTENT_TYPE};
use crate::untrusted::structure::{Block, BlockKind, Id};

/// The runs of one client.
#[derive(Debug, Default)]
struct Runs {
    /// First clocks of runs, ascending.
    starts: Vec<u32>,
    /// The parent of each run (`None`: not items, or not known), as `starts`.
    places: Vec<Option<Place>>,
    /// Clocks below this are recorded.
    until: u32,
    /// A hole was seen: nothing from `until` on is known.
    stopped: bool,
    /// Clock ranges (ascending, coalesced) of items that cannot be a parent.
    not_parents: Vec<Range<u32>>,
}

/// Whether `block` (of `client`) continues the clock before it: an item whose left origin is
/// that clock, so it sits in the same run and parent.
fn continues(client: u64, block: &Block) -> bool {
    block.clock > 0
        && matches!(&block.kind, BlockKind::Item(item) if item.origin
            == Some(Id { client, clock: block.clock - 1 }))
}

/// Run starts per client.
#[derive(Debug, Default)]
pub(super) struct RunIndex {
    clients: HashMap<u64, Runs>,
}

impl RunIndex {
    /// Records a block of `client` as integrated. `place` says where it sits (see
    /// [`Self::place_of`] and [`super::places::resolve`]); it is asked only when the block
    /// starts a run, as the rest of a run sits where its start does.
    pub fn record(
        &mut self,
        client: u64,
        block: &Block,
        place: impl FnOnce(&Self) -> Option<Place>,
    ) {
        let (until, stopped) = self
            .clients
            .get(&client)
            .map_or((0, false), |runs| (runs.until, runs.stopped));
        let starts_run = !stopped && block.clock == until && !continues(client, block);
        let place = if starts_run { place(self) } else { None };
        let runs = self.clients.entry(client).or_default();
        if runs.stopped || block.end() <= runs.until {
            return;
        }
        if block.clock > runs.until {
            runs.stopped = true;
            return;
        }
        if starts_run {
            runs.starts.push(block.clock);
            runs.places.push(place);
        }
        if let BlockKind::Item(item) = &block.kind
            && item.content != CONTENT_TYPE
            && item.content != CONTENT_DELETED
        {
            let new = runs.until.max(block.clock)..block.end();
            match runs.not_parents.last_mut() {
                Some(last) if last.end == new.start => last.end = new.end,
                _ => runs.not_parents.push(new),
            }
        }
        // A block that starts below `until` continues what was recorded of it.
        runs.until = block.end();
    }

    /// Stops recording `client` (its blocks arrived in a way not all recorded).
    pub fn stop(&mut self, client: u64) {
        self.clients.entry(client).or_default().stopped = true;
    }

    /// Whether the item `id` holds content that cannot be a parent: `Some` when recorded.
    pub fn cannot_parent(&self, id: Id) -> Option<bool> {
        let runs = self.clients.get(&id.client)?;
        if id.clock >= runs.until {
            return None;
        }
        let next = runs.not_parents.partition_point(|r| r.end <= id.clock);
        Some(
            runs.not_parents
                .get(next)
                .is_some_and(|r| r.contains(&id.clock)),
        )
    }

    /// The parent of the item `id`, when recorded.
    pub fn place_of(&self, id: Id) -> Option<Place> {
        let runs = self.clients.get(&id.client)?;
        if id.clock >= runs.until {
            return None;
        }
        let run = runs.starts.partition_point(|&start| start <= id.clock);
        runs.places.get(run.checked_sub(1)?)?.clone()
    }

    /// Whether the clocks `from..=to` of one client are one run: `Some` when recorded.
    pub fn one_run(&self, from: Id, to: Id) -> Option<bool> {
        let runs = self.clients.get(&from.client)?;
        if to.clock >= runs.until {
            return None;
        }
        let next = runs.starts.partition_point(|&start| start <= from.clock);
        Some(runs.starts.get(next).is_none_or(|&start| start > to.clock))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::untrusted::structure::{ItemInfo, Parent};

    impl RunIndex {
        fn not_parents(&self, client: u64) -> Vec<Range<u32>> {
            self.clients[&client].not_parents.clone()
        }
    }

    fn item(clock: u32, len: u32, origin: Option<Id>) -> Block {
        let info = ItemInfo {
            origin,
            right_origin: None,
            parent: Parent::Neighbours,
            keyed: false,
            content: 4,
            type_ref: None,
        };
        Block {
            clock,
            len,
            kind: BlockKind::Item(info),
            bytes: 0..0,
        }
    }

    #[test]
    fn runs_follow_left_origins_and_stop_at_holes() {
        let id = |clock| Id { client: 1, clock };
        let mut index = RunIndex::default();
        index.record(1, &item(0, 3, None), |_| None); // "abc"
        index.record(1, &item(3, 2, Some(id(2))), |_| None); // "de", typed on
        index.record(1, &item(5, 1, Some(id(0))), |_| None); // "x" after "a": a new run
        index.record(1, &item(3, 2, Some(id(2))), |_| None); // again: nothing new
        assert_eq!(index.not_parents(1), vec![Range { start: 0, end: 6 }]);
        let mut map = item(6, 1, None);
        if let BlockKind::Item(info) = &mut map.kind {
            info.content = CONTENT_TYPE;
        }
        let mut types = RunIndex::default();
        types.record(1, &item(0, 6, None), |_| None);
        types.record(1, &map, |_| None);
        types.record(1, &item(7, 2, Some(id(6))), |_| None);
        assert_eq!(types.not_parents(1), [0..6, 7..9]);
        assert_eq!(types.cannot_parent(id(6)), Some(false));
        assert_eq!(types.cannot_parent(id(8)), Some(true));
        assert_eq!(index.one_run(id(0), id(4)), Some(true));
        assert_eq!(index.one_run(id(4), id(5)), Some(false));
        assert_eq!(index.one_run(id(5), id(5)), Some(true));
        assert_eq!(index.one_run(id(5), id(6)), None);
        index.record(1, &item(8, 1, None), |_| None); // a hole at 6..8
        index.record(1, &item(6, 2, None), |_| None);
        assert_eq!(index.one_run(id(6), id(7)), None);
        // Strings cannot be parents; what is not recorded is not known.
        assert_eq!(index.cannot_parent(id(4)), Some(true));
        assert_eq!(index.cannot_parent(id(6)), None);
        assert_eq!(
            index.one_run(
                Id {
                    client: 2,
                    clock: 0
                },
                id(0)
            ),
            None
        );
    }

    #[test]
    fn each_run_keeps_its_place() {
        let id = |clock| Id { client: 1, clock };
        let (text, cards) = (Place::Type(id(9)), Place::Root("cards".into()));
        let mut index = RunIndex::default();
        index.record(1, &item(0, 3, None), |_| Some(text.clone())); // "abc"
        index.record(1, &item(3, 2, Some(id(2))), |_| None); // "de", typed on: the same run
        index.record(1, &item(5, 1, None), |_| Some(cards.clone())); // another run
        assert_eq!(index.place_of(id(4)), Some(text));
        assert_eq!(index.place_of(id(5)), Some(cards));
        assert_eq!(index.place_of(id(6)), None, "not recorded");
    }
}
