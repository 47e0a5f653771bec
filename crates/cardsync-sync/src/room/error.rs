//! Errors the room returns to its *driver*.
//!
//! A misbehaving peer never produces an error here: it gets a `Reject` or a `Close`, and the
//! room carries on. These variants are about the driver's own calls (a peer id it never
//! connected, a persist token the room never issued) and about opening the room. A refused
//! call changes nothing.

use cardsync_core::DecodeError;
use thiserror::Error;

use super::names::{PeerId, PersistToken};
use super::shadow::ShadowError;

/// A driver call was refused, or the room could not be opened.
#[derive(Debug, Error)]
pub enum RoomError {
    /// The schema is invalid, or the replicas could not be built.
    #[error("cannot open the room: {0}")]
    Open(#[from] ShadowError),
    /// An update of the stored log does not decode.
    #[error("stored update #{index} is corrupt: {source}")]
    CorruptLog {
        /// Position in the log, from 0.
        index: usize,
        /// Why.
        #[source]
        source: DecodeError,
    },
    /// `handle_connect` for a peer id that is connected.
    #[error("{0} is already connected")]
    DuplicatePeer(PeerId),
    /// A call for a peer id that is not connected (never was, or was closed by the room, in
    /// which case frames still in flight from it can be dropped).
    #[error("{0} is not connected")]
    UnknownPeer(PeerId),
    /// `handle_log_entries` while persists are in flight: the driver must wait for their
    /// outcomes first (an entry after a head the room's own appends expect makes them fail,
    /// and `handle_log_moved` takes that case).
    #[error("{pending} persists are in flight")]
    PersistsInFlight {
        /// How many.
        pending: usize,
    },
    /// `handle_persisted` with a token the room never issued.
    #[error("persist token {} was never issued", .0.0)]
    UnknownToken(PersistToken),
}
