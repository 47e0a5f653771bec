//! The update API: state vectors, diffs, snapshots and applying updates, in Yjs's v1 and v2
//! encodings, with `Uint8Array`s in and out. Bytes from JavaScript are untrusted: anything
//! malformed is a `CardsyncError` with code `decode_error`.

use wasm_bindgen::prelude::*;

use super::CardDoc;
use crate::convert::to_js;
use crate::error::JsResult;
use crate::types::JsDocExport;

#[wasm_bindgen]
impl CardDoc {
    /// The state vector: what this replica has seen, for a peer to compute a diff against.
    #[wasm_bindgen(js_name = stateVector)]
    pub fn state_vector(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.read()?.state_vector())
    }

    /// What this replica has that a peer with `stateVector` lacks, v1-encoded (what
    /// `Y.applyUpdate` reads).
    #[wasm_bindgen(js_name = diffV1)]
    pub fn diff_v1(
        &self,
        #[wasm_bindgen(js_name = stateVector)] state_vector: &[u8],
    ) -> Result<Vec<u8>, JsValue> {
        self.read()?.diff_v1(state_vector).js()
    }

    /// Like `diffV1`, v2-encoded (`Y.applyUpdateV2`; smaller for text-heavy documents).
    #[wasm_bindgen(js_name = diffV2)]
    pub fn diff_v2(
        &self,
        #[wasm_bindgen(js_name = stateVector)] state_vector: &[u8],
    ) -> Result<Vec<u8>, JsValue> {
        self.read()?.diff_v2(state_vector).js()
    }

    /// The whole document as one v1 update.
    #[wasm_bindgen(js_name = snapshotV1)]
    pub fn snapshot_v1(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.read()?.snapshot_v1())
    }

    /// The whole document as one v2 update.
    #[wasm_bindgen(js_name = snapshotV2)]
    pub fn snapshot_v2(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.read()?.snapshot_v2())
    }

    /// Applies a v1 update from another peer (events have origin `"remote"`).
    #[wasm_bindgen(js_name = applyUpdateV1)]
    pub fn apply_update_v1(&self, update: &[u8]) -> Result<(), JsValue> {
        self.write(|backing, _| backing.plain("applyUpdateV1")?.apply_update_v1(update).js())
    }

    /// Applies a v2 update from another peer.
    #[wasm_bindgen(js_name = applyUpdateV2)]
    pub fn apply_update_v2(&self, update: &[u8]) -> Result<(), JsValue> {
        self.write(|backing, _| backing.plain("applyUpdateV2")?.apply_update_v2(update).js())
    }

    /// The whole document as plain data; two converged replicas export deep-equal objects.
    #[wasm_bindgen(js_name = export)]
    pub fn export_plain(&self) -> Result<JsDocExport, JsValue> {
        Ok(to_js(&self.read()?.export())?.unchecked_into())
    }

    /// The export as JSON text.
    #[wasm_bindgen(js_name = exportJson)]
    pub fn export_json(&self) -> Result<String, JsValue> {
        Ok(self.read()?.export_json())
    }
}
