// The package in a real browser: headless Chromium (Debian's, through playwright-core) loads
// a page from a local static server that imports `cardsync` through its browser entry point,
// fetches the `.wasm` over HTTP and runs the cases in `cases.js`. Each case is one test here.
//
// Run by `cargo xtask test` (step `pkg-browser`) after the release build. The first test proves
// where the others ran: the page's user agent is HeadlessChrome (printed in the log), and the
// server saw the browser fetch the glue and the `.wasm` as `application/wasm`. The last one
// fails on any error the page did not handle.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { launch } from "./chromium.js";
import { PKG, testPage } from "./page.js";
import { serve } from "./server.js";

const server = await serve(PKG, { index: await testPage() });
const browser = await launch();
const { page } = browser;
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(error));
page.on("console", (message) => {
  if (message.type() === "error") pageErrors.push(new Error(`console.error: ${message.text()}`));
});

after(async () => {
  await browser.close();
  await server.close();
});

await page.goto(`${server.url}/`);
await page.waitForFunction(() => window.cardsync !== undefined, null, { timeout: 30_000 });
const loaded = await page.evaluate(() => ({ names: window.cardsync.names, error: window.cardsync.error }));
if (loaded.error) throw new Error(`the test page failed to load:\n${loaded.error}`);

/** Runs the case `name` in the page; its thrown error fails the test with its message. */
const run = (name) => page.evaluate((name) => window.cardsync.run(name), name);

test("the cases run in headless Chromium, on the wasm fetched over HTTP", async (t) => {
  const { userAgent, href } = await run("environment");
  t.diagnostic(`user agent: ${userAgent}`);
  t.diagnostic(`browser: Chromium ${browser.version}, page ${href}`);
  assert.match(userAgent, /HeadlessChrome\/\d+/);
  assert.ok(href.startsWith(`${server.url}/`));
  const served = (path) => server.requests.find((r) => r.path === path);
  assert.deepEqual(served("/src/browser.js"), { path: "/src/browser.js", status: 200, type: "text/javascript; charset=utf-8" });
  assert.deepEqual(served("/dist/wasm/cardsync_wasm_bg.wasm"), {
    path: "/dist/wasm/cardsync_wasm_bg.wasm",
    status: 200,
    type: "application/wasm",
  });
  assert.ok(served("/node_modules/yjs/dist/yjs.mjs"), "yjs came from node_modules through the import map");
  const failed = server.requests.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], "every request the page made was served");
});

for (const name of loaded.names.filter((name) => name !== "environment")) {
  test(`in Chromium: ${name}`, async (t) => {
    t.diagnostic(String(await run(name)));
  });
}

test("the page reported no unhandled error", () => {
  assert.deepEqual(pageErrors.map(String), []);
});
