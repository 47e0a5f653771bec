//! What arrived before its predecessors, kept outside yrs until they arrive.
//!
//! yrs would keep it in its store (`pending` structs and delete set) and re-encode it into
//! every snapshot through a path that unwraps (`merge_pending_v1/v2`, yrs `transaction.rs`
//! 390/408), after first integrating blocks past a hole as "skips" that its v2 encoder writes
//! wrongly. Here it is plain v1 bytes cut from the update (see [`super::v1`]) and a
//! [`DeleteSet`], re-planned after every update that brings something new.

use super::deletes::DeleteSet;

/// Blocks and deletions waiting for missing predecessors.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// v1 updates of blocks that wait (no delete sets: those are in `deletes`).
    pub pieces: Vec<Vec<u8>>,
    /// Deleted ranges naming items the document does not hold yet.
    pub deletes: DeleteSet,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty() && self.deletes.is_empty()
    }

    /// A v1 update holding only the waiting deletions.
    pub fn deletes_v1(&self) -> Vec<u8> {
        self.deletes.update_v1()
    }
}
