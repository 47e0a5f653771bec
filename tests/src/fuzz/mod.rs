//! The fuzz harness: one function per fuzz target, shared by the libFuzzer targets in `fuzz/`
//! (nightly, `cargo xtask fuzz`) and by the stable regression replay (`tests/fuzz_replay.rs`).
//!
//! Why the targets live here and not in `fuzz/`: a crash found by libFuzzer becomes a file
//! under `tests/fuzz-regressions/<target>/`, and the ordinary `cargo test` on stable replays
//! it through *the same function*. The fuzz crate is a set of one-line wrappers, so what
//! nightly fuzzes and what stable replays cannot drift apart.
//!
//! Every target treats its input as untrusted bytes and panics only when cardsync breaks a
//! promise: a panic escaping our API, a refused input that changed the document anyway, an
//! accepted input whose snapshot does not reload to the same document, replicas that do not
//! converge. A typed error for bad input is the expected, passing outcome.

mod decode;
mod protocol;
mod replicas;
mod schema;
mod seeds;
mod session;

use std::fmt;
use std::str::FromStr;

pub use seeds::{fixture_doc, seeds};
pub use session::simulate as simulate_session;

/// The fuzz targets, by the names the `fuzz/` crate and the regression folders use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A v1 update applied to a document with content, and merged.
    UpdateV1,
    /// A v2 update applied to a document with content, and merged.
    UpdateV2,
    /// A state vector given to `diff_v1`/`diff_v2`.
    StateVector,
    /// One protocol frame: decode, and re-encode what decoded.
    Protocol,
    /// A stream of frames from one connected editor into a server room.
    Room,
    /// 2–4 replicas, arbitrary local operations and arbitrary delivery: convergence and the
    /// model's invariants.
    Replicas,
    /// A JSON schema plus a JSON batch of operations: typed errors, atomic batches.
    Schema,
    /// A room and 2–5 client sessions under arbitrary edits, acks, rejections, disconnects,
    /// partitions and crashes: no operation lost or duplicated, rejected ones rolled back.
    Session,
}

impl Target {
    /// Every target, in the order CI runs them.
    pub const ALL: [Target; 8] = [
        Target::UpdateV1,
        Target::UpdateV2,
        Target::StateVector,
        Target::Protocol,
        Target::Room,
        Target::Replicas,
        Target::Schema,
        Target::Session,
    ];

    /// The target's name: its fuzz binary and its regression folder.
    pub fn name(self) -> &'static str {
        match self {
            Target::UpdateV1 => "update_v1",
            Target::UpdateV2 => "update_v2",
            Target::StateVector => "state_vector",
            Target::Protocol => "protocol",
            Target::Room => "room",
            Target::Replicas => "replicas",
            Target::Schema => "schema",
            Target::Session => "session",
        }
    }

    /// Runs the target on one input; panics when cardsync breaks a promise.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::UpdateV1 => decode::update(data, decode::Encoding::V1),
            Target::UpdateV2 => decode::update(data, decode::Encoding::V2),
            Target::StateVector => decode::state_vector(data),
            Target::Protocol => protocol::frame(data),
            Target::Room => protocol::room(data),
            Target::Replicas => replicas::run(data),
            Target::Schema => schema::run(data),
            Target::Session => session::run(data),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a fuzz target.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{0}` is not a fuzz target (expected one of: update_v1, update_v2, state_vector, protocol, room, replicas, schema, session)"
)]
pub struct UnknownTarget(pub String);

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|target| target.name() == name)
            .ok_or_else(|| UnknownTarget(name.to_owned()))
    }
}
