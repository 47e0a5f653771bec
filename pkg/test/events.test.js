// Typed change events: one batch per transaction, delivered after it committed, with an
// unsubscribe function; a throwing listener must not corrupt the document.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { makeDoc, sync } from "./helpers.js";

test("local, remote and undo transactions each deliver one typed batch", () => {
  const doc = makeDoc(61);
  const peer = makeDoc(62);
  const batches = [];
  const unsubscribe = doc.subscribe((batch) => batches.push(batch));
  const card = doc.createCard("task", { title: "A" });
  doc.apply([
    { op: "set_field", card, field: "title", value: "B" },
    { op: "increment", card, field: "votes", by: 1 },
  ]);
  assert.deepEqual(batches, [
    { origin: "local", events: [{ type: "card_created", card, kind: "task" }] },
    {
      origin: "local",
      events: [
        { type: "field_changed", card, field: "title" },
        { type: "field_changed", card, field: "votes" },
      ],
    },
  ]);
  sync(doc, peer);
  peer.setField(card, "title", "C");
  sync(peer, doc);
  assert.deepEqual(batches.at(-1), { origin: "remote", events: [{ type: "field_changed", card, field: "title" }] });
  doc.undo();
  assert.equal(batches.at(-1).origin, "undo");

  unsubscribe();
  unsubscribe(); // a second call does nothing
  const count = batches.length;
  doc.setField(card, "title", "D");
  assert.equal(batches.length, count);
});

test("listeners may read and write the document they listen to", () => {
  const doc = makeDoc(63);
  const seen = [];
  doc.subscribe((batch) => {
    for (const event of batch.events) {
      if (event.type === "card_created") {
        seen.push(doc.card(event.card).fields.title);
        doc.increment(event.card, "votes", 1); // a write from inside a listener
      }
    }
  });
  const card = doc.createCard("task", { title: "A" });
  assert.deepEqual(seen, ["A"]);
  assert.equal(doc.card(card).fields.votes, 1);
});

test("a throwing listener neither corrupts the doc nor silences other listeners", async () => {
  const doc = makeDoc(64);
  const reported = [];
  const original = globalThis.reportError;
  globalThis.reportError = (error) => reported.push(error);
  try {
    const calls = [];
    doc.subscribe(() => {
      calls.push("first");
      throw new Error("listener bug");
    });
    doc.subscribe(() => calls.push("second"));
    const card = doc.createCard("task", { title: "A" }); // does not throw: the write committed
    doc.setField(card, "title", "B");
    assert.deepEqual(calls, ["first", "second", "first", "second"]);
    assert.deepEqual(reported.map((e) => e.message), ["listener bug", "listener bug"]);
    assert.equal(doc.card(card).fields.title, "B");
    assert.equal(doc.undo(), true);
    assert.equal(doc.card(card).fields.title, "A");
    const copy = makeDoc(65);
    sync(doc, copy);
    assert.deepEqual(copy.export(), doc.export());
  } finally {
    if (original === undefined) delete globalThis.reportError;
    else globalThis.reportError = original;
  }
});

test("without reportError (Node), a listener's exception is rethrown asynchronously", () => {
  // Rethrown from a microtask, it is an uncaught exception, as an EventTarget listener's
  // would be: run it in a child process and look at how that ends.
  assert.equal(globalThis.reportError, undefined, "Node 20 has no reportError");
  const script = `
    import { CardDoc } from "cardsync";
    const doc = new CardDoc({ version: 1, cards: { note: { fields: {} } } }, { clientId: 1 });
    doc.subscribe(() => { throw new Error("async report"); });
    doc.createCard("note");
    console.log("write committed:", doc.cards().length);
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
  });
  assert.match(child.stdout, /write committed: 1/);
  assert.match(child.stderr, /async report/);
  assert.notEqual(child.status, 0);
});
