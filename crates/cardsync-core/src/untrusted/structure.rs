//! What the screen learns about an update on the way: its blocks (ids, lengths, what each one
//! depends on, where its bytes are) and its delete set.
//!
//! **Why.** Decoding is not the only place where yrs 0.28.1 trusts its input. Integrating an
//! update whose predecessors are missing leaves skips and "pending" structs in the document,
//! and yrs' own encoders then write bytes it cannot read back (its v2 encoder writes a skip's
//! length to the wrong column) and unwrap the result; a formatting mark that lands on a map key
//! makes yrs' map events unwrap a value that does not exist. The core therefore decides what
//! to hand to yrs *before* integrating ([`crate::untrusted::intake`]), and for that it needs the structure
//! yrs keeps private. The screen already walks every byte of it, so it records it here, and
//! refuses the few shapes no honest peer writes and nothing downstream could repair:
//!
//! - a client listed twice (yrs appends the second run to the first, out of clock order);
//! - an item that depends on its own client's clock at or after its own: ids of a client grow
//!   with time, so an item cannot follow, sit under, or precede something written later by
//!   the same client (such an item would wait for itself forever);
//! - an item whose left and right origins are the same character. An insert sits between two
//!   distinct neighbours; given the same one twice, yrs places it differently depending on
//!   how its blocks happen to be split, so a live replica and its own reloaded snapshot read
//!   different text forever ("abXcd" against "abcdX"). The wider contradiction, a right
//!   origin before the left one, depends on where those characters are, so the intake checks
//!   it when it integrates the item ([`crate::untrusted::intake`]).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::untrusted::screen::ScreenError;

/// An item id: a client and one of its clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Id {
    pub client: u64,
    pub clock: u32,
}

/// Where an item says it lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Parent {
    /// A root type, by name.
    Root(String),
    /// The shared type created by the item with this id.
    Item(Id),
    /// Not written: the same parent (and map key) as the item's left origin, or else its right.
    Neighbours,
}

/// An item's dependencies and content kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ItemInfo {
    pub origin: Option<Id>,
    pub right_origin: Option<Id>,
    pub parent: Parent,
    /// Whether the item names a map key (only written with an explicit parent).
    pub keyed: bool,
    /// The content number (`info & 0x1f`).
    pub content: u8,
    /// For shared-type content, the type number.
    pub type_ref: Option<u64>,
}

impl ItemInfo {
    /// The ids that must be integrated before this item can be.
    pub fn dependencies(&self) -> impl Iterator<Item = Id> + '_ {
        let parent = match self.parent {
            Parent::Item(id) => Some(id),
            Parent::Root(_) | Parent::Neighbours => None,
        };
        self.origin
            .into_iter()
            .chain(self.right_origin)
            .chain(parent)
    }
}

/// What a block is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// A hole: clocks this update does not carry.
    Skip,
    /// Garbage-collected clocks.
    Gc,
    /// An item.
    Item(ItemInfo),
}

/// One block of a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    pub clock: u32,
    pub len: u32,
    pub kind: BlockKind,
    /// The block's bytes in a v1 update (empty for v2, whose blocks are spread over columns).
    pub bytes: Range<usize>,
}

impl Block {
    /// The clock after the block.
    pub fn end(&self) -> u32 {
        self.clock + self.len
    }

    /// Whether `id` is one of the block's clocks.
    pub fn contains(&self, clock: u32) -> bool {
        self.clock <= clock && clock < self.end()
    }
}

/// The blocks of one client, in clock order and contiguous.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClientBlocks {
    pub client: u64,
    pub blocks: Vec<Block>,
}

impl ClientBlocks {
    /// The block holding `clock`, if this update carries it.
    pub fn find(&self, clock: u32) -> Option<&Block> {
        self.position(clock).map(|i| &self.blocks[i])
    }

    /// The index of the block holding `clock`, if this update carries it.
    pub fn position(&self, clock: u32) -> Option<usize> {
        let i = self.blocks.partition_point(|b| b.end() <= clock);
        self.blocks.get(i).filter(|b| b.contains(clock)).map(|_| i)
    }
}

/// The structure of an update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Structure {
    pub clients: Vec<ClientBlocks>,
    /// Deleted ranges: client, first clock, length (never 0).
    pub deletes: Vec<(u64, u32, u32)>,
    /// Index of each client's entry in `clients`.
    index: HashMap<u64, usize>,
    /// Clients whose deleted ranges were listed.
    deleting: HashSet<u64>,
}

impl Structure {
    /// Starts the blocks of `client`.
    pub(super) fn start_client(&mut self, client: u64) -> Result<(), ScreenError> {
        if self.index.insert(client, self.clients.len()).is_some() {
            return Err(ScreenError::DuplicateClient(client));
        }
        self.clients.push(ClientBlocks {
            client,
            blocks: Vec::new(),
        });
        Ok(())
    }

    /// Records a block of the client started last. Items of length 0 are checked but not kept:
    /// yrs drops them without advancing the clock.
    pub(super) fn push(&mut self, block: Block) -> Result<(), ScreenError> {
        let Some(run) = self.clients.last_mut() else {
            return Ok(());
        };
        if let BlockKind::Item(item) = &block.kind {
            let own = |id: Id| id.client == run.client && id.clock >= block.clock;
            if item.dependencies().any(own) {
                return Err(ScreenError::Causality {
                    client: run.client,
                    clock: block.clock,
                });
            }
            if item.origin.is_some() && item.origin == item.right_origin {
                return Err(ScreenError::Origins {
                    client: run.client,
                    clock: block.clock,
                });
            }
            if block.len == 0 {
                return Ok(());
            }
        }
        run.blocks.push(block);
        Ok(())
    }

    /// Starts the deleted ranges of `client`. yrs decodes a delete set into a map, so of a
    /// client listed twice it keeps the last list alone, while the intake, which cuts updates
    /// by these ranges, would take them all: refused, as yrs' and Yjs' encoders never write it.
    pub(super) fn start_deletes(&mut self, client: u64) -> Result<(), ScreenError> {
        if !self.deleting.insert(client) {
            return Err(ScreenError::DuplicateClient(client));
        }
        Ok(())
    }

    /// Records a deleted range.
    pub(super) fn delete(&mut self, client: u64, clock: u32, len: u32) {
        if len > 0 {
            self.deletes.push((client, clock, len));
        }
    }

    /// The blocks of `client`, if the update carries any.
    pub fn client(&self, client: u64) -> Option<&ClientBlocks> {
        self.clients.get(self.entry(client)?)
    }

    /// The index of `client`'s entry in `clients`.
    pub fn entry(&self, client: u64) -> Option<usize> {
        self.index.get(&client).copied()
    }

    /// The block holding `id`, if this update carries it.
    pub fn find(&self, id: Id) -> Option<&Block> {
        self.client(id.client)?.find(id.clock)
    }
}
