// The package as a user installs it: `npm pack`, then `npm install` of the tarball into a
// fresh project (offline: the package has no dependencies), imported from Node ESM and
// compiled against from TypeScript. The other tests import the package from its own
// directory, where a file missing from `files` or a wrong `exports` path would go unnoticed.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { PKG, packAndInstall, run } from "./packed.js";

const node = (script, cwd) => run(process.execPath, ["--input-type=module", "-e", script], cwd);

let dir;
let packed;
let remove;

before(() => {
  ({ dir, packed, remove } = packAndInstall());
});

after(() => remove?.());

test("the tarball holds the entry points, the wasm and the declarations, and nothing else", () => {
  const files = packed.files.map((file) => file.path).sort();
  for (const needed of [
    "package.json",
    "README.md",
    "src/browser.js",
    "src/node.js",
    "src/error.js",
    "src/index.d.ts",
    "src/sync/client.js",
    "src/sync/client.d.ts",
    "src/sync/adoption.js",
    "src/sync/drain.js",
    "src/sync/page_life.js",
    "src/sync/persist_queue.js",
    "src/sync/socket.js",
    "src/sync/idb-store.js",
    "src/sync/memory-store.js",
    "src/sync/stores.d.ts",
    "src/react.js",
    "src/react.d.ts",
    "dist/wasm/cardsync_wasm.js",
    "dist/wasm/cardsync_wasm.d.ts",
    "dist/wasm/cardsync_wasm_bg.wasm",
  ]) {
    assert.ok(files.includes(needed), `${needed} is missing from the tarball`);
  }
  const stray = files.filter((file) => !/^(package\.json|README\.md|src\/|dist\/wasm\/)/.test(file));
  assert.deepEqual(stray, [], "tests, benches and node_modules stay out of the tarball");
  assert.ok(files.some((file) => file.startsWith("dist/wasm/snippets/")), "the glue's inline snippets");
});

test("Node ESM imports the installed package through `exports`", () => {
  const out = node(
    `
    import { CardDoc, CardsyncError, init, newId } from "cardsync";
    await init();
    const doc = new CardDoc({ version: 1, cards: { note: { fields: { text: { kind: "text" } } } } }, { clientId: 7 });
    const card = doc.createCard("note", { text: "packed" });
    let code;
    try { doc.setField(newId(), "text", "x"); } catch (error) { code = error instanceof CardsyncError && error.code; }
    console.log(JSON.stringify({
      entry: import.meta.resolve("cardsync"),
      text: doc.card(card).fields.text,
      code,
      version: (await import("cardsync/package.json", { with: { type: "json" } })).default.version,
    }));
    `,
    dir,
  );
  const result = JSON.parse(out);
  assert.ok(result.entry.endsWith("/node_modules/cardsync/src/node.js"), result.entry);
  assert.ok(result.entry.includes(dir), "resolved inside the consumer, not the source tree");
  assert.equal(result.text, "packed");
  assert.equal(result.code, "unknown_card");
  assert.equal(result.version, JSON.parse(readFileSync(join(PKG, "package.json"), "utf8")).version);
});

test("paths outside `exports` are closed to consumers", () => {
  const out = node(
    `
    try { await import("cardsync/dist/wasm/cardsync_wasm.js"); console.log("imported"); }
    catch (error) { console.log(error.code); }
    `,
    dir,
  );
  assert.equal(out.trim(), "ERR_PACKAGE_PATH_NOT_EXPORTED");
});

test("TypeScript finds the installed declarations", () => {
  writeFileSync(
    join(dir, "use.ts"),
    `import { CardDoc, type ErrorCode } from "cardsync";
const doc = new CardDoc({ version: 1, cards: {} }, { clientId: 1 });
const code: ErrorCode = "decode_error";
export const ids: string[] = [doc.snapshotV1().length.toString(), code];
`,
  );
  const tsc = join(PKG, "node_modules", "typescript", "bin", "tsc");
  const options = ["--strict", "--noEmit", "--module", "nodenext", "--moduleResolution", "nodenext"];
  run(process.execPath, [tsc, ...options, "--lib", "es2022,esnext.disposable,dom", "use.ts"], dir);
});
