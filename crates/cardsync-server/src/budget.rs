//! The process-wide budget for bytes in flight: frames read and not yet handled by their
//! room, and the updates they became until the store has them.
//!
//! Without it, what one process holds grows with the number of rooms and connections times
//! the size of a frame: every room's inbox holds up to `limits.room_queue` frames, each up to
//! the frame limit, and a room may have half a send queue of persists unconfirmed. Twenty
//! connections sending one 8 MiB frame each took an earlier server to 217 MB. So every frame,
//! once read, takes a [`Charge`] of its length from one semaphore before it goes to its room,
//! and the charge lives until the room has handled the frame or, if the frame led to a
//! persist, until the writer thread confirms it. A connection that finds the budget spent
//! waits before reading anything more (its bytes stay in the kernel, and backpressure reaches
//! the client's TCP window), writing what it is sent meanwhile. The semaphore is fair, so a
//! large frame waiting for its charge is not overtaken forever by small ones.
//!
//! Nothing waits on a charge while holding one, and charges are released by the rooms and the
//! writer thread, which never wait for the budget: so waiting cannot deadlock. What the budget
//! does not cover is the frame a connection is reading at the moment, which the socket layer
//! buffers up to the frame limit before the connection can see it: see docs/design.md §10 for
//! the worst case per connection and in total.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget: a fair semaphore of bytes.
#[derive(Debug)]
pub(crate) struct Budget {
    bytes: Arc<Semaphore>,
    total: u32,
}

/// Bytes of the budget held by one frame (and the update it became). Dropping it gives them
/// back.
#[derive(Debug)]
pub(crate) struct Charge(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl Charge {
    /// A charge made of part of a reservation (`meter.rs`).
    pub fn from_permit(permit: OwnedSemaphorePermit) -> Self {
        Charge(Some(permit))
    }
}

impl Budget {
    /// A budget of `total` bytes (at most `u32::MAX`; at least 1).
    pub fn new(total: usize) -> Self {
        let total = u32::try_from(total).unwrap_or(u32::MAX).max(1);
        Self {
            bytes: Arc::new(Semaphore::new(total as usize)),
            total,
        }
    }

    /// What a frame of `len` bytes takes: its length, but never more than the whole budget
    /// (a frame larger than the budget waits until it has all of it).
    pub fn cost(&self, len: usize) -> u32 {
        u32::try_from(len).unwrap_or(u32::MAX).clamp(1, self.total)
    }

    /// The semaphore, for the reservations of `meter.rs`.
    pub fn semaphore(&self) -> Arc<Semaphore> {
        Arc::clone(&self.bytes)
    }

    /// The charge for a frame of `len` bytes, if the budget has it now.
    pub fn try_charge(&self, len: usize) -> Option<Charge> {
        let permit = Arc::clone(&self.bytes).try_acquire_many_owned(self.cost(len));
        permit.ok().map(|p| Charge(Some(p)))
    }

    /// The charge for a frame of `len` bytes, once the budget has it.
    pub async fn charge(&self, len: usize) -> Charge {
        let permit = Arc::clone(&self.bytes).acquire_many_owned(self.cost(len));
        // Fails only on a closed semaphore, and this one is never closed.
        Charge(permit.await.ok())
    }

    /// Bytes charged at the moment.
    #[cfg(test)]
    pub fn in_use(&self) -> usize {
        (self.total as usize).saturating_sub(self.bytes.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn charges_wait_for_the_budget_and_give_it_back_on_drop() {
        let budget = Budget::new(100);
        let a = budget.try_charge(60).unwrap();
        assert!(budget.try_charge(60).is_none(), "only 40 bytes are left");
        assert_eq!(budget.in_use(), 60);
        // A frame larger than the whole budget waits for all of it, not forever.
        let waiting = budget.charge(1_000);
        drop(a);
        let whole = waiting.await;
        assert_eq!(budget.in_use(), 100);
        drop(whole);
        assert_eq!(budget.in_use(), 0);
    }
}
