//! Randomness for ids and client ids, from the host's `crypto.getRandomValues`.
//!
//! The core reads no RNG (docs/design.md §7): card ids, sequence ids and client ids come in as
//! arguments. In JavaScript the natural source is Web Crypto, present in every browser and in
//! Node 20+, so the bindings draw them here and JS callers never have to.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// 16 random bytes: a fresh card or sequence id.
pub(crate) fn id_bytes() -> Result<[u8; 16], JsValue> {
    let mut bytes = [0u8; 16];
    get_random_values(&mut bytes)?;
    Ok(bytes)
}

/// A random client id below the range reserved for field containers (under 2^52, so exact in
/// JavaScript as Yjs requires), and never 0.
pub(crate) fn client_id() -> Result<u64, JsValue> {
    let mut bytes = [0u8; 8];
    get_random_values(&mut bytes)?;
    let id = u64::from_le_bytes(bytes) & cardsync_core::MAX_REPLICA_CLIENT_ID;
    Ok(id.max(1))
}
