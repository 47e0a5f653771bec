//! The `panic-hook` feature: a Rust panic's message on `console.error`.
//!
//! On wasm32-unknown-unknown a panic aborts (stable Rust has no unwinding there), and the
//! JS caller only sees `RuntimeError: unreachable`. Bad input never panics (it is a
//! `CardsyncError`), so a panic is a bug; this hook makes its message and location visible.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

/// Installs the hook when the module is instantiated.
#[wasm_bindgen(start)]
fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error(&format!(
            "cardsync panicked (a bug, please report it): {info}"
        ));
    }));
}
