//! Refusing an insert whose right neighbour is not to the right of its left neighbour.
//!
//! **Why.** Every insert names its neighbours at the time it was made: its left origin, then
//! its right origin, further right in the same parent. yrs integrates it by splitting the
//! block holding the left origin after it, then the block holding the right origin before it.
//! When the right origin lies before the left one *in the same block*, the second split cuts
//! the block yrs already holds as the left neighbour, and where the insert lands depends on
//! how the document's blocks happen to be split. That differs between a live replica, its
//! reloaded snapshot and a replica that got the same changes grouped otherwise (yrs even
//! squashes blocks in an order that varies from run to run), so they read different text
//! forever ("Sominsertede" against "Sinsertedome"). No honest peer writes such an insert.
//!
//! Only inserts whose two origins belong to one client, the right one not later, can be out of
//! order (they are honest when the left character was typed after its right neighbour, in
//! another run). Such an insert is refused when the characters from its right origin to its
//! left one form one *typing run*: blocks that each continue the previous one (left origin =
//! the previous clock). A run reads in clock order, so the pair is then provably out of
//! order; and only within a run can the two share a block in some replica, which is what
//! makes yrs' result depend on splits. At the moment the insert would be integrated:
//! - both origins in the update: its own blocks show the runs;
//! - both origins in the document: the runs the intake recorded ([`super::runs`]); where it
//!   has no record, their order is read from the document with sticky indexes (parent and
//!   visible position, a walk to the left; a deleted character shares the position of the
//!   next visible one, so a pair hidden among deleted characters is not seen there);
//! - one of each: the insert waits until the document holds both (within the same
//!   transaction: the intake integrates in rounds).
//!
//! The check runs when an item is integrated, not when it arrives: whether an update is
//! refused must not depend on how the characters around it were grouped into blocks, or an
//! accepted update (waiting for a predecessor) could make the snapshot holding it unloadable.

use std::collections::HashMap;

use super::runs::RunIndex;
use super::view::View;
use crate::untrusted::error::IntegrateError;
use crate::untrusted::structure::{Block, BlockKind, Id, ItemInfo, Structure};

/// What the origins of an item allow.
pub(super) enum Verdict {
    /// Integrate it.
    Ready,
    /// Wait until the document holds both origins.
    Wait,
}

/// Checks the origins of the items of one update, against the document seen by a view.
pub(super) struct Origins<'a, 't, 'doc> {
    view: &'a View<'t, 'doc>,
    structure: &'a Structure,
    /// The runs of what the document holds.
    runs: &'a RunIndex,
    /// Per client of the update, for each block, the index of the first block of its typing
    /// run (computed once: asking block by block would make a long run quadratic).
    update_runs: HashMap<u64, Vec<usize>>,
}

impl<'a, 't, 'doc> Origins<'a, 't, 'doc> {
    pub fn new(view: &'a View<'t, 'doc>, structure: &'a Structure, runs: &'a RunIndex) -> Self {
        Self {
            view,
            structure,
            runs,
            update_runs: HashMap::new(),
        }
    }

    /// Checks the origins of `item` (of `client` at `clock`), whose dependencies are all
    /// present in the document or accepted from the update.
    pub fn check(
        &mut self,
        client: u64,
        clock: u32,
        item: &ItemInfo,
    ) -> Result<Verdict, IntegrateError> {
        let (Some(left), Some(right)) = (item.origin, item.right_origin) else {
            return Ok(Verdict::Ready);
        };
        if left.client != right.client || right.clock > left.clock {
            return Ok(Verdict::Ready);
        }
        let view = self.view;
        let out_of_order = match (view.has(left), view.has(right)) {
            (true, true) => match self.runs.one_run(right, left) {
                Some(one_run) => one_run,
                None => match (view.position(left), view.position(right)) {
                    (Some((left_parent, left_at)), Some((right_parent, right_at))) => {
                        left_parent != right_parent || right_at < left_at
                    }
                    _ => false,
                },
            },
            (false, false) => self.one_run(right, left),
            _ => return Ok(Verdict::Wait),
        };
        if out_of_order {
            return Err(IntegrateError::OriginsOutOfOrder { client, clock });
        }
        Ok(Verdict::Ready)
    }

    /// Whether the characters `from..=to` (one client, both in the update) are one typing
    /// run: blocks that follow each other, each an item whose left origin is the last
    /// character of the previous one.
    fn one_run(&mut self, from: Id, to: Id) -> bool {
        let Some(blocks) = self.structure.client(from.client) else {
            return false;
        };
        let (Some(first), Some(last)) = (blocks.position(from.clock), blocks.position(to.clock))
        else {
            return false;
        };
        let starts = self
            .update_runs
            .entry(from.client)
            .or_insert_with(|| run_starts(from.client, &blocks.blocks));
        starts[last] <= first
    }
}

/// For each block of `client`, the index of the first block of its typing run.
fn run_starts(client: u64, blocks: &[Block]) -> Vec<usize> {
    let mut starts: Vec<usize> = Vec::with_capacity(blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| (&blocks[p], starts[p]));
        let run = match (previous, &block.kind) {
            (Some((before, start)), BlockKind::Item(info))
                if matches!(before.kind, BlockKind::Item(_))
                    && block.clock == before.end()
                    && info.origin
                        == Some(Id {
                            client,
                            clock: block.clock - 1,
                        }) =>
            {
                start
            }
            _ => i,
        };
        starts.push(run);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::untrusted::screen;

    #[test]
    fn typing_runs_read_in_clock_order() {
        // Client 1 in root text "t": "ab" (1#0), then "c" continuing it (1#2, origin 1#1),
        // then "x" inserted at the start (1#3, right origin 1#0).
        let bytes = [
            1, 3, 1, 0, 4, 1, 1, b't', 2, b'a', b'b', 0x84, 1, 1, 1, b'c', 0x44, 1, 0, 1, b'x', 0,
        ];
        let structure = screen::update_v1(&bytes).unwrap();
        let starts = run_starts(1, &structure.clients[0].blocks);
        // "ab" and "c" are one run; "x" does not continue "c": 1#3 is another insert.
        assert_eq!(starts, [0, 0, 2]);
    }
}
