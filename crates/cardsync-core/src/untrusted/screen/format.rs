//! The Yjs update format as the screen reads it: the numbers of block and content kinds, and
//! the limits the screen holds every update to ([`MAX_CLOCK`], [`MAX_DEPTH`]).
//!
//! Constants only, shared by the v1 and v2 walkers, the screen's error and the intake (which
//! reads content kinds from the recorded structure), so it sits below all of them.

/// Deepest nesting of arrays and maps inside an `Any` value.
pub const MAX_DEPTH: usize = 32;

/// The first clock an update may not reach: items have clocks below it, blocks and deleted
/// ranges end at or before it (why: the [screen](crate::untrusted::screen)).
pub const MAX_CLOCK: u32 = 1 << 30;

// Block and content numbers of the Yjs update format.
pub(super) const BLOCK_GC: u8 = 0;
pub(super) const BLOCK_SKIP: u8 = 10;
pub(super) const HAS_ORIGIN: u8 = 0x80;
pub(super) const HAS_RIGHT_ORIGIN: u8 = 0x40;
pub(super) const HAS_PARENT_SUB: u8 = 0x20;
/// Content numbers live in the low bits; Yjs defines 1..=9 and never sets bit 4, which yrs
/// ignores (it masks with `0b1111`), so a set bit 4 is refused as an unknown content.
pub(super) const CONTENT_MASK: u8 = 0x1f;
pub(crate) const CONTENT_DELETED: u8 = 1;
pub(super) const CONTENT_BINARY: u8 = 3;
pub(super) const CONTENT_STRING: u8 = 4;
pub(super) const CONTENT_EMBED: u8 = 5;
pub(crate) const CONTENT_FORMAT: u8 = 6;
pub(crate) const CONTENT_TYPE: u8 = 7;
pub(super) const CONTENT_ANY: u8 = 8;
pub(crate) const TYPE_MAP: u64 = 1;
pub(super) const TYPE_TEXT: u64 = 2;
