// The browser and bundler entry point of `cardsync`: call `await init()` once before using
// anything else. It fetches and instantiates the `.wasm` next to the glue code (found through
// `new URL(..., import.meta.url)`, which Vite and other bundlers understand), or the module,
// bytes or URL you pass.

import initWasm from "../dist/wasm/cardsync_wasm.js";

export * from "./public.js";

let ready;

/**
 * Loads the wasm module; later calls return the same promise. A failed load can be retried.
 * @param {string | URL | ArrayBuffer | Uint8Array | WebAssembly.Module} [wasm]
 * @returns {Promise<void>}
 */
export function init(wasm) {
  ready ??= initWasm(wasm === undefined ? undefined : { module_or_path: wasm }).then(
    () => undefined,
    (error) => {
      ready = undefined;
      throw error;
    },
  );
  return ready;
}
