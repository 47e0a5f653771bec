//! Persisted sync state as JavaScript stores it: the outbox and the confirmed updates.
//!
//! A batch crosses as `{ key, meta, update }`: `key` ("client:seq") names it for removal,
//! `meta` is its JSON without the update, `update` the raw bytes, so an IndexedDB record
//! holds a `Uint8Array` rather than a JSON array of numbers. The same split the native
//! SQLite store uses (`Batch::meta_json`).

use cardsync_core::MAX_CLIENT_ID;
use cardsync_sync::outbox::{Batch, PersistOp, Persisted};
use cardsync_sync::protocol::BatchId;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::error::js_error;

/// The persisted state from the store's plain object
/// (`{ confirmed: Uint8Array[], outbox: { key, meta, update }[], retired?: number[] }`).
pub(crate) fn persisted(value: JsValue) -> Result<Persisted, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Persisted::default());
    }
    let confirmed = field(&value, "confirmed")?;
    let outbox = field(&value, "outbox")?;
    let retired = field(&value, "retired")?;
    let mut state = Persisted::default();
    for (pos, client) in retired.iter().enumerate() {
        let id = client
            .as_f64()
            .filter(|id| id.fract() == 0.0 && (0.0..=MAX_CLIENT_ID as f64).contains(id))
            .ok_or_else(|| js_error("store_corrupt", format!("retired[{pos}]: not a client id")))?;
        state.retired.push(id as u64);
    }
    for update in confirmed.iter() {
        state.confirmed.push(bytes(&update, "confirmed")?);
    }
    for (pos, record) in outbox.iter().enumerate() {
        let meta = Reflect::get(&record, &"meta".into())?
            .as_string()
            .ok_or_else(|| {
                js_error(
                    "invalid_argument",
                    format!("outbox[{pos}].meta: not a string"),
                )
            })?;
        let update = bytes(&Reflect::get(&record, &"update".into())?, "outbox update")?;
        let batch = Batch::from_meta_json(&meta, update)
            .map_err(|e| js_error("store_corrupt", format!("outbox[{pos}]: {e}")))?;
        state.outbox.push(batch);
    }
    Ok(state)
}

fn field(value: &JsValue, name: &str) -> Result<Array, JsValue> {
    let found = Reflect::get(value, &name.into())?;
    if found.is_undefined() {
        return Ok(Array::new());
    }
    found.dyn_into::<Array>().map_err(|_| {
        js_error(
            "invalid_argument",
            format!("persisted.{name}: not an array"),
        )
    })
}

fn bytes(value: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| js_error("invalid_argument", format!("{what}: not a Uint8Array")))
}

/// The store's name for a batch.
pub(crate) fn key(id: &BatchId) -> String {
    format!("{}:{}", id.client, id.seq)
}

fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in entries {
        // Setting a property on a fresh plain object cannot throw.
        let _ = Reflect::set(&object, &(*name).into(), value);
    }
    object.into()
}

fn stored(batch: &Batch) -> JsValue {
    object(&[
        ("key", key(&batch.id).into()),
        ("meta", batch.meta_json().into()),
        ("update", Uint8Array::from(&batch.update[..]).into()),
    ])
}

/// A persist op as the plain object the JS store carries out.
pub(crate) fn op(seq: u64, op: &PersistOp) -> JsValue {
    let (kind, mut entries): (&str, Vec<(&str, JsValue)>) = match op {
        PersistOp::PutBatch(batch) => ("put_batch", vec![("batch", stored(batch))]),
        PersistOp::ReplaceLast(batch) => ("replace_last", vec![("batch", stored(batch))]),
        PersistOp::RemoveBatches(ids) => {
            let keys: Array = ids.iter().map(|id| JsValue::from(key(id))).collect();
            ("remove_batches", vec![("keys", keys.into())])
        }
        PersistOp::ReplaceAll(batches) => {
            let all: Array = batches.iter().map(stored).collect();
            ("replace_all", vec![("batches", all.into())])
        }
        PersistOp::AppendConfirmed(update) => (
            "append_confirmed",
            vec![("update", Uint8Array::from(update.as_slice()).into())],
        ),
        PersistOp::CompactConfirmed(snapshot) => (
            "compact_confirmed",
            vec![("update", Uint8Array::from(snapshot.as_slice()).into())],
        ),
        PersistOp::RetireClients(ids) => {
            // Client ids stay below 2^53 (`MAX_CLIENT_ID`): exact as JS numbers.
            let clients: Array = ids.iter().map(|&id| JsValue::from(id as f64)).collect();
            ("retire_clients", vec![("clients", clients.into())])
        }
    };
    entries.push(("kind", kind.into()));
    entries.push(("seq", (seq as f64).into()));
    object(&entries)
}
