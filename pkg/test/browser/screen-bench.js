// The first-screen benchmark, in the page (`first-screen.bench.js` drives it): a warm
// IndexedDB holding a 10k-card board, and one timed `SyncClient.open` per page load.

import { CardDoc, IndexedDbStore, init, SyncClient } from "cardsync";
import { ViewCache } from "/src/sync/view-cache.js";
import { tagOf } from "/src/sync/view.js";
import { boardSchema as schema } from "../fixtures.js";
import { render } from "./screen.js";

await init();

/** A room nobody serves: the benchmark opens offline. */
const url = "ws://127.0.0.1:9/rooms/bench";
const STATUSES = ["todo", "doing", "done"];

export const cases = {
  /**
   * Writes a board of `count` cards (8 fields each, `bodyLen`-char bodies) into the outbox
   * database of `name` as its confirmed state: one sequence of every card, and a kanban
   * board of `columns` columns. Then opens it once, which builds the view cache.
   */
  async seed({ name, count, bodyLen, columns }) {
    const doc = new CardDoc(schema, { clientId: 7, actor: "seed" });
    const sequence = doc.createSequence();
    const board = doc.createBoard("kanban");
    const cols = Array.from({ length: columns }, (_, i) => doc.addColumn(board, `Column ${i}`, i));
    const body = "lorem ipsum dolor sit amet ".repeat(Math.ceil(bodyLen / 27)).slice(0, bodyLen);
    for (let i = 0; i < count; i++) {
      const card = doc.createCard("task", {
        title: `Card ${i}`,
        status: STATUSES[i % 3],
        estimate: i % 13,
        urgent: i % 7 === 0,
        note: `note ${i}`,
        body,
      });
      doc.increment(card, "votes", i % 5);
      doc.addToSet(card, "tags", `t${i % 9}`);
      doc.insertIntoSequence(sequence, card, i);
      doc.placeCard(board, card, cols[i % columns], Math.floor(i / columns));
    }
    const update = doc.snapshotV1();
    doc.free();
    // For comparison: the bare CRDT load of the same state, without the sync machine.
    const before = performance.now();
    CardDoc.loadV1(schema, update).free();
    const loadV1Ms = performance.now() - before;
    const store = await IndexedDbStore.open(`cardsync:${name}`);
    await store.apply([{ kind: "compact_confirmed", update }]);
    store.close();
    const client = await SyncClient.open({ url, name, schema, online: false });
    const cards = Object.keys(client.view().cards).length;
    await client.close();
    return { cards, updateBytes: update.length, loadV1Ms };
  },

  /**
   * One load: from the `SyncClient.open` call to the first screen in the DOM, and to the doc
   * being live; the main thread's long tasks meanwhile; and whether the cache's tag matched.
   */
  async load({ name, stale }) {
    if (stale) await dropTag(`cardsync:${name}:view`);
    const cache = await ViewCache.open(`cardsync:${name}:view`);
    const { tag } = await cache.all();
    cache.close();
    const longTasks = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push({ start: entry.startTime, duration: entry.duration });
    });
    observer.observe({ type: "longtask" });
    // Let the cache read's own work finish before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 50));
    let firstScreen;
    let shown = 0;
    const start = performance.now();
    const client = await SyncClient.open({
      url,
      name,
      schema,
      online: false,
      onView: (view) => {
        render(view);
        firstScreen = performance.now() - start;
        shown = document.querySelectorAll("#board li").length;
      },
    });
    const live = performance.now() - start;
    // What the reconciliation's fast path costs, timed again on the live doc: the tag, and
    // re-reading every sequence and board.
    let t = performance.now();
    const fastPath = sameTag(tag, tagOf(client.doc));
    const tagMs = performance.now() - t;
    t = performance.now();
    for (const id of client.doc.sequenceIds()) client.doc.sequence(id);
    for (const id of client.doc.boardIds()) client.doc.board(id);
    const listsMs = performance.now() - t;
    render(client.view());
    // Long task entries arrive after the task; give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    observer.disconnect();
    await client.close();
    const during = longTasks.filter((t) => t.start + t.duration >= start && t.start <= start + live);
    return { firstScreen, live, shown, fastPath, tagMs, listsMs, longTasks: during.map((t) => Math.round(t.duration)) };
  },
};

/** Deletes the view cache's tag, as after a crash before a flush: every card is re-read. */
async function dropTag(database) {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(database);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const tx = db.transaction("meta", "readwrite");
  tx.objectStore("meta").delete("tag");
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

function sameTag(a, b) {
  if (!a || !b) return false;
  const same = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.stateVector, b.stateVector) && same(a.deleteSet, b.deleteSet);
}
