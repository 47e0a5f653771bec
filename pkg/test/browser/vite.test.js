// The package in a Vite build (the package promises ESM that Vite bundles): the tarball as installed from
// npm, an app that imports it by name (`vite-app/`), `vite build`, and the bundle served
// and run in headless Chromium. It proves that Vite resolves the `browser` export, emits the
// `.wasm` that the glue finds through `new URL(…, import.meta.url)`, and that the built app
// loads and runs it.

import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { build } from "vite";
import { packAndInstall } from "../packed.js";
import { launch } from "./chromium.js";
import { serve } from "./server.js";

const cleanup = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

test("a Vite build of an app that imports cardsync runs in Chromium", async (t) => {
  const consumer = packAndInstall();
  cleanup.push(consumer.remove);
  for (const file of ["index.html", "main.js"]) {
    copyFileSync(new URL(`vite-app/${file}`, import.meta.url), join(consumer.dir, file));
  }
  const outDir = join(consumer.dir, "dist");
  await build({ root: consumer.dir, configFile: false, logLevel: "warn", build: { outDir, emptyOutDir: true } });

  const server = await serve(outDir);
  cleanup.push(server.close);
  const browser = await launch();
  cleanup.push(browser.close);
  const errors = [];
  browser.page.on("pageerror", (error) => errors.push(String(error)));
  await browser.page.goto(`${server.url}/`);
  await browser.page.waitForFunction(() => window.outcome !== undefined, null, { timeout: 30_000 });
  const outcome = await browser.page.evaluate(() => window.outcome);
  assert.equal(outcome.error, undefined, outcome.error);
  t.diagnostic(`user agent: ${outcome.value.userAgent}`);
  assert.match(outcome.value.userAgent, /HeadlessChrome\//);
  assert.deepEqual(outcome.value.fields, { title: "bundled", body: "Hello Vite" });
  assert.equal(outcome.value.code, "decode_error");

  const wasm = server.requests.filter((r) => r.path.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one .wasm fetched: ${JSON.stringify(server.requests)}`);
  assert.match(wasm[0].path, /^\/assets\/cardsync_wasm_bg-[\w-]+\.wasm$/, "emitted by Vite as a hashed asset");
  assert.deepEqual([wasm[0].status, wasm[0].type], [200, "application/wasm"]);
  assert.deepEqual(server.requests.filter((r) => r.status !== 200), []);
  assert.deepEqual(errors, []);
});
