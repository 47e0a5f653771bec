//! Decoding untrusted bytes: screened first, then decoded by yrs under `catch_unwind`.
//!
//! The update API (decoding an update to inspect it, reading a state vector) and the intake
//! decode this way, so it is a step of its own between the screen and the intake rather than a
//! part of either, and [`contain`] is the one place a panic in yrs becomes an error.

use std::panic::{AssertUnwindSafe, catch_unwind};

use yrs::Update;
use yrs::updates::decoder::Decode;

use super::error::DecodeError;
use super::screen;
use super::structure::Structure;

/// Which of Yjs's two update encodings.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Encoding {
    V1,
    V2,
}

/// Runs yrs on untrusted input, turning a panic into [`DecodeError::Panicked`] (native builds;
/// in wasm32 a panic aborts before this can catch it).
pub(crate) fn contain<T>(f: impl FnOnce() -> Result<T, DecodeError>) -> Result<T, DecodeError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(DecodeError::Panicked))
}

/// Screens and decodes an untrusted update.
pub(crate) fn decode(bytes: &[u8], encoding: Encoding) -> Result<(Structure, Update), DecodeError> {
    let structure = match encoding {
        Encoding::V1 => screen::update_v1(bytes)?,
        Encoding::V2 => screen::update_v2(bytes)?,
    };
    let update = contain(|| {
        match encoding {
            Encoding::V1 => Update::decode_v1(bytes),
            Encoding::V2 => Update::decode_v2(bytes),
        }
        .map_err(DecodeError::Update)
    })?;
    Ok((structure, update))
}
