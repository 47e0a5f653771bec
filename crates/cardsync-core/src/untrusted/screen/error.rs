//! Why the screen refuses bytes: [`ScreenError`], one variant per rule.
//!
//! A file of its own, below the walkers that return it and the structure they record, so that
//! none of them imports the screen's entry points, which import them.

use thiserror::Error;

use super::format::MAX_DEPTH;

/// Why the screen refused bytes before yrs decoded them.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ScreenError {
    /// The bytes (or one of a v2 update's columns) end inside a value.
    #[error("truncated")]
    Truncated,
    /// A varint is longer than the value it encodes allows.
    #[error("varint overflow")]
    VarIntOverflow,
    /// A declared count exceeds what the remaining bytes could hold.
    #[error("declared count {count} exceeds the {left} bytes left")]
    Count {
        /// Declared.
        count: u64,
        /// Bytes left (for v2 blocks: blocks the input's size still allows).
        left: u64,
    },
    /// A client id Yjs cannot represent.
    #[error("client id {0} exceeds 2^53 - 1")]
    ClientId(u64),
    /// A clock of an update at or past [`MAX_CLOCK`](crate::untrusted::MAX_CLOCK), given or reached by adding lengths.
    #[error("clock {0} is at or past the limit of 2^30")]
    Clock(u64),
    /// A v2 run length or clock delta that overflows yrs' 32-bit arithmetic.
    #[error("run length or delta overflows 32 bits")]
    Overflow,
    /// A string that is not UTF-8.
    #[error("string is not UTF-8")]
    Utf8,
    /// A v2 string length that splits a character or runs past the string data.
    #[error("string length does not match the string data")]
    StringLength,
    /// Content kind a cardsync document never holds (or an unknown one).
    #[error("unsupported content kind {0}")]
    Content(u8),
    /// A shared type other than a map or a text.
    #[error("unsupported shared type {0}")]
    SharedType(u64),
    /// An unknown `Any` tag.
    #[error("unknown value tag {0}")]
    ValueTag(u8),
    /// Values nested too deeply.
    #[error("values nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// Bytes after the end.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// A client's blocks, or its deleted ranges, are listed twice.
    #[error("client {0} is listed twice")]
    DuplicateClient(u64),
    /// An item depends on a clock its own client wrote at the same time or later.
    #[error("item {client}#{clock} depends on its own client's later clocks")]
    Causality {
        /// The item's client.
        client: u64,
        /// The item's clock.
        clock: u32,
    },
    /// An item's left and right origins are the same character.
    #[error("item {client}#{clock} has the same left and right origin")]
    Origins {
        /// The item's client.
        client: u64,
        /// The item's clock.
        clock: u32,
    },
}
