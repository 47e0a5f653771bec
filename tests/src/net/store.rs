//! The simulated store: one document's log, numbered by sequence number, with the
//! compare-and-append and the per-node leases of the server's store contract
//! (`crates/cardsync-server/src/store/contract.rs`, docs/design.md §12).
//!
//! Why a model and not the real store: the simulation runs thousands of schedules on one
//! thread on a simulated clock, and what it tests is the protocol around the store (rooms
//! rebuilt on a moved head, catch-up, fencing, crashes between a commit and its
//! confirmation), not SQL. The model keeps exactly the promises the rooms rely on:
//! - an append lands as entry `expected + 1` only if the head is still `expected` and the
//!   node's lease is current; otherwise nothing is written ([`Refused`]);
//! - a lease is per node, with an epoch one above the last one handed out; it ends when it
//!   expires (judged by the store's clock, the simulation's) and is never renewed after;
//! - what is appended is durable at once (a crash cannot take a commit back).
//!
//! Compaction is not modelled: `read_since` never falls off a tail.

use std::collections::BTreeMap;

/// A sequence number: entry `n` of the log is `entries[n - 1]`; 0 is the empty log.
pub type SeqNo = u64;

/// A node's lease, as the node knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The node holding it.
    pub node: usize,
    /// Its epoch.
    pub epoch: u64,
}

/// Why the store refused an append or a renewal; nothing was written either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Another node appended first: the head is here now.
    HeadMoved(SeqNo),
    /// The lease was superseded or expired.
    Fenced,
}

/// One document's log and leases.
#[derive(Debug, Default)]
pub struct Store {
    entries: Vec<Vec<u8>>,
    /// Per node, the epoch and expiry (simulated ms) of its current lease.
    leases: BTreeMap<usize, (u64, u64)>,
    /// The highest epoch handed out.
    epoch: u64,
}

impl Store {
    /// The sequence number of the last entry.
    pub fn head(&self) -> SeqNo {
        self.entries.len() as SeqNo
    }

    /// The whole log, oldest first (what a room is rebuilt from).
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// The entries after `since`, oldest first.
    pub fn read_since(&self, since: SeqNo) -> &[Vec<u8>] {
        let since = usize::try_from(since).expect("a simulated log fits in memory");
        &self.entries[since.min(self.entries.len())..]
    }

    /// Takes `node`'s lease until `now + ttl`, with a new epoch; the node's earlier lease ends.
    pub fn acquire(&mut self, node: usize, now: u64, ttl: u64) -> Lease {
        self.epoch += 1;
        self.leases.insert(node, (self.epoch, now + ttl));
        Lease {
            node,
            epoch: self.epoch,
        }
    }

    fn current(&self, lease: Lease, now: u64) -> bool {
        self.leases
            .get(&lease.node)
            .is_some_and(|&(epoch, expires)| epoch == lease.epoch && now < expires)
    }

    /// Extends a current lease to `now + ttl`; an expired or superseded one is fenced.
    pub fn renew(&mut self, lease: Lease, now: u64, ttl: u64) -> Result<(), Refused> {
        if !self.current(lease, now) {
            return Err(Refused::Fenced);
        }
        self.leases.insert(lease.node, (lease.epoch, now + ttl));
        Ok(())
    }

    /// Appends `update` as entry `expected + 1` if the head is `expected` and `lease` is
    /// current; returns the new head.
    pub fn append_if_head(
        &mut self,
        lease: Lease,
        expected: SeqNo,
        update: &[u8],
        now: u64,
    ) -> Result<SeqNo, Refused> {
        if !self.current(lease, now) {
            return Err(Refused::Fenced);
        }
        if self.head() != expected {
            return Err(Refused::HeadMoved(self.head()));
        }
        self.entries.push(update.to_vec());
        Ok(self.head())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_only_at_the_head_and_under_a_current_lease() {
        let mut store = Store::default();
        let a = store.acquire(0, 0, 100);
        let b = store.acquire(1, 0, 100);
        assert_eq!(store.append_if_head(a, 0, b"x", 1), Ok(1));
        assert_eq!(
            store.append_if_head(b, 0, b"y", 2),
            Err(Refused::HeadMoved(1))
        );
        assert_eq!(store.append_if_head(b, 1, b"y", 3), Ok(2));
        // Expired: fenced, never renewed, nothing written.
        assert_eq!(store.append_if_head(a, 2, b"z", 100), Err(Refused::Fenced));
        assert_eq!(store.renew(a, 100, 100), Err(Refused::Fenced));
        assert_eq!(store.read_since(1), [b"y".to_vec()]);
        // A new acquisition supersedes the node's old lease.
        let a2 = store.acquire(0, 100, 100);
        assert_eq!(store.append_if_head(a, 2, b"z", 101), Err(Refused::Fenced));
        assert_eq!(store.append_if_head(a2, 2, b"z", 101), Ok(3));
    }
}
