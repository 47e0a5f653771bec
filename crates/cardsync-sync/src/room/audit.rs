//! Audit records: what the room did to the document on its own authority.
//!
//! A room normally only ever writes what a peer sent. The one exception is a *compensation*
//! (`compensate.rs`): a stock Yjs peer, which cannot roll back, sent an update the validator
//! refuses, so the room accepted it and wrote a change of its own that puts the refused
//! entries back. Every replica then converges on a valid document, but a peer's write was
//! undone by someone else, and an operator must be able to see that. So the room reports each
//! compensation as a typed [`AuditRecord`] ([`RoomAction::Audit`](super::RoomAction::Audit)),
//! once the log append holding it is durable; the server logs it and counts it in its metrics.
//! (The audit trail of every batch, which a server stores with the log, is built from
//! [`Judgement`](super::Judgement)s; a compensation is a second, room-made record beside one.)

use super::names::{PeerId, PersistToken};
use super::violation::Violation;

/// One compensation the room wrote: a stock peer's update undone in part by the room itself,
/// reported once the log append holding both is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// The peer whose update was compensated.
    pub peer: PeerId,
    /// The client ids whose clocks that update carried.
    pub clients: Vec<u64>,
    /// The log append holding both the update and the compensation.
    pub token: PersistToken,
    /// What the update broke, one entry per rule it broke (in the order the room found them);
    /// each was undone.
    pub violations: Vec<Violation>,
}
