//! Which part of an update can be integrated now, and which part must wait.
//!
//! A block can be integrated once the document holds everything before it: its client's
//! earlier clocks (no hole), and the items it names (left and right origin, parent). Blocks
//! of one update may depend on each other across clients, so the plan accepts blocks client by
//! client, in clock order, until a pass accepts nothing more. What it accepts is closed under
//! dependencies and gap-free, which is exactly what yrs integrates without creating skips or
//! pending structs. Deleted ranges split the same way: the part naming items the document will
//! hold now, and the rest. An item may also wait for its origins to be integrated, so that
//! their order can be read from the document ([`super::origins`]); the intake integrates
//! again, within the same transaction, as long as something waiting becomes ready.
//!
//! What waits must be expressible in a snapshot, where it is merged with what the document
//! holds. A block that overlaps the held clocks of its client and still waits is not: the
//! merge cuts it at the held clock and re-encodes the tail as the held item's continuation,
//! dropping the dependency it waits for. So such a block is refused (no honest peer writes
//! one, see [`IntegrateError::PartlyHeldBlockWaits`]).

use std::collections::HashMap;
use std::ops::Range;

use super::deletes::{self, DeleteSet};
use super::map_entries::MapEntries;
use super::origins::{Origins, Verdict};
use super::places::{self, Place};
use super::runs::RunIndex;
use super::view::View;
use crate::untrusted::error::IntegrateError;
use crate::untrusted::screen::{CONTENT_DELETED, CONTENT_TYPE};
use crate::untrusted::structure::{Block, BlockKind, Id, ItemInfo, Parent, Structure};

/// The plan for one update: per entry of `Structure::clients`, the blocks to integrate now and
/// those that wait; and the deleted ranges of both kinds.
#[derive(Debug)]
pub(super) struct Plan {
    pub now: Vec<Range<usize>>,
    pub later: Vec<Range<usize>>,
    pub deletes_now: DeleteSet,
    pub deletes_later: DeleteSet,
    /// Per entry of `Structure::clients`, the parent of each block accepted now (as `now`).
    pub places: Vec<Vec<Option<Place>>>,
}

impl Plan {
    /// Records the blocks integrated now in `runs` (or, after yrs stopped half-way, stops
    /// recording their clients: which of them got in is unknown).
    pub fn record(&self, structure: &Structure, runs: &mut RunIndex, integrated: bool) {
        for ((now, blocks), places) in self.now.iter().zip(&structure.clients).zip(&self.places) {
            for (block, place) in blocks.blocks[now.clone()].iter().zip(places) {
                if integrated {
                    runs.record(blocks.client, block, |_| place.clone());
                } else {
                    runs.stop(blocks.client);
                }
            }
        }
    }

    /// Whether everything can be integrated now (blocks the document already holds count).
    pub fn is_complete(&self) -> bool {
        self.later.iter().all(Range::is_empty) && self.deletes_later.is_empty()
    }

    /// Whether integrating now would add any block.
    pub fn adds_blocks(&self) -> bool {
        self.now.iter().any(|r| !r.is_empty())
    }
}

/// Plans `structure` against the document seen by `view`. Refuses (before anything is
/// integrated) an accepted block the document cannot take.
pub(super) fn plan(
    structure: &Structure,
    view: &View<'_, '_>,
    runs: &RunIndex,
) -> Result<Plan, IntegrateError> {
    let mut clocks: HashMap<u64, u32> = HashMap::new();
    let clock = |clocks: &HashMap<u64, u32>, client: u64| {
        clocks
            .get(&client)
            .copied()
            .unwrap_or_else(|| view.clock(client))
    };
    let mut now: Vec<Range<usize>> = vec![0..0; structure.clients.len()];
    // Parents of the blocks accepted so far, by client entry and block index from its
    // `now.start` (held blocks are skipped before anything is accepted).
    let mut placed: Vec<Vec<Option<Place>>> = vec![Vec::new(); structure.clients.len()];
    let mut entries = MapEntries::new(structure, view);
    let mut origins = Origins::new(view, structure, runs);
    loop {
        let mut progress = false;
        for (entry, blocks) in structure.clients.iter().enumerate() {
            while let Some(block) = blocks.blocks.get(now[entry].end) {
                let have = clock(&clocks, blocks.client);
                if block.end() <= have {
                    // Already held (only ever a prefix: accepted blocks are contiguous).
                    let run = &mut now[entry];
                    run.end += 1;
                    if run.len() == 1 {
                        run.start = run.end;
                    }
                    continue;
                }
                let ready = block.clock <= have
                    && match &block.kind {
                        BlockKind::Skip => false,
                        BlockKind::Gc => true,
                        BlockKind::Item(item) => item
                            .dependencies()
                            .all(|dep| dep.clock < clock(&clocks, dep.client)),
                    };
                if !ready {
                    break;
                }
                if let BlockKind::Item(item) = &block.kind {
                    parent_is_a_type(structure, view, runs, blocks.client, block.clock, item)?;
                    continues_held(view, blocks.client, block, item)?;
                    match origins.check(blocks.client, block.clock, item)? {
                        Verdict::Ready => {}
                        Verdict::Wait => break,
                    }
                    entries.check(blocks.client, block, item)?;
                }
                let place_of = |id: Id| place_of(id, structure, view, runs, &now, &placed);
                // A block overlapping the held clocks (only ever a client's first one not
                // held): yrs integrates its tail after them.
                let continued = (block.clock < have).then(|| Id {
                    client: blocks.client,
                    clock: have - 1,
                });
                let place = places::place(blocks.client, block, continued, place_of)?;
                placed[entry].push(place);
                clocks.insert(blocks.client, block.end());
                now[entry].end += 1;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    for (run, blocks) in now.iter().zip(&structure.clients) {
        partly_held(blocks.client, blocks.blocks.get(run.end), |c| {
            clock(&clocks, c)
        })?;
    }
    let later = now
        .iter()
        .zip(&structure.clients)
        .map(|(run, blocks)| {
            // Trailing holes carry nothing worth keeping.
            let end = blocks.blocks[run.end..]
                .iter()
                .rposition(|b| b.kind != BlockKind::Skip)
                .map_or(run.end, |i| run.end + i + 1);
            run.end..end
        })
        .collect();
    let (deletes_now, deletes_later) =
        deletes::split(structure.deletes.iter().copied(), |c| clock(&clocks, c));
    Ok(Plan {
        now,
        later,
        deletes_now,
        deletes_later,
        places: placed,
    })
}

/// The parent of `id`: from the record if the document holds it, else from the blocks of the
/// update accepted so far (`placed`, see [`plan`]).
fn place_of(
    id: Id,
    structure: &Structure,
    view: &View<'_, '_>,
    runs: &RunIndex,
    now: &[Range<usize>],
    placed: &[Vec<Option<Place>>],
) -> Option<Place> {
    if view.has(id) {
        return runs.place_of(id).or_else(|| view.place(id));
    }
    let entry = structure.entry(id.client)?;
    let block = structure.clients[entry].position(id.clock)?;
    let accepted = block.checked_sub(now[entry].start)?;
    placed[entry].get(accepted)?.clone()
}

/// Refuses an item whose parent is neither a shared type nor deleted content: yrs would
/// refuse it half-way through integrating (`InvalidParent`), with the blocks before it already
/// in. A parent in the same update is read from the update; one the document holds from the
/// intake's record of content kinds ([`RunIndex::cannot_parent`]). Where that record stopped,
/// yrs decides (the public API cannot tell a garbage-collected type from text).
fn parent_is_a_type(
    structure: &Structure,
    view: &View<'_, '_>,
    runs: &RunIndex,
    client: u64,
    clock: u32,
    item: &ItemInfo,
) -> Result<(), IntegrateError> {
    let Parent::Item(parent) = item.parent else {
        return Ok(());
    };
    let refuse = if view.has(parent) {
        !view.is_type(parent) && runs.cannot_parent(parent) == Some(true)
    } else {
        matches!(
            structure.find(parent).map(|b| &b.kind),
            Some(BlockKind::Item(p)) if p.content != CONTENT_TYPE && p.content != CONTENT_DELETED
        )
    };
    if refuse {
        return Err(IntegrateError::InvalidParent { client, clock });
    }
    Ok(())
}

/// Refuses a block that overlaps the held clocks of its client and names a parent other than
/// the held item it continues (see [`IntegrateError::ForeignContinuation`]). Only a parent
/// written out can disagree: without one, yrs takes the tail's parent from the held item, its
/// new left origin, as a reload does.
fn continues_held(
    view: &View<'_, '_>,
    client: u64,
    block: &Block,
    item: &ItemInfo,
) -> Result<(), IntegrateError> {
    let held = view.clock(client);
    if block.clock >= held || item.parent == Parent::Neighbours {
        return Ok(());
    }
    let Some((left, _)) = view.position(Id {
        client,
        clock: held - 1,
    }) else {
        // Garbage-collected: the tail has no left neighbour and keeps its own parent.
        return Ok(());
    };
    match (&item.parent, view.named_parent(&item.parent)) {
        (_, Some(parent)) if parent == left => Ok(()),
        // A type collected since: yrs integrates the tail as collected too.
        (Parent::Item(_), None) => Ok(()),
        _ => Err(IntegrateError::ForeignContinuation {
            client,
            clock: block.clock,
        }),
    }
}

/// Refuses the first block of a client that waits when it starts below the clock the document
/// holds (see [`IntegrateError::PartlyHeldBlockWaits`]). Blocks of one client are contiguous
/// and held blocks are skipped, so only the first waiting one can overlap what is held. A hole
/// (skip) holds nothing and may overlap; a GC block never waits.
fn partly_held(
    client: u64,
    first_waiting: Option<&Block>,
    clock: impl Fn(u64) -> u32,
) -> Result<(), IntegrateError> {
    match first_waiting {
        Some(block) if matches!(block.kind, BlockKind::Item(_)) && block.clock < clock(client) => {
            Err(IntegrateError::PartlyHeldBlockWaits {
                client,
                clock: block.clock,
            })
        }
        _ => Ok(()),
    }
}
