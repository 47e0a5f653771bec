// The cardsync package under test. `cargo xtask bench` points CARDSYNC_PKG at a private copy
// of pkg/ holding a release wasm it just built, so a debug build that another task writes into
// pkg/dist/wasm meanwhile cannot end up in the figures; without it, the package from
// node_modules (a link to ../../pkg) is used.

import { pathToFileURL } from "node:url";

const entry = process.env.CARDSYNC_PKG ? pathToFileURL(`${process.env.CARDSYNC_PKG}/src/node.js`).href : "cardsync";
const cardsync = await import(entry);

export const { CardDoc, newId } = cardsync;
