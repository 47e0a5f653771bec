// The public API, the same from both entry points (`node.js`, `browser.js`), which differ
// only in how they load the wasm.

export {
  CardDoc,
  mergeUpdatesV1,
  mergeUpdatesV2,
  newId,
  SyncMachine,
} from "../dist/wasm/cardsync_wasm.js";
export { SyncClient } from "./sync/client.js";
export { MuxClient } from "./sync/mux.js";
export { IndexedDbStore } from "./sync/idb-store.js";
export { MemoryStore } from "./sync/memory-store.js";
export { FileStore } from "./sync/file-store.js";
export { CardsyncError } from "./error.js";
export { LiveQuery, liveQuery } from "./query.js";
