//! # cardsync-wasm
//!
//! The wasm-bindgen layer under the `cardsync` npm package (`pkg/`): thin newtypes over
//! [`cardsync_core`] and the conversions between their values and plain JS values, nothing
//! else (docs/design.md §2, §7). Build it with `cargo xtask wasm [--release]`.
//!
//! - [`CardDoc`] (`card_doc/`): the one exported class; reads return plain snapshots.
//! - `convert`: every JS ⇄ Rust value conversion; `error`: every JS error, a
//!   `CardsyncError` with a stable `code`; `types`: the TypeScript shapes, so the `.d.ts`
//!   has no `any`; `events`: change events delivered after each write.
//! - The functions below: ids and merging updates without a document.
//!
//! No bad input traps: arguments and bytes are checked and refused with an error. The
//! `panic-hook` feature prints a panic's message (a bug) with `console.error` before the
//! instance traps.

mod card_doc;
mod convert;
mod error;
mod events;
#[cfg(feature = "panic-hook")]
mod panic_hook;
mod random;
mod sync_machine;
mod types;

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

pub use card_doc::CardDoc;
pub use sync_machine::SyncMachine;

use crate::error::JsResult;

/// A fresh random id (26 base32 characters) for a card or a sequence.
#[wasm_bindgen(js_name = newId)]
pub fn new_id() -> Result<String, JsValue> {
    Ok(cardsync_core::CardId::from_bytes(random::id_bytes()?).to_string())
}

/// Merges v1 updates into one, keeping updates whose predecessors are missing.
#[wasm_bindgen(js_name = mergeUpdatesV1)]
pub fn merge_updates_v1(updates: Vec<Uint8Array>) -> Result<Vec<u8>, JsValue> {
    let owned: Vec<Vec<u8>> = updates.iter().map(Uint8Array::to_vec).collect();
    let slices: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    cardsync_core::merge_updates_v1(&slices).js()
}

/// Merges v2 updates into one.
#[wasm_bindgen(js_name = mergeUpdatesV2)]
pub fn merge_updates_v2(updates: Vec<Uint8Array>) -> Result<Vec<u8>, JsValue> {
    let owned: Vec<Vec<u8>> = updates.iter().map(Uint8Array::to_vec).collect();
    let slices: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
    cardsync_core::merge_updates_v2(&slices).js()
}
