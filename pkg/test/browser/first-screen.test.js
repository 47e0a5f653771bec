// The first screen without the CRDT, in headless Chromium against a real `cardsync-server`:
// a page renders a board from the view cache in IndexedDB before the socket connects (the
// server is not even running), then reconciles once online; and a card deleted while the
// cache was not looking never shows once the doc is live (docs/design.md §4, "The view cache").
//
// The server is the binary cargo built (CARDSYNC_SERVER_BIN, else target/debug; the
// `pkg-test` step builds it before this `pkg-browser` step runs).

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { boardSchema } from "../fixtures.js";
import { startServer } from "../sync-server.js";
import { launch } from "./chromium.js";
import { PKG, testPage } from "./page.js";
import { serve } from "./server.js";

const server = await startServer({ schema: boardSchema });
const http = await serve(PKG, { index: await testPage("/test/browser/screen.js") });
const browser = await launch();
const { page } = browser;
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(error));

after(async () => {
  await browser.close();
  await http.close();
  await server.stop();
});

/** Loads (or reloads) the page: a fresh JS heap, the same IndexedDB. */
async function load() {
  await page.goto(`${http.url}/`);
  await page.waitForFunction(() => window.cardsync !== undefined, null, { timeout: 30_000 });
  const error = await page.evaluate(() => window.cardsync.error);
  if (error) throw new Error(`the page failed to load:\n${error}`);
}

const run = (name, arg) => page.evaluate(([name, arg]) => window.cardsync.run(name, arg), [name, arg]);

test("the board renders from the view cache with the server down, then reconciles online", async () => {
  const doc = "first-screen";
  const at = { url: server.url(doc), token: server.token(doc), name: doc };
  await load();
  const seeded = await run("seed", at);
  const [x, y, z] = seeded.ids;
  // While this page is away, another device deletes x and adds w.
  const w = await run("remoteEdit", { ...at, sequence: seeded.sequence, remove: x });
  await server.pause();

  await load();
  const opened = await run("open", at);
  assert.ok(opened.first, "onView was called with the cached first screen");
  assert.equal(opened.first.live, false);
  assert.equal(opened.first.complete, false);
  // The sequence and the board column each show x, y, z: from the cache, with no server.
  assert.deepEqual(opened.first.shown, [x, y, z, x, y, z]);
  assert.notEqual(opened.status, "online", "the socket never connected: the server is down");
  // The live doc has not heard of the deletion either (offline): the same cards.
  assert.deepEqual(opened.live, [x, y, z, x, y, z]);

  await server.resume();
  const shown = await run("reconciled", { present: w, absent: x });
  assert.deepEqual(shown, [w, y, z, y, z], "reconciled from the live doc's change events");
  await run("close");

  // What the change events brought was flushed to the cache: the next first screen has it.
  await load();
  const again = await run("open", at);
  assert.deepEqual(again.first.shown, [w, y, z, y, z]);
  assert.deepEqual(again.liveCards, [w, y, z].sort());
  await run("close");
});

test("a card deleted where the cache did not see it never shows once the doc is live", async () => {
  const doc = "deleted-while-away";
  const at = { url: server.url(doc), token: server.token(doc), name: doc };
  await load();
  const { ids } = await run("seed", at);
  const [x, y, z] = ids;
  // Deleted through a client without the view cache: the outbox has it, the cache does not.
  await load();
  await run("open", { ...at, viewCache: false });
  await run("editHere", { remove: y, retitle: x });

  await load();
  const opened = await run("open", at);
  assert.deepEqual(opened.first.shown, [x, y, z, x, y, z], "the stale cache is the first screen");
  assert.deepEqual(opened.live, [x, z, x, z], "the board has no y: the lists come from the doc");
  assert.deepEqual(opened.liveCards, [x, z].sort(), "the live view has no y: the cache's tag did not match");
  assert.equal(opened.titles[x], "renamed", "x has the title written where the cache did not see it");
  await run("close");

  // The rebuilt cache is the next first screen.
  await load();
  const again = await run("open", at);
  assert.deepEqual(again.first.shown, [x, z, x, z]);
  assert.deepEqual(again.live, [x, z, x, z]);
  assert.deepEqual(again.liveCards, [x, z].sort());
  assert.equal(again.titles[x], "renamed");
  await run("close");
});

test("the page reported no unhandled error", () => {
  assert.deepEqual(pageErrors.map(String), []);
});
