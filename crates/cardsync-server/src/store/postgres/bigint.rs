//! Sequence numbers and epochs (`u64` in the contract) as PostgreSQL's `BIGINT` (`i64`).

/// A sequence number or epoch as a `BIGINT`. Ours never exceed `i64::MAX`; one that did would
/// saturate, and compare as beyond every head, instead of wrapping.
pub(super) fn to_db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A `BIGINT` read back. The store never writes a negative one; a damaged one reads as 0.
pub(super) fn from_db(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
