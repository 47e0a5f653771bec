// Presence on the demo board end to end (docs/design.md §6, "Presence"): the built board
// (demo/dist) served by a real cardsync-server, two users in headless Chromium, each in a
// browser context of their own. Each sees the other on the board and on the card they edit,
// and a user whose page goes away abruptly (the browser context closed, or the tab's renderer
// crashed, with no `client.close()`) disappears within the documented bound of 33 s.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, afterEach, before, test } from "node:test";
import { chromium } from "playwright-core";
import { startServer } from "../../pkg/test/sync-server.js";
import { until } from "../../pkg/test/until.js";
import { schema } from "../src/schema.js";

const DIST = fileURLToPath(new URL("../dist", import.meta.url));
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"];
/** How long an entry may outlive its tab: a client's 30 s expiry, checked every 3 s. */
const BOUND_MS = 33_000;

let server;
let browser;
before(async () => {
  server = await startServer({ schema, staticDir: DIST });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ARGS });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const openContexts = new Set();
afterEach(async () => {
  await Promise.all([...openContexts].map((context) => context.close().catch(() => {})));
  openContexts.clear();
});

let rooms = 0;
const freshRoom = () => `presence-${process.pid}-${++rooms}`;

/** A user: a browser context of its own with the board of `room` open, online. */
async function user(room, name) {
  const context = await browser.newContext();
  openContexts.add(context);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(`${server.http}/?doc=${room}&name=${name}&token=${server.token(room, "editor")}`);
  await page.waitForFunction(() => window.cardsyncDemo?.client.status.status === "online", null, {
    timeout: 20_000,
  });
  return { page, context, errors, name };
}

/** The names in a page's list of people on the board (its own first, marked "(you)"). */
const people = (u) => u.page.locator("#presence li").evaluateAll((items) => items.map((i) => i.dataset.user));

/** Waits until `u`'s list of people is `names`, or throws after `timeoutMs`. */
async function seesPeople(u, names, timeoutMs = 10_000) {
  await until(async () => JSON.stringify(await people(u)) === JSON.stringify(names), `${u.name} to see ${names}`, timeoutMs);
}

/** Two users on one board, seeing each other. */
async function pair() {
  const room = freshRoom();
  const [ada, bob] = [await user(room, "Ada"), await user(room, "Bob")];
  await seesPeople(ada, ["Ada (you)", "Bob"]);
  await seesPeople(bob, ["Bob (you)", "Ada"]);
  return { ada, bob };
}

test("two users see each other on the board and on the card each edits", async () => {
  const { ada, bob } = await pair();
  const card = await ada.page.evaluate(() => window.cardsyncDemo.board.add("todo", "Shared card"));
  const onCard = (u) => u.page.locator(`li.card[data-card="${card}"]`);
  await onCard(bob).waitFor();

  // Ada edits the card's notes: Bob sees her marker on that card, naming the field.
  await onCard(ada).locator("textarea.body").click();
  await onCard(ada).locator("textarea.body").pressSequentially("Hi");
  await until(async () => (await onCard(bob).getAttribute("data-editing")) === "Ada", "Bob to see Ada on the card");
  assert.match(await onCard(bob).locator(".presence-marker").textContent(), /^Ada · body$/);
  const published = await ada.page.evaluate(() => window.cardsyncDemo.client.presence.local);
  assert.deepEqual(published.cursor, { anchor: 2, head: 2 }, "the caret travels too");

  // Bob edits the same card's title: Ada sees him there; Ada leaves the field: her marker goes.
  await onCard(bob).locator("input.title").click();
  await until(async () => (await onCard(ada).getAttribute("data-editing")) === "Bob", "Ada to see Bob on the card");
  await ada.page.locator("#who").click();
  await until(async () => (await onCard(bob).getAttribute("data-editing")) === null, "Ada's marker to go");
  assert.deepEqual([...ada.errors, ...bob.errors], []);
});

test("a user whose browser context is closed abruptly disappears within the bound", async () => {
  const { ada, bob } = await pair();
  // No client.close(): the context (and its pages) are torn down.
  const started = Date.now();
  await bob.context.close();
  openContexts.delete(bob.context);
  await seesPeople(ada, ["Ada (you)"], BOUND_MS);
  const took = Date.now() - started;
  console.log(`presence: Bob gone for Ada ${took} ms after his context closed (bound ${BOUND_MS} ms)`);
  assert.ok(took <= BOUND_MS, `took ${took} ms`);
  assert.deepEqual(ada.errors, []);
});

test("a user whose tab crashes disappears within the bound", async () => {
  const { ada, bob } = await pair();
  // The renderer dies: no pagehide, no close frame, nothing of the page runs again.
  const cdp = await bob.context.newCDPSession(bob.page);
  const started = Date.now();
  // The crash takes the session with it: the command never answers, so it is not awaited.
  cdp.send("Page.crash").catch(() => {});
  await seesPeople(ada, ["Ada (you)"], BOUND_MS);
  const took = Date.now() - started;
  console.log(`presence: Bob gone for Ada ${took} ms after his tab crashed (bound ${BOUND_MS} ms)`);
  assert.ok(took <= BOUND_MS, `took ${took} ms`);
});
