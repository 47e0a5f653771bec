//! The firewall in front of yrs: everything between untrusted bytes and a document.
//!
//! **Why.** yrs 0.28.1 trusts its input, and the core takes bytes from anyone: a server from
//! every client, a browser tab from the server. Decoding believes the counts an update declares
//! and does unchecked arithmetic on what it reads; integrating accepts updates whose
//! predecessors are missing and leaves the document in a state its own encoders cannot write
//! back; a few shapes no honest peer writes make it panic, or make replicas read different text
//! forever. In wasm32 a panic aborts the whole module. So no untrusted bytes reach yrs except
//! through here, in two steps:
//!
//! 1. the [`screen`] walks the bytes before yrs decodes them, without allocating, and refuses
//!    what would make decoding costly or panicky ([`ScreenError`], returned as
//!    [`DecodeError::Screen`]); on the way it records the update's structure (its blocks, what
//!    each depends on, its deleted ranges);
//! 2. the intake plans, from that structure and the document, what yrs integrates now, what
//!    waits outside yrs for its predecessors (kept in every snapshot), and what no document can
//!    take ([`IntegrateError`], returned as [`DecodeError::Integrate`]).
//!
//! Every call into yrs on such bytes runs under `catch_unwind` as well
//! ([`DecodeError::Panicked`]). Every entry point of the core that takes bytes (applying,
//! loading, diffing, merging, [`concat_updates_v1`]) goes through here, so callers need nothing
//! extra; [`screen_update_v1`] is for code that keeps bytes without decoding them, such as the
//! sync server's store.
//!
//! This module knows nothing of cards: it deals in Yjs updates, state vectors and yrs
//! documents, and of the rest of the core it uses only [`MAX_CLIENT_ID`](crate::MAX_CLIENT_ID).
//! The card model sits on top of it.

mod decode;
mod error;
mod intake;
pub mod screen;
mod structure;

pub use error::{DecodeError, IntegrateError};
pub use intake::concat_updates_v1;
pub use screen::{
    MAX_CLOCK, MAX_DEPTH, ScreenError, screen_state_vector_v1, screen_update_v1, screen_update_v2,
};

pub(crate) use decode::{Encoding, contain, decode};
pub(crate) use intake::Intake;
