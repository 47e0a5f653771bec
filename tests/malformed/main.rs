//! Malformed input: every entry point of the core that decodes untrusted bytes or text gets
//! thousands of broken inputs and must answer `Err` (or `Ok`, when a mutation happens to stay
//! valid) without panicking, and leave the document usable (docs/design.md §4: "decoding untrusted
//! bytes returns a typed error and never panics").
//!
//! Inputs are derived from real updates, state vectors, ids and JSON: every truncation, seeded
//! single- and multi-bit flips, byte overwrites with boundary values, splices, and random bytes.
//! The generator is an inline SplitMix64 with fixed seeds, so every run sees the same inputs and
//! a failure names the input (hex) that caused it.
//!
//! yrs 0.28.1 has decode bombs (docs/design.md §8): a huge count declared in a few bytes makes
//! `Update::decode_v1` / `StateVector::decode_v1` pre-allocate up to ~0.5 GB and spend up to
//! ~1 s before failing. Measured here before the core had its screen (test profile): ~6%
//! of fully random v1 updates and state vectors took >= 10 ms (31 s for 2,500 random v1
//! updates, 45 s for 3,000 random state vectors); mutations of real updates and all v2 inputs
//! stayed under ~10 ms each. With the screen refusing such counts before yrs sees them, the
//! whole file runs in about a second, and `updates::the_known_decode_bomb_is_an_error` bounds the
//! known bomb's time so a regression of the screen shows. `CARDSYNC_MALFORMED_REPORT=1 cargo
//! test -p cardsync-tests --test malformed -- --nocapture` prints per-entry-point counts and
//! timings; random inputs also come with mostly short varints, which get past the counts into
//! the structure.
//!
//! One test binary, one module per kind of input: [`updates`], [`state_vectors`], [`text`] (ids
//! and relationship keys), [`json`] (schemas and ops), and [`crashes`], the replayed finds;
//! [`inputs`] and [`corpus`] are what they share.

mod corpus;
mod crashes;
mod inputs;
mod json;
mod state_vectors;
mod text;
mod updates;
