//! Errors as JavaScript sees them: a `CardsyncError` (a subclass of `Error`) with a stable
//! `code` string, so UI code branches on `error.code` instead of parsing messages.
//!
//! Every error the core returns has its code (`code()` on each core error type), so a code
//! means the same in Rust, on the wire and in JavaScript; the few errors that only exist at
//! this boundary (a malformed argument, a re-entered document) get theirs here. This is the
//! one place that builds JS errors.
//!
//! The class is defined by the package facade (`pkg/src/error.js`), which registers it under
//! `Symbol.for("cardsync.CardsyncError")`; the generated glue cannot import the facade, so it
//! looks the class up there. Without the facade (wasm-bindgen-test) errors are plain `Error`s
//! with the same `name` and `code`.

use cardsync_core::{DecodeError, IdError, OpenError, SchemaError, WriteError};
use cardsync_sync::session::SessionError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
export function cardsyncError(code, message) {
  const CardsyncError = globalThis[Symbol.for("cardsync.CardsyncError")];
  if (CardsyncError) return new CardsyncError(code, message);
  const error = new Error(message);
  error.name = "CardsyncError";
  error.code = code;
  return error;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = cardsyncError)]
    fn cardsync_error(code: &str, message: &str) -> JsValue;
}

/// A `CardsyncError` with `code` and `message`.
pub(crate) fn js_error(code: &str, message: impl std::fmt::Display) -> JsValue {
    cardsync_error(code, &message.to_string())
}

/// Conversion of every error the core returns into a JS error.
pub(crate) trait IntoJsError {
    /// The `CardsyncError` for this error.
    fn into_js(self) -> JsValue;
}

/// The core's error types, each with its own `code()`.
macro_rules! coded {
    ($($error:ty),*) => {$(
        impl IntoJsError for $error {
            fn into_js(self) -> JsValue {
                js_error(self.code(), &self)
            }
        }
    )*};
}

coded!(
    WriteError,
    DecodeError,
    OpenError,
    SchemaError,
    IdError,
    SessionError
);

/// `Result<T, E>` → `Result<T, JsValue>` for any core error, so methods can use `?`.
pub(crate) trait JsResult<T> {
    /// Maps the error into a `CardsyncError`.
    fn js(self) -> Result<T, JsValue>;
}

impl<T, E: IntoJsError> JsResult<T> for Result<T, E> {
    fn js(self) -> Result<T, JsValue> {
        self.map_err(IntoJsError::into_js)
    }
}
