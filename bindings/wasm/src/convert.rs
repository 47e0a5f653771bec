//! Conversions between JavaScript values and core types, all in one place.
//!
//! Reads return *plain JS snapshots*, never handles into the document: a UI can keep, compare
//! and render them freely. Their shapes are exactly the core's serde shapes, the same JSON the
//! server and the outbox use (absent values are `null`), so `doc.export()` deep-equals
//! `JSON.parse(doc.exportJson())`.
//!
//! Structured values cross the boundary as JSON text: `serde_json` on the Rust side,
//! `JSON.parse`/`JSON.stringify` on the JS side. Measured against serde-wasm-bindgen (which
//! builds objects with one boundary call per property), this made the gzipped `.wasm` about
//! 50 KB smaller, because the core already links serde_json and every serde impl is then
//! instantiated for one format only, and V8's `JSON.parse` builds large snapshots faster.
//! Register values, ids, numbers and bytes skip JSON entirely.
//!
//! Arguments coming from JavaScript are untrusted: a wrong shape is an `invalid_argument`
//! error and a malformed id an `invalid_id` error, never a panic. `JSON.stringify` would turn
//! `NaN` and `Infinity` into `null` silently, so its replacer refuses them instead.

use cardsync_core::{Attributes, CardId, SequenceId, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

use crate::error::{JsResult, js_error};

#[wasm_bindgen(inline_js = r#"
function strict(key, value) {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new TypeError(`${key === "" ? "value" : JSON.stringify(key)}: numbers must be finite, got ${value}`);
  }
  return value;
}
export function toJson(value) {
  return JSON.stringify(value, strict);
}
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = toJson)]
    fn to_json(value: &JsValue) -> Result<Option<String>, JsValue>;
}

/// A core value as a plain JS value (`undefined` for `None`).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    // Core values are strings, finite numbers, bools and maps and lists of them: nothing
    // serde_json can fail on, and nothing `JSON.parse` can refuse.
    let text = serde_json::to_string(value).map_err(|error| js_error("out_of_range", error))?;
    if text == "null" {
        return Ok(JsValue::UNDEFINED);
    }
    js_sys::JSON::parse(&text)
}

/// A JS value as a core value; `what` names the argument in the error message.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    let text = to_json(&value).map_err(|error| {
        let message = error.dyn_ref::<js_sys::Error>().map_or_else(
            || "not JSON-serializable".to_owned(),
            |e| e.message().into(),
        );
        js_error("invalid_argument", format!("{what}: {message}"))
    })?;
    serde_json::from_str(text.as_deref().unwrap_or("null"))
        .map_err(|error| js_error("invalid_argument", format!("{what}: {error}")))
}

/// Like [`from_js`], with `undefined` and `null` meaning the default.
pub(crate) fn from_js_or_default<T: DeserializeOwned + Default>(
    value: JsValue,
    what: &str,
) -> Result<T, JsValue> {
    if value.is_undefined() || value.is_null() {
        Ok(T::default())
    } else {
        from_js(value, what)
    }
}

/// Named values (`Attributes`): a plain object read property by property when every value
/// is a register value (no JSON text, no serde parse: that path was 27% of a JS card
/// creation in issue 21's profile), otherwise through JSON like any structured argument;
/// `undefined` and `null` mean none.
pub(crate) fn attributes(value: JsValue, what: &str) -> Result<Attributes, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Attributes::new());
    }
    let Some(object) = value.dyn_ref::<js_sys::Object>() else {
        return from_js(value, what);
    };
    if js_sys::Array::is_array(&value) {
        return from_js(value, what);
    }
    let mut out = Attributes::new();
    for entry in js_sys::Object::entries(object).iter() {
        let entry: js_sys::Array = entry.unchecked_into();
        let (Some(name), Some(value)) = (entry.get(0).as_string(), primitive(entry.get(1))) else {
            return from_js(value, what);
        };
        out.insert(name, value);
    }
    Ok(out)
}

/// A register value read without JSON, if it is one: finite numbers only (JSON would refuse
/// the others too), `None` for anything the JSON path must judge.
fn primitive(value: JsValue) -> Option<Value> {
    if value.is_null() {
        Some(Value::Null)
    } else if let Some(b) = value.as_bool() {
        Some(Value::Bool(b))
    } else if let Some(n) = value.as_f64().filter(|n| n.is_finite()) {
        Some(Value::Number(n))
    } else {
        value.as_string().map(Value::String)
    }
}

/// Parses a printed card id.
pub(crate) fn card_id(text: &str) -> Result<CardId, JsValue> {
    text.parse().js()
}

/// Parses a printed sequence id.
pub(crate) fn sequence_id(text: &str) -> Result<SequenceId, JsValue> {
    text.parse().js()
}

/// Ids as a JS array of strings.
pub(crate) fn ids_to_js<I: std::fmt::Display>(ids: &[I]) -> js_sys::Array {
    ids.iter().map(|id| JsValue::from(id.to_string())).collect()
}

/// A JS number that must be a non-negative integer index or length (UTF-16 units, positions).
pub(crate) fn index(value: f64, what: &str) -> Result<u32, JsValue> {
    if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        Ok(value as u32)
    } else {
        Err(js_error(
            "invalid_argument",
            format!("{what} must be an integer from 0 to 2^32 - 1"),
        ))
    }
}

/// A JS number that must be a safe integer (a counter step).
pub(crate) fn safe_integer(value: f64, what: &str) -> Result<i64, JsValue> {
    if value.fract() == 0.0 && value.abs() <= cardsync_sync::MAX_SAFE_INTEGER as f64 {
        Ok(value as i64)
    } else {
        Err(js_error(
            "invalid_argument",
            format!("{what} must be a safe integer"),
        ))
    }
}

/// A register value: `null`/`undefined`, a boolean, a number, a string, or a plain array or
/// object of those (for a composite register; the core checks its shape). Anything else
/// (bigints, functions, symbols) is refused here rather than stored as something Yjs would
/// read differently.
pub(crate) fn value(value: JsValue) -> Result<Value, JsValue> {
    if value.is_null() || value.is_undefined() {
        Ok(Value::Null)
    } else if let Some(b) = value.as_bool() {
        Ok(Value::Bool(b))
    } else if let Some(n) = value.as_f64() {
        Ok(Value::Number(n))
    } else if let Some(s) = value.as_string() {
        Ok(Value::String(s))
    } else if value.is_object() {
        from_js(value, "value")
    } else {
        Err(js_error(
            "invalid_argument",
            "a value is null, a boolean, a finite number, a string, or an array or object of them",
        ))
    }
}
