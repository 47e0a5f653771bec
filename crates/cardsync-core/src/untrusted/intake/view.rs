//! The questions the intake asks the document, answered through yrs' public API.
//!
//! yrs keeps its block store private, so what an id points to is found the way its own
//! public helpers do: a shared type by id (`BranchID::get_nested`), the parent and position of
//! any item by resolving a sticky index on it. The latter walks the item's left neighbours,
//! so it is only asked about rare shapes (formatting marks, origins that may be out of order).

use yrs::block::ClientID;
use yrs::branch::BranchID;
use yrs::branch::BranchPtr;
use yrs::types::TypeRef;
use yrs::{Assoc, ID, ReadTxn, StateVector, StickyIndex, TransactionMut};

use super::places::Place;
use crate::untrusted::structure::{Id, Parent};

/// A read-only view of the document an update is about to meet.
pub(super) struct View<'t, 'doc> {
    txn: &'t TransactionMut<'doc>,
    clocks: StateVector,
}

fn yrs_id(id: Id) -> ID {
    ID::new(ClientID::new(id.client), id.clock)
}

fn is_map(type_ref: &TypeRef) -> bool {
    matches!(type_ref, TypeRef::Map)
}

impl<'t, 'doc> View<'t, 'doc> {
    pub fn new(txn: &'t TransactionMut<'doc>) -> Self {
        Self {
            txn,
            clocks: txn.state_vector(),
        }
    }

    /// The next clock the document expects from `client` (everything below it is present:
    /// the intake never lets yrs integrate past a hole).
    pub fn clock(&self, client: u64) -> u32 {
        self.clocks.get(&ClientID::new(client))
    }

    /// Whether the document holds `id`.
    pub fn has(&self, id: Id) -> bool {
        id.clock < self.clock(id.client)
    }

    /// Whether the root type `name` exists and is a map.
    pub fn root_is_map(&self, name: &str) -> bool {
        BranchID::get_root(self.txn, name).is_some_and(|b| is_map(b.type_ref()))
    }

    /// Whether the item `id` of the document is a shared type (not garbage-collected).
    pub fn is_type(&self, id: Id) -> bool {
        BranchID::get_nested(self.txn, &yrs_id(id)).is_some()
    }

    /// The shared type an item names as its parent, if the document has it: a root by name,
    /// or the type an item created (`None` for a garbage-collected one).
    pub fn named_parent(&self, parent: &Parent) -> Option<BranchPtr> {
        match parent {
            Parent::Root(name) => BranchID::get_root(self.txn, name.as_str()),
            Parent::Item(id) => BranchID::get_nested(self.txn, &yrs_id(*id)),
            Parent::Neighbours => None,
        }
    }

    /// Whether the item `id` of the document is a map type.
    pub fn type_is_map(&self, id: Id) -> bool {
        BranchID::get_nested(self.txn, &yrs_id(id)).is_some_and(|b| is_map(b.type_ref()))
    }

    /// Whether the item holding `id` sits in a map (is a map entry).
    pub fn in_map(&self, id: Id) -> bool {
        self.position(id)
            .is_some_and(|(parent, _)| is_map(parent.type_ref()))
    }

    /// The parent of the item `id` as a place, read from the document: a walk (see
    /// [`Self::position`]), for items the intake has no record of.
    pub fn place(&self, id: Id) -> Option<Place> {
        let (parent, _) = self.position(id)?;
        // An integrated item's parent is a root (named) or the type of an item: `id()` has
        // no other case to reach.
        Some(match parent.id() {
            BranchID::Root(name) => Place::Root(name),
            BranchID::Nested(id) => Place::Type(Id {
                client: id.client.get(),
                clock: id.clock,
            }),
        })
    }

    /// The parent of the character `id` and its visible position there (a deleted one has
    /// the position of the next visible one), if it is an item of the document.
    pub fn position(&self, id: Id) -> Option<(BranchPtr, u32)> {
        let offset = StickyIndex::from_id(yrs_id(id), Assoc::After).get_offset(self.txn)?;
        Some((offset.branch, offset.index))
    }
}
