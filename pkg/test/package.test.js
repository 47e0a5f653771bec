// The package as published: what `exports` resolves to, and declarations without `any`
// whose doc comments came from the Rust sources.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as cardsync from "cardsync";

const read = (path) => readFileSync(new URL(path, import.meta.url), "utf8");
const manifest = JSON.parse(read("../package.json"));

test("the entry point exports exactly the public API", () => {
  assert.deepEqual(Object.keys(cardsync).sort(), [
    "CardDoc",
    "CardsyncError",
    "FileStore",
    "IndexedDbStore",
    "LiveQuery",
    "MemoryStore",
    "MuxClient",
    "SyncClient",
    "SyncMachine",
    "init",
    "liveQuery",
    "mergeUpdatesV1",
    "mergeUpdatesV2",
    "newId",
  ]);
  assert.equal(manifest.name, "cardsync");
  assert.equal(manifest.type, "module");
  const entry = manifest.exports["."];
  for (const condition of ["types", "node", "browser", "default"]) {
    assert.ok(entry[condition], `exports["."].${condition}`);
  }
});

test("the browser entry exports the same names as the Node entry", async () => {
  const browser = await import("../src/browser.js");
  assert.deepEqual(Object.keys(browser).sort(), Object.keys(cardsync).sort());
  assert.equal(browser.CardDoc, cardsync.CardDoc, "one set of classes, one glue module");
});

test("the public declarations have no `any` and carry the Rust doc comments", () => {
  const generated = read("../dist/wasm/cardsync_wasm.d.ts");
  // The generated file ends with wasm-bindgen's own loader types (raw wasm exports), which
  // the public index.d.ts does not re-export.
  const cut = generated.indexOf("export type InitInput");
  assert.ok(cut > 0, "the loader section was not found; did wasm-bindgen change its output?");
  for (const [name, text] of [
    ["cardsync_wasm.d.ts", generated.slice(0, cut)],
    ["index.d.ts", read("../src/index.d.ts")],
  ]) {
    const code = text
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "")
      .replace(/"[^"\n]*"/g, '""');
    assert.doesNotMatch(code, /\bany\b/, `${name} mentions \`any\` outside comments`);
    assert.doesNotMatch(code, /\bunknown\b/, `${name} mentions \`unknown\``);
  }
  assert.match(generated, /Applies many ops as one transaction/);
  assert.match(generated, /subscribe\(listener: ChangeListener\): Unsubscribe;/);
  assert.match(generated, /\[Symbol\.dispose\]\(\): void;/);
});
