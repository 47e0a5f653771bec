//! The names the room uses for peers and persist jobs.
//!
//! The room never owns a socket or a file. It names peers with the driver's own [`PeerId`]s
//! and numbers every write it needs made durable with a [`PersistToken`], so the driver can
//! confirm them later with `handle_persisted`. Acks wait for that confirmation (docs/design.md §5):
//! an ack is a promise that the batch survives a crash. The names have a file of their own
//! because every part of the room uses them, the actions and the records it reports alike.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The driver's name for one connection (e.g. a counter per accepted WebSocket).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PeerId(pub u64);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer#{}", self.0)
    }
}

/// Numbers one [`RoomAction::Persist`](super::RoomAction::Persist). Tokens increase by one from 1, and confirming a token
/// confirms every earlier one too: the update log is append-only and written in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersistToken(pub u64);
