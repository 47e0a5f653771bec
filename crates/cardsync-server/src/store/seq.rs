//! The sequence number, in a file of its own because every other store file speaks of it:
//! the contract, the errors that carry heads and floors, and both stores.

/// A sequence number: the position of an entry in its document's log, from 1, without gaps.
/// 0 stands for "before the first entry" (an empty log, or a reader that holds nothing yet).
pub type SeqNo = u64;
