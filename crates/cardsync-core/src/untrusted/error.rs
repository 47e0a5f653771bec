//! The errors an entry point returns for untrusted bytes: [`DecodeError`], and inside it
//! [`IntegrateError`] when the intake refuses an update, or [`ScreenError`] when the screen
//! does.
//!
//! They live here, beside the steps that raise them and below the intake, so that the firewall
//! needs none of the card model's errors (the card model wraps these, in an `OpenError`).

use thiserror::Error;

use super::screen::ScreenError;

/// Untrusted bytes could not be decoded or integrated.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// A state vector is malformed.
    #[error("malformed state vector: {0}")]
    StateVector(#[source] yrs::encoding::read::Error),
    /// An update is malformed.
    #[error("malformed update: {0}")]
    Update(#[source] yrs::encoding::read::Error),
    /// The [screen](crate::untrusted) refused the bytes before yrs saw them: decoding them would
    /// cost far more than their size (the yrs decode bomb), trip a panic in yrs, or bring
    /// content a cardsync document never holds.
    #[error("refused before decoding: {0}")]
    Screen(#[from] ScreenError),
    /// The update decoded but cannot be integrated into this document as it is.
    #[error("update cannot be integrated: {0}")]
    Integrate(#[source] IntegrateError),
    /// yrs panicked on bytes that passed the screen. yrs cannot roll a transaction back, so a
    /// panic while integrating may have left the document half-changed: discard it and load
    /// it again from a trusted snapshot (the sync server does this with its validation
    /// replica). Never returned in wasm32, where a panic aborts.
    #[error("yrs panicked while decoding or integrating the update")]
    Panicked,
}

impl DecodeError {
    /// The stable code JavaScript sees.
    pub fn code(&self) -> &'static str {
        "decode_error"
    }
}

/// Why a decoded update cannot be integrated. Unlike a [`ScreenError`], these depend on the
/// document the update meets, so [`crate::decode_update_v1`] cannot see them.
#[derive(Debug, Error)]
pub enum IntegrateError {
    /// A formatting mark (rich-text attribute) would become the value of a map key, next to
    /// the map entry it names as a neighbour. No honest peer writes one (marks live in texts),
    /// and yrs 0.28.1 panics reporting such a key to map observers (it unwraps the value a
    /// mark does not have), so it is refused before anything is integrated.
    #[error("item {client}#{clock} is a formatting mark that would become a map value")]
    FormatOnMapKey {
        /// The mark's client.
        client: u64,
        /// The mark's clock.
        clock: u32,
    },
    /// An insert names as its right neighbour a character the document holds at or before
    /// its left neighbour (or in another parent). No honest peer writes one, and yrs places
    /// it differently depending on how its blocks happen to be split, so replicas would read
    /// different text forever.
    #[error("item {client}#{clock} has its right origin at or before its left origin")]
    OriginsOutOfOrder {
        /// The insert's client.
        client: u64,
        /// The insert's clock.
        clock: u32,
    },
    /// An insert's left and right neighbours lie in different shared types. No honest peer
    /// writes one (both come from one list), and yrs 0.28.1 links it differently in a live
    /// document and in a reload of its snapshot, which lost the list around it.
    #[error("item {client}#{clock} has its left and right origins in different parents")]
    OriginsInDifferentParents {
        /// The insert's client.
        client: u64,
        /// The insert's clock.
        clock: u32,
    },
    /// A block starts at clocks the document already holds and runs past them, and names as
    /// its parent a type other than that of the held item it continues. No honest peer writes
    /// one: the held part is the same item. yrs 0.28.1 links the new tail after the held item,
    /// in that item's list, while filing it under the named parent; deleting that parent
    /// later frees the tail while the other list still points to it (a use-after-free).
    #[error("block {client}#{clock} continues a held item but names another parent")]
    ForeignContinuation {
        /// The block's client.
        client: u64,
        /// The block's first clock.
        clock: u32,
    },
    /// A block starts at clocks the document already holds and runs past them, yet waits
    /// for an item the document lacks. No honest peer writes one: the document integrated the
    /// held part with the same dependencies. yrs 0.28.1 would keep its tail waiting for them,
    /// but merging the tail into a snapshot re-encodes it as a continuation of the held item,
    /// without the dependency, so the snapshot would integrate it at once and read differently
    /// from the live document (a forged tail that overwrites a map key, say).
    #[error(
        "block {client}#{clock} overlaps what the document holds but waits for an item it lacks"
    )]
    PartlyHeldBlockWaits {
        /// The block's client.
        client: u64,
        /// The block's first clock.
        clock: u32,
    },
    /// An item names as its parent an item (of the same update, or one the document holds)
    /// that is neither a shared type nor deleted content (refused before anything is
    /// integrated; yrs would stop half-way).
    #[error("item {client}#{clock} names as parent an item that is not a shared type")]
    InvalidParent {
        /// The item's client.
        client: u64,
        /// The item's clock.
        clock: u32,
    },
    /// yrs refused the update while integrating it: it names as parent an item of the
    /// document that is not a shared type, one whose clocks arrived some way the intake did
    /// not record (otherwise [`IntegrateError::InvalidParent`] refuses it first). The blocks yrs integrated before it stay (yrs
    /// cannot roll back); the rest of the update is dropped.
    #[error(transparent)]
    Yrs(#[from] yrs::error::UpdateError),
}
