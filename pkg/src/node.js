// The Node.js entry point of `cardsync`: the wasm module is compiled synchronously when this
// module is imported, so everything works right after `import`; `init()` exists only so that
// code shared with browsers can call it.

import { readFileSync } from "node:fs";
import { initSync } from "../dist/wasm/cardsync_wasm.js";

export * from "./public.js";

initSync({
  module: readFileSync(new URL("../dist/wasm/cardsync_wasm_bg.wasm", import.meta.url)),
});

/** Resolves at once: in Node the module is ready at import. */
export async function init() {}
