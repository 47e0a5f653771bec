//! What a batched compare-and-append (`append_if_heads`) learns in its transaction, written
//! once for both stores: the SQL of the head and lease checks differs between SQLite and
//! PostgreSQL, the rules do not.
//!
//! - A lease is checked once per transaction, not once per append.
//! - A document with a refused append (fenced, or its head moved) has every later append in the
//!   same transaction refused too: they were validated after the refused one.
//! - Each document's new head is kept, for PostgreSQL to announce at commit.
//!
//! It borrows from the appends, so judging one costs no allocation.

use std::collections::{HashMap, HashSet};

use super::{DocId, Lease, SeqNo, StoreError};

/// What a batched compare-and-append learnt so far in its transaction.
#[derive(Default)]
pub(super) struct Judged<'a> {
    /// Leases found current.
    current: HashSet<(&'a str, &'a str, u64)>,
    /// Documents with a refused append.
    refused: HashSet<&'a str>,
    /// Each document's new head.
    pub heads: HashMap<&'a DocId, SeqNo>,
}

impl<'a> Judged<'a> {
    /// Whether the append under `lease` may go on to its head check: `Ok(Ok(()))` if so,
    /// `Ok(Err(refusal))` if the lease is fenced, `Err` for a failure. `check` reads the
    /// lease in the store's transaction; it runs once per lease and transaction.
    pub fn lease(
        &mut self,
        lease: &'a Lease,
        check: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<Result<(), StoreError>, StoreError> {
        let doc = lease.doc.as_str();
        let key = (doc, lease.holder.as_str(), lease.epoch);
        if self.current.contains(&key) {
            return Ok(Ok(()));
        }
        match check() {
            Ok(()) => {
                self.current.insert(key);
                Ok(Ok(()))
            }
            Err(e @ StoreError::Fenced { .. }) => {
                self.refused.insert(doc);
                Ok(Err(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Whether an earlier append of `doc` in this transaction was refused.
    pub fn refused(&self, doc: &str) -> bool {
        self.refused.contains(doc)
    }

    /// The refusal of an append under `lease` that expected `expected` while the head is
    /// `head`; later appends of the document are refused too.
    pub fn moved(&mut self, lease: &'a Lease, expected: SeqNo, head: SeqNo) -> StoreError {
        let doc = lease.doc.as_str();
        self.refused.insert(doc);
        StoreError::HeadMoved {
            doc: doc.to_owned(),
            expected,
            head,
        }
    }

    /// `doc`'s append in this transaction became entry `seq`.
    pub fn appended(&mut self, doc: &'a DocId, seq: SeqNo) {
        self.heads.insert(doc, seq);
    }
}
