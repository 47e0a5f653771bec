//! Refusing an insert whose left and right origins lie in different parents.
//!
//! **Why.** An item with neighbours does not name its parent: yrs takes it from the left
//! origin (or, when that is not an item, from the right), then links the item between the
//! two. When the right origin lies in another shared type, the live document and a reload of
//! its own snapshot link it differently: yrs 0.28.1 integrates the snapshot's blocks in
//! another order and loses the list around it (the update_v1 fuzz target found a deleted item
//! between the end of a card's body and card 1's entry in the `cards` map; the reload read an
//! empty body). No honest peer writes such an item: both neighbours come from one list.
//!
//! The same holds for a block that overlaps the clocks the document holds: yrs integrates its
//! tail after the held item it continues, and a snapshot encodes the tail with that item as
//! its left origin (the fuzz target's next finding, once the first was refused: a tail whose
//! right origin was the root `meta` entry, continuing an entry of card 3's map; its snapshot
//! did not load).
//!
//! yrs does not expose an item's parent (reading it back walks the whole list), so the intake
//! keeps its own record, run by run ([`super::runs`]): a run's items share one parent, the
//! one its first item names, or that of the neighbour it inherits from. Items of the update
//! being planned are placed the same way, in the order the plan accepts them, which is
//! dependency order, so every neighbour is placed before the items that name it. A held item
//! the record does not know (it stops for a client after yrs failed half-way) is read from
//! the document, so that a live document never accepts what a reload of its snapshot, which
//! records everything, would refuse.

use std::sync::Arc;

use crate::untrusted::error::IntegrateError;
use crate::untrusted::structure::{Block, BlockKind, Id, Parent};

/// The shared type an item sits in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// A root type, by name.
    Root(Arc<str>),
    /// The shared type created by the item with this id.
    Type(Id),
}

/// Where `block` (of `client`) sits, given where the items it may name as neighbours sit
/// (`None`: not an item, or not known). Refuses it when the items it will sit between are
/// placed in different parents: its two origins, and, for a block that starts at clocks the
/// document holds (`continued`: the last held clock), the held item too. yrs integrates only
/// such a block's tail, with that held item as its new left origin (which is how a snapshot
/// encodes it), yet keeps the parent it took from the original origins. Where a place is
/// unknown, yrs decides, as before the record existed.
pub(super) fn place(
    client: u64,
    block: &Block,
    continued: Option<Id>,
    place_of: impl Fn(Id) -> Option<Place>,
) -> Result<Option<Place>, IntegrateError> {
    let BlockKind::Item(item) = &block.kind else {
        return Ok(None);
    };
    let mut known = continued
        .into_iter()
        .chain(item.origin)
        .chain(item.right_origin)
        .filter_map(place_of);
    let first = known.next();
    if let Some(first) = &first
        && known.any(|place| place != *first)
    {
        return Err(IntegrateError::OriginsInDifferentParents {
            client,
            clock: block.clock,
        });
    }
    Ok(match &item.parent {
        Parent::Root(name) => Some(Place::Root(Arc::from(name.as_str()))),
        Parent::Item(id) => Some(Place::Type(*id)),
        Parent::Neighbours => first,
    })
}

/// Where a block of a local transaction sits: [`place`] without a held continuation. This
/// replica's own writes always have both neighbours in one list; were they not, the place is
/// left unknown rather than refused (the transaction is already in the document).
pub(super) fn resolve(block: &Block, place_of: impl Fn(Id) -> Option<Place>) -> Option<Place> {
    place(0, block, None, place_of).ok().flatten()
}
