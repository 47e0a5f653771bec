// The demo board end to end: the built board (demo/dist) served by a real cardsync-server
// (SQLite in a temporary directory), in headless Debian Chromium driven by playwright-core,
// each user in a browser context of their own (own IndexedDB, own Web Locks).
//
// "Offline" is the board's own toggle (the client stops syncing and the choice survives a
// reload), because Chromium's emulated offline mode would also refuse to reload the page.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, afterEach, before, test } from "node:test";
import { chromium } from "playwright-core";
import { startServer } from "../../pkg/test/sync-server.js";
import { until } from "../../pkg/test/until.js";
import { BOARD, LEGACY_ORDER, schema } from "../src/schema.js";

const DIST = fileURLToPath(new URL("../dist", import.meta.url));
// The demo server's configuration (`cargo xtask demo` serves with it): the WIP limit on Doing.
const CONFIG = fileURLToPath(new URL("../server.toml", import.meta.url));
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"];

let server;
let browser;
before(async () => {
  server = await startServer({ schema, staticDir: DIST, config: CONFIG });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ARGS });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// Every context a user was given, closed after each test: a failed assertion would otherwise
// leave a persistent context's browser running and the test run waiting for it forever.
const openContexts = new Set();
afterEach(async () => {
  await Promise.all([...openContexts].map((context) => context.close().catch(() => {})));
  openContexts.clear();
});

let rooms = 0;
const freshRoom = () => `e2e-${process.pid}-${++rooms}`;

const withIdb = new WeakSet();
/** Gives the pages of `context` `idbDone(request)`: an IndexedDB request as a promise. */
async function withIdbDone(context) {
  if (!withIdb.has(context)) {
    withIdb.add(context);
    await context.addInitScript(() => {
      globalThis.idbDone = (request) =>
        new Promise((resolve, reject) => {
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
    });
  }
  return context;
}

/** A user: a browser context of its own with the board of `room` open. */
async function user(room, name, { role = "editor", context } = {}) {
  context = await withIdbDone(context ?? (await browser.newContext()));
  openContexts.add(context);
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  const url = `${server.http}/?doc=${room}&name=${name}&token=${server.token(room, role)}`;
  await page.goto(url);
  await page.waitForFunction(() => window.cardsyncDemo !== undefined);
  return { page, context, errors, url };
}

const online = (u) =>
  u.page.waitForFunction(() => {
    const s = window.cardsyncDemo.client.status;
    return s.status === "online" && s.pending === 0;
  }, null, { timeout: 20_000 });

/**
 * Resolves once the page's IndexedDB outbox for `room` holds a batch whose update contains
 * `text` (a key or string the awaited write adds), or throws after 20 s. Polled from here:
 * `waitForFunction` takes the promise an async predicate returns as truthy and returns at once.
 * Batches are written one store transaction after another, so a count would pass while a
 * later write is still in flight.
 */
const storedOutbox = (u, room, text) =>
  until(
    () =>
      u.page.evaluate(
        async ([room, text]) => {
          const db = await idbDone(indexedDB.open(`cardsync:${room}`));
          const batches = await idbDone(db.transaction("outbox").objectStore("outbox").getAll());
          db.close();
          const bytes = new TextEncoder().encode(text);
          const contains = (update) => update.some((_, i) => bytes.every((b, j) => update[i + j] === b));
          return batches.some((batch) => contains(batch.update));
        },
        [room, text],
      ),
    `a stored batch in ${room} containing ${JSON.stringify(text)}`,
    20_000,
  );

const exported = (u) => u.page.evaluate(() => window.cardsyncDemo.doc.export());
const cardCount = (u, card) => u.page.locator(`li.card[data-card="${card}"]`).count();
const column = (u, card) =>
  u.page.locator(`li.card[data-card="${card}"]`).evaluate((li) => li.closest("section").dataset.column);
const board = (u, f, ...args) => u.page.evaluate(([f, args]) => window.cardsyncDemo.board[f](...args), [f, args]);

test("two users edit concurrently and converge; a card moved by both appears once", async () => {
  const room = freshRoom();
  const [a, b] = [await user(room, "Ada"), await user(room, "Bob")];
  await Promise.all([online(a), online(b)]);
  const x = await board(a, "add", "todo", "Contested card");
  const y = await board(a, "add", "todo", "Shared card");
  await b.page.waitForFunction((y) => document.querySelector(`li[data-card="${y}"]`) !== null, y);

  // Both go offline, so the edits are truly concurrent.
  await a.page.check("#offline");
  await b.page.check("#offline");
  // Ada drags X to "Doing" with the mouse; Bob moves X to the top of "To do" and edits Y.
  await a.page.locator(`li[data-card="${x}"]`).dragTo(a.page.locator('section[data-column="doing"] ol'));
  assert.equal(await column(a, x), "doing");
  await board(b, "move", x, "todo", y);
  await a.page.locator(`li[data-card="${y}"] input.title`).fill("Shared card, renamed by Ada");
  await a.page.locator(`li[data-card="${y}"] input.title`).press("Enter");
  await b.page.locator(`li[data-card="${y}"] textarea.body`).fill("Notes by Bob");

  await a.page.uncheck("#offline");
  await b.page.uncheck("#offline");
  await Promise.all([online(a), online(b)]);
  await a.page.waitForFunction((y) => window.cardsyncDemo.doc.card(y)?.fields.body === "Notes by Bob", y);
  await b.page.waitForFunction((y) => window.cardsyncDemo.doc.card(y)?.fields.title.endsWith("by Ada"), y);

  assert.deepEqual(await exported(a), await exported(b));
  for (const u of [a, b]) {
    assert.equal(await cardCount(u, x), 1, "the contested card is shown exactly once");
    assert.equal(await column(u, x), await column(a, x));
    assert.deepEqual(u.errors, []);
  }
  await Promise.all([a.context.close(), b.context.close()]);
});

/** Where the card is, as each page's document says: its place, and every column it is in. */
const placeOf = (u, card) =>
  u.page.evaluate(([board, card]) => {
    const doc = window.cardsyncDemo.doc;
    const columns = doc.board(board).columns.filter((c) => c.cards.includes(card)).map((c) => c.name);
    return { place: doc.cardPlace(board, card), columns };
  }, [BOARD, card]);

/** Drags a card with the mouse onto a column's list. */
const drag = (u, card, column) =>
  u.page.locator(`li[data-card="${card}"]`).dragTo(u.page.locator(`section[data-column="${column}"] ol`));

test("two users drag one card into two different columns at once: it ends in exactly one, the same", async () => {
  const room = freshRoom();
  const [a, b] = [await user(room, "Ada"), await user(room, "Bob")];
  await Promise.all([online(a), online(b)]);
  const card = await board(a, "add", "todo", "Dragged by both");
  const other = await board(a, "add", "doing", "Already doing");
  await online(a);
  await b.page.waitForFunction((card) => document.querySelector(`li[data-card="${card}"]`) !== null, card);

  // Both offline, so both drags are made before either sees the other's.
  await Promise.all([a.page.check("#offline"), b.page.check("#offline")]);
  await drag(a, card, "doing");
  await drag(b, card, "done");
  assert.equal(await column(a, card), "doing");
  assert.equal(await column(b, card), "done");
  // Back online together: each sends its move while the other's arrives.
  await Promise.all([a.page.uncheck("#offline"), b.page.uncheck("#offline")]);
  await Promise.all([online(a), online(b)]);
  await until(
    async () => JSON.stringify(await placeOf(a, card)) === JSON.stringify(await placeOf(b, card)),
    "both pages agree on the card's place",
    20_000,
  );

  const [atA, atB] = [await placeOf(a, card), await placeOf(b, card)];
  assert.equal(atA.columns.length, 1, `in exactly one column of the board: ${JSON.stringify(atA)}`);
  assert.ok(["Doing", "Done"].includes(atA.columns[0]), "one of the two moves won");
  assert.deepEqual(atB, atA);
  assert.deepEqual(await exported(a), await exported(b));
  for (const u of [a, b]) {
    await u.page.waitForFunction(
      ([card, key]) => document.querySelector(`li[data-card="${card}"]`)?.closest("section").dataset.column === key,
      [card, atA.columns[0].toLowerCase()],
    );
    assert.equal(await cardCount(u, card), 1, "shown exactly once");
    assert.equal(await cardCount(u, other), 1);
    assert.deepEqual(u.errors, []);
  }
});

test("a fourth card dragged into Doing is refused by the WIP limit, rolled back, and the notice says so", async () => {
  const room = freshRoom();
  const a = await user(room, "Ada");
  await online(a);
  for (let i = 1; i <= 3; i++) await board(a, "add", "doing", `Doing ${i}`);
  const fourth = await board(a, "add", "todo", "One too many");
  await online(a);
  await drag(a, fourth, "doing");
  await a.page.waitForSelector("#notice:not([hidden])");
  assert.match(await a.page.textContent("#notice"), /board's rules refused your change \(wip_limit: .*"Doing".*at most 3.*rolled back/);
  await a.page.waitForFunction((card) => document.querySelector(`li[data-card="${card}"]`)?.closest("section").dataset.column === "todo", fourth);
  assert.equal(await a.page.locator('section[data-column="doing"] li.card').count(), 3);
  const status = await a.page.evaluate(() => window.cardsyncDemo.client.status);
  assert.equal(status.lastRejection?.code, "rejected_by_validator");
  assert.equal(status.pending, 0);
  // Moving one out of Doing, then the fourth in, is allowed.
  await drag(a, await a.page.locator('section[data-column="doing"] li.card').first().getAttribute("data-card"), "done");
  await drag(a, fourth, "doing");
  await online(a);
  assert.equal(await column(a, fourth), "doing");
  assert.equal(await a.page.locator('section[data-column="doing"] li.card').count(), 3);
  assert.deepEqual(a.errors, []);
});

test("a card written before the board (schema version 1: a status, no placement) shows in that column until moved", async () => {
  const room = freshRoom();
  const a = await user(room, "Ada");
  await online(a);
  await board(a, "add", "todo", "On the board");
  // What version 1 wrote: the card with its status, in the one global sequence.
  const card = "000000000000000000000000vv";
  await a.page.evaluate(
    ([card, order]) =>
      window.cardsyncDemo.doc.apply([
        { op: "create_card", card, kind: "task", fields: { title: "Written by version 1", status: "doing" } },
        { op: "create_sequence", sequence: order },
        { op: "insert_into_sequence", sequence: order, card, index: 0 },
      ]),
    [card, LEGACY_ORDER],
  );
  await a.page.waitForFunction((card) => document.querySelector(`li[data-card="${card}"]`) !== null, card);
  assert.equal(await column(a, card), "doing");
  assert.equal(await placeOf(a, card).then((p) => p.place), undefined, "not on the board yet");
  await drag(a, card, "done");
  assert.equal(await column(a, card), "done");
  assert.deepEqual((await placeOf(a, card)).columns, ["Done"]);
  await online(a);
  assert.deepEqual(a.errors, []);
});

test("edits made offline survive a reload and land exactly once", async () => {
  const room = freshRoom();
  const a = await user(room, "Ada");
  await online(a);
  await a.page.check("#offline");
  await a.page.fill('section[data-column="todo"] form.add input', "Written offline");
  await a.page.press('section[data-column="todo"] form.add input', "Enter");
  const card = await a.page.locator("li.card").first().getAttribute("data-card");
  await a.page.locator(`li[data-card="${card}"] button.more`).click();
  // Both writes are in IndexedDB before the reload: the +10% one (the create has no progress).
  await storedOutbox(a, room, "progress");
  await a.page.waitForFunction(() => window.cardsyncDemo.client.status.pending >= 1);
  assert.match(await a.page.textContent("#badge"), /Offline/);

  await a.page.reload();
  await a.page.waitForFunction(() => window.cardsyncDemo !== undefined);
  assert.equal(await a.page.isChecked("#offline"), true, "still offline after the reload");
  assert.equal(await cardCount(a, card), 1, "the offline card came back from IndexedDB");
  assert.ok((await a.page.evaluate(() => window.cardsyncDemo.client.status.pending)) >= 1);

  await a.page.uncheck("#offline");
  await online(a);
  const b = await user(room, "Bob");
  await online(b);
  await b.page.waitForFunction((card) => window.cardsyncDemo.doc.card(card) !== undefined, card);
  const cards = await b.page.evaluate(() => window.cardsyncDemo.doc.cards("task"));
  assert.equal(cards.filter((c) => c.fields.title === "Written offline").length, 1, "sent once");
  assert.equal(cards[0].fields.progress, 0.1, "the +10% was applied once");
  assert.deepEqual(await exported(a), await exported(b));
  await Promise.all([a.context.close(), b.context.close()]);
});

test("a viewer's edit is rolled back and the notice says so", async () => {
  const room = freshRoom();
  const editor = await user(room, "Ada");
  await online(editor);
  await board(editor, "add", "todo", "Seen by the viewer");
  await online(editor);
  const viewer = await user(room, "Vic", { role: "viewer" });
  await online(viewer);
  await viewer.page.fill('section[data-column="doing"] form.add input', "Not allowed");
  await viewer.page.press('section[data-column="doing"] form.add input', "Enter");
  await viewer.page.waitForSelector("#notice:not([hidden])");
  assert.match(await viewer.page.textContent("#notice"), /forbidden.*rolled back/);
  await viewer.page.waitForFunction(() => document.querySelectorAll('section[data-column="doing"] li.card').length === 0);
  const status = await viewer.page.evaluate(() => window.cardsyncDemo.client.status);
  assert.equal(status.lastRejection?.code, "forbidden");
  assert.equal(status.pending, 0);
  assert.deepEqual(await exported(viewer), await exported(editor));
  await Promise.all([editor.context.close(), viewer.context.close()]);
});

test("the server is killed and restarted while users keep editing, and they converge", async () => {
  const room = freshRoom();
  const [a, b] = [await user(room, "Ada"), await user(room, "Bob")];
  await Promise.all([online(a), online(b)]);
  const card = await board(a, "add", "todo", "Through a crash");
  await b.page.waitForFunction((card) => window.cardsyncDemo.doc.card(card) !== undefined, card);
  const restarting = server.restart();
  for (let i = 0; i < 10; i++) {
    await board(a, "editBody", card, `A${"a".repeat(i)}`);
    await board(b, "add", "todo", `B${i}`);
  }
  await restarting;
  await Promise.all([online(a), online(b)]);
  // Each has the other's last write (acked by the server is not yet relayed to the other):
  // Bob's ten cards at Ada's, Ada's last body at Bob's.
  await a.page.waitForFunction(() => window.cardsyncDemo.doc.cards("task").length === 11);
  const last = `A${"a".repeat(9)}`;
  await b.page.waitForFunction(([card, last]) => window.cardsyncDemo.doc.card(card)?.fields.body === last, [card, last]);
  assert.deepEqual(await exported(a), await exported(b));
  await Promise.all([a.context.close(), b.context.close()]);
});

test("status transitions are observed through the API and the badge hides while healthy", async () => {
  const room = freshRoom();
  const a = await user(room, "Ada");
  await online(a);
  assert.equal(await a.page.isHidden("#badge"), true, "healthy: no badge");
  await a.page.evaluate(() => {
    window.seen = [];
    window.cardsyncDemo.client.on("status", (s) => {
      if (window.seen.at(-1) !== s.status) window.seen.push(s.status);
    });
  });
  await a.page.check("#offline");
  assert.equal(await a.page.isVisible("#badge"), true);
  assert.match(await a.page.textContent("#badge"), /Offline/);
  await a.page.uncheck("#offline");
  await online(a);
  assert.deepEqual(await a.page.evaluate(() => window.seen), ["offline", "connecting", "syncing", "online"]);
  assert.equal(await a.page.isHidden("#badge"), true);

  // The server goes away: the client backs off, shows it, and recovers.
  await server.restart();
  await a.page.waitForFunction(() => window.seen.includes("backoff") || window.seen.lastIndexOf("connecting") > 1);
  await online(a);
  await a.context.close();
});

test("a hidden page pings less often, and at the usual pace again once visible", async () => {
  const room = freshRoom();
  const a = await user(room, "Ada");
  await online(a);
  // A second client in the page, with a short heartbeat and a socket that counts what it
  // sends. Idle and online, it sends nothing but pings. The page's visibility is faked, so
  // Chromium does not also throttle the timers of a really hidden page.
  const counts = await a.page.evaluate(
    async ([schema, room, token]) => {
      let hidden = false;
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
      const setHidden = (value) => {
        hidden = value;
        document.dispatchEvent(new Event("visibilitychange"));
      };
      let sent = 0;
      class CountingSocket extends WebSocket {
        send(data) {
          sent += 1;
          super.send(data);
        }
      }
      const SyncClient = window.cardsyncDemo.client.constructor;
      const client = await SyncClient.open({
        url: `ws://${location.host}/rooms/${room}`,
        name: `${room}-heartbeat`,
        schema,
        token,
        connection: { heartbeatInterval: 250, heartbeatIntervalHidden: 60_000 },
        WebSocket: CountingSocket,
      });
      await client.whenSynced();
      const sentDuring = async (ms) => {
        sent = 0;
        await new Promise((resolve) => setTimeout(resolve, ms));
        return sent;
      };
      const visible = await sentDuring(1500);
      setHidden(true);
      const whileHidden = await sentDuring(1500);
      const statusHidden = client.status.status;
      setHidden(false);
      const visibleAgain = await sentDuring(1500);
      await client.close();
      return { visible, whileHidden, statusHidden, visibleAgain };
    },
    [schema, room, server.token(room)],
  );
  assert.ok(counts.visible >= 3, `visible: about one ping per 250 ms, got ${JSON.stringify(counts)}`);
  assert.equal(counts.whileHidden, 0, `hidden: no ping within 1.5 s, got ${JSON.stringify(counts)}`);
  assert.equal(counts.statusHidden, "online", "a hidden page stays connected");
  assert.ok(counts.visibleAgain >= 3, `visible again: the usual pace, got ${JSON.stringify(counts)}`);
  assert.deepEqual(a.errors, []);
  await a.context.close();
});

test("two tabs of one board share one outbox: the second follows, then takes over", async () => {
  const room = freshRoom();
  const first = await user(room, "Ada");
  await online(first);
  const second = await user(room, "Ada", { context: first.context });
  await online(second);
  const durable = (u) => u.page.evaluate(() => window.cardsyncDemo.client.status.durable);
  assert.equal(await durable(first), true, "the first tab owns the IndexedDB outbox");
  assert.equal(await durable(second), false, "the second keeps its outbox in memory");

  await first.page.check("#offline");
  await second.page.check("#offline");
  const one = await board(first, "add", "todo", "From the first tab");
  const two = await board(second, "add", "todo", "From the second tab");

  // The owner closes once its card is stored: the second tab takes the lock and adopts the
  // first tab's outbox.
  await storedOutbox(first, room, "From the first tab");
  await first.page.close();
  await second.page.waitForFunction(() => window.cardsyncDemo.client.status.durable);
  await second.page.waitForFunction(([one, two]) => {
    const doc = window.cardsyncDemo.doc;
    return doc.card(one) !== undefined && doc.card(two) !== undefined;
  }, [one, two]);

  // Everything is in IndexedDB now: a reload (still offline) restores both cards.
  await second.page.reload();
  await second.page.waitForFunction(() => window.cardsyncDemo !== undefined);
  assert.equal(await cardCount(second, one), 1);
  assert.equal(await cardCount(second, two), 1);

  await second.page.uncheck("#offline");
  await online(second);
  const other = await user(room, "Bob");
  await online(other);
  const titles = await other.page.evaluate(() => window.cardsyncDemo.doc.cards("task").map((c) => c.fields.title));
  assert.deepEqual(titles.sort(), ["From the first tab", "From the second tab"], "each landed once");
  await Promise.all([first.context.close(), other.context.close()]);
});

test("when IndexedDB refuses a write the status says so, nothing is sent or lost, and it recovers", async () => {
  const room = freshRoom();
  const a = await user(room, "Ada");
  await online(a);
  // The store starts failing like a full disk does.
  await a.page.evaluate(() => {
    window.realAdd = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function () {
      throw new DOMException("quota exceeded (test)", "QuotaExceededError");
    };
  });
  const card = await board(a, "add", "todo", "Kept while the disk is full");
  await a.page.waitForFunction(() => window.cardsyncDemo.client.status.storeError !== null);
  assert.match(await a.page.textContent("#badge"), /Cannot save locally: quota exceeded/);
  assert.equal(await cardCount(a, card), 1, "the edit stays on screen");
  const b = await user(room, "Bob");
  await online(b);
  assert.equal(await b.page.evaluate((card) => window.cardsyncDemo.doc.card(card), card), undefined, "not sent before it is durable");

  // The disk frees up: the retry stores the batch, then it is sent and acked.
  await a.page.evaluate(() => {
    IDBObjectStore.prototype.add = window.realAdd;
  });
  await online(a);
  assert.equal(await a.page.evaluate(() => window.cardsyncDemo.client.status.storeError), null);
  await b.page.waitForFunction((card) => window.cardsyncDemo.doc.card(card) !== undefined, card);
  await Promise.all([a.context.close(), b.context.close()]);
});

test("an outbox left by the first store version (no retired ids) is upgraded and sent once", async () => {
  const room = freshRoom();
  const dbName = `cardsync:${room}`;
  // Real records: a board offline with one edit in its outbox, read out of IndexedDB.
  const writer = await user(room, "Ada");
  await online(writer);
  await writer.page.check("#offline");
  const card = await board(writer, "add", "todo", "Written by version 1");
  await storedOutbox(writer, room, "Written by version 1");
  const records = await writer.page.evaluate(async (dbName) => {
    const db = await idbDone(indexedDB.open(dbName));
    const tx = db.transaction(["outbox", "confirmed"]);
    const [outbox, confirmed] = await Promise.all(["outbox", "confirmed"].map((s) => idbDone(tx.objectStore(s).getAll())));
    db.close();
    const bytes = (_, v) => (v instanceof Uint8Array ? { $bytes: Array.from(v) } : v);
    return JSON.stringify({ outbox, confirmed }, bytes);
  }, dbName);
  await writer.context.close();

  // A fresh browser profile gets the same records in a database of version 1, laid out as
  // that version did (outbox with its key index, confirmed, and no "retired" store).
  const context = await withIdbDone(await browser.newContext());
  const setup = await context.newPage();
  await setup.goto(`${server.http}/metrics.json`); // same origin, no board
  await setup.evaluate(
    async ([dbName, records]) => {
      const { outbox, confirmed } = JSON.parse(records, (_, v) => (v?.$bytes ? new Uint8Array(v.$bytes) : v));
      const request = indexedDB.open(dbName, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("outbox", { autoIncrement: true }).createIndex("key", "key", { unique: true });
        db.createObjectStore("confirmed", { autoIncrement: true });
      };
      const db = await idbDone(request);
      const tx = db.transaction(["outbox", "confirmed"], "readwrite");
      for (const batch of outbox) tx.objectStore("outbox").add(batch);
      for (const update of confirmed) tx.objectStore("confirmed").add(update);
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    },
    [dbName, records],
  );
  await setup.close();

  const upgraded = await user(room, "Ada", { context });
  await upgraded.page.waitForFunction((card) => window.cardsyncDemo.doc.card(card) !== undefined, card);
  await online(upgraded);
  const version = await upgraded.page.evaluate(async (dbName) => (await indexedDB.databases()).find((d) => d.name === dbName)?.version, dbName);
  assert.equal(version, 2);
  const other = await user(room, "Bob");
  await online(other);
  const titles = await other.page.evaluate(() => window.cardsyncDemo.doc.cards("task").map((c) => c.fields.title));
  assert.deepEqual(titles, ["Written by version 1"], "sent once, from the upgraded store");
  assert.deepEqual(upgraded.errors, []);
  await Promise.all([context.close(), other.context.close()]);
});

test("edits made offline survive a browser restart and land exactly once", async () => {
  const room = freshRoom();
  const profile = mkdtempSync(join(tmpdir(), "cardsync-e2e-profile-"));
  const launch = () =>
    chromium.launchPersistentContext(profile, { executablePath: "/usr/bin/chromium", headless: true, args: ARGS });
  try {
    const before = await user(room, "Ada", { context: await launch() });
    await online(before);
    await before.page.check("#offline");
    const card = await board(before, "add", "doing", "Across a restart");
    await storedOutbox(before, room, "Across a restart");
    await before.context.close(); // the whole browser exits

    const after = await user(room, "Ada", { context: await launch() });
    await after.page.waitForFunction((card) => window.cardsyncDemo.doc.card(card) !== undefined, card);
    await online(after);
    const other = await user(room, "Bob");
    await online(other);
    const titles = await other.page.evaluate(() => window.cardsyncDemo.doc.cards("task").map((c) => c.fields.title));
    assert.deepEqual(titles, ["Across a restart"], "sent once, after the restart");
    await Promise.all([after.context.close(), other.context.close()]);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
});

test("concurrent title edits show a conflict marker, resolved from the card and gone on both sides", async () => {
  const room = freshRoom();
  const [a, b] = [await user(room, "Ada"), await user(room, "Bob")];
  await Promise.all([online(a), online(b)]);
  const card = await board(a, "add", "todo", "Original title");
  await b.page.waitForFunction((card) => document.querySelector(`li[data-card="${card}"]`) !== null, card);
  const title = (u) => u.page.locator(`li[data-card="${card}"] input.title`);
  const markers = (u) => u.page.locator(`li[data-card="${card}"] .conflict`);
  const shows = (u, text) =>
    u.page.waitForFunction(
      ([card, text]) => document.querySelector(`li[data-card="${card}"] input.title`)?.value === text,
      [card, text],
    );
  const noMarker = (u) =>
    u.page.waitForFunction((card) => document.querySelector(`li[data-card="${card}"] .conflict`) === null, card);

  /**
   * Both rename the card offline; `first` comes back online (and is acked) before `second`,
   * so `second`'s rename is still pending when `first`'s reaches it: `second`'s client reports
   * the clash. (The room orders batches, so the first writer is acked before the second
   * write arrives and is told nothing: one pair of writes gives one side a marker.)
   */
  const clash = async (first, second, round) => {
    await Promise.all([a.page.check("#offline"), b.page.check("#offline")]);
    for (const u of [first, second]) {
      await title(u).fill(`${round} by ${u === a ? "Ada" : "Bob"}`);
      await title(u).press("Enter");
      await title(u).blur(); // a focused title is not overwritten by remote edits
    }
    await first.page.uncheck("#offline");
    await online(first);
    await second.page.uncheck("#offline");
    await online(second);
    await second.page.waitForSelector(`li[data-card="${card}"] .conflict`);
    assert.equal(await markers(second).count(), 1);
    const [mine, theirs] = second === b ? ["Bob", "Ada"] : ["Ada", "Bob"];
    assert.match(await markers(second).textContent(), new RegExp(`yours “${round} by ${mine}”, theirs “${round} by ${theirs}”`));
    assert.equal(await markers(first).count(), 0, "the first writer was acked before the clash: no marker");
    // Both pages hold the same winner, whichever it is.
    await until(async () => (await title(a).inputValue()) === (await title(b).inputValue()), "one title on both", 20_000);
  };

  // Round 1: Bob's rename lands second; he keeps his. The marker goes, Ada sees his title.
  await clash(a, b, "Round 1");
  await markers(b).locator("button.keep-mine").click();
  await noMarker(b);
  await online(b);
  await shows(a, "Round 1 by Bob");
  await shows(b, "Round 1 by Bob");

  // Round 2: Ada's lands second; she takes Bob's.
  await clash(b, a, "Round 2");
  await markers(a).locator("button.take-theirs").click();
  await noMarker(a);
  await online(a);
  await shows(a, "Round 2 by Bob");
  await shows(b, "Round 2 by Bob");

  // Round 3: Bob has a marker, and Ada settles the title before he picks: her write closes
  // his marker (the field was written again), and both show her title.
  await clash(a, b, "Round 3");
  await title(a).fill("Settled by Ada");
  await title(a).press("Enter");
  await online(a);
  await noMarker(b);
  await shows(b, "Settled by Ada");

  for (const u of [a, b]) {
    assert.equal(await markers(u).count(), 0);
    assert.deepEqual(u.errors, []);
  }
  assert.deepEqual(await exported(a), await exported(b));
});
