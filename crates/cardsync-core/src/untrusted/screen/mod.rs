//! The screen: a walk over the structure of untrusted updates and state vectors, before yrs
//! decodes them, that refuses what yrs cannot decode cheaply and safely.
//!
//! **Why.** yrs 0.28.1 trusts the counts an update declares: `Update::decode_v1` reserves
//! memory for as many clients and blocks as its first varints claim, so the 5 bytes
//! `ab 8e c5 73 76` make it allocate ~0.5 GB and spend ~0.5 s before it fails (docs/design.md §8;
//! the same bytes behind a v2 header do the same to `decode_v2`). A handful of such messages
//! exhausts a server, and a browser tab too. Worse, several of yrs' decoding steps do
//! unchecked arithmetic on decoded values (clock sums, run lengths, `ClientID::new`'s
//! `debug_assert` on ids above 2^53), which panics in debug builds. The screen walks the bytes
//! as yrs will read them, without allocating, and lets yrs see only input whose decoding costs
//! time and memory proportional to its size and that cannot trip those panics. Every entry
//! point of the core that decodes bytes ([`CardDoc::apply_update_v1`], `_v2`,
//! [`CardDoc::load_v1`], [`merge_updates_v1`], [`CardDoc::diff_v1`], ...) runs it first and
//! returns [`DecodeError::Screen`] for what it refuses, so callers need nothing extra.
//!
//! **What it refuses:**
//! - a declared count larger than what the bytes left could hold (every counted element of
//!   v1 takes at least one byte), so what yrs reserves is proportional to bytes really present;
//!   in v2, whose columns are run-length encoded, blocks are counted against the whole input
//!   instead (an honest encoder merges runs of identical blocks, so it never writes more
//!   blocks than bytes);
//! - client ids above 2^53 − 1 (Yjs cannot represent them, and yrs debug-asserts on them);
//! - clocks at or past [`MAX_CLOCK`] (2^30) in an update, including where blocks or deleted
//!   ranges would run past it, and v2 run lengths and clock deltas that overflow yrs' 32-bit
//!   arithmetic. yrs reads 32-bit clocks, but its v2 encoder writes the deltas between origin
//!   clocks as `delta << 1` in an `i32`, which loses the top bit of a delta of 2^30 or more:
//!   a document holding such clocks wrote a v2 snapshot that decoded to other clocks (fuzz
//!   finding `update_v2/v2-snapshot-loses-clock-delta`). Keeping every clock below 2^30 keeps
//!   every delta below it. A client would need a billion edits to one document to reach it;
//! - `Any` values nested deeper than [`MAX_DEPTH`] (yrs decodes them recursively);
//! - v2 string lengths that split a character or run past the string data;
//! - content a cardsync document never holds and that only brings risk: legacy JSON content
//!   (yrs reads one string more than it declares, so it and Yjs would disagree on the
//!   document), binary content (a `Uint8Array` a Yjs peer sets on a map key: yrs' v2 encoder
//!   writes its length twice, `EncoderV2::write_all` in yrs `updates/encoder.rs:220`, so a
//!   document holding one makes v2 snapshots and diffs that neither yrs nor Yjs can read),
//!   sub-documents, and shared types other than maps and texts;
//! - trailing bytes;
//! - structural contradictions no honest peer writes: a client listed twice (yrs appends the
//!   second run to the first, out of clock order), an item that depends on its own client's
//!   clock at or after its own (it would wait for itself forever), an item whose left and
//!   right origins are the same character (yrs places it differently depending on how its
//!   blocks happen to be split, so replicas read different text forever).
//!
//! Passing the screen does not make an update valid (it may still not integrate, and the sync
//! server still validates what it changes); it makes decoding it cheap and safe. On the way
//! the screen records the update's structure (the crate-private `untrusted::structure`), which the
//! intake uses to decide what yrs integrates.
//!
//! [`CardDoc::apply_update_v1`]: crate::CardDoc::apply_update_v1
//! [`CardDoc::load_v1`]: crate::CardDoc::load_v1
//! [`CardDoc::diff_v1`]: crate::CardDoc::diff_v1
//! [`merge_updates_v1`]: crate::merge_updates_v1
//! [`DecodeError::Screen`]: crate::DecodeError::Screen

mod error;
mod format;
mod reader;
mod v1;
mod v2;

#[cfg(test)]
pub(crate) mod tests;

pub use error::ScreenError;
pub(crate) use format::{CONTENT_DELETED, CONTENT_FORMAT, CONTENT_TYPE, TYPE_MAP};
pub use format::{MAX_CLOCK, MAX_DEPTH};

use crate::untrusted::structure::Structure;
use reader::Reader;

/// Screens a v1 update: `Ok` when it is safe to hand to `yrs::Update::decode_v1`.
pub fn screen_update_v1(bytes: &[u8]) -> Result<(), ScreenError> {
    v1::update(bytes).map(drop)
}

/// Screens a v2 update: `Ok` when it is safe to hand to `yrs::Update::decode_v2`.
pub fn screen_update_v2(bytes: &[u8]) -> Result<(), ScreenError> {
    v2::update(bytes).map(drop)
}

/// Like [`screen_update_v1`], returning the structure it found.
pub(crate) fn update_v1(bytes: &[u8]) -> Result<Structure, ScreenError> {
    v1::update(bytes)
}

/// Like [`screen_update_v2`], returning the structure it found (without byte ranges).
pub(crate) fn update_v2(bytes: &[u8]) -> Result<Structure, ScreenError> {
    v2::update(bytes)
}

/// Screens a state vector (v1, the only encoding in use): `Ok` when it is safe to hand to
/// `yrs::StateVector::decode_v1`.
pub fn screen_state_vector_v1(bytes: &[u8]) -> Result<(), ScreenError> {
    let mut r = Reader::new(bytes);
    for _ in 0..r.count()? {
        r.client()?;
        r.var_u32()?; // a clock yrs reads; asking for more than a document holds is harmless
    }
    r.finish()
}
