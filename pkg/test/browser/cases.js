// The browser cases: the built package used through its public browser entry point
// (`cardsync` → `src/browser.js`, resolved by the page's import map) in a real Chromium page.
//
// This module runs in the page. It loads the wasm the way an app does (`await init()`, which
// fetches the `.wasm` over HTTP), then exports `cases`: named async functions that throw on
// failure. `chromium.test.js` runs each one as a Node test through Playwright, so a failure
// here is a failed test there, with this message.

import { CardDoc, CardsyncError, init, mergeUpdatesV1, newId } from "cardsync";
import * as Y from "yjs";
import { malformedGenerators, rng, schema } from "../fixtures.js";
import { deepEqual, equal, ok, throwsCode } from "./check.js";

const loading = init();
ok(init() === loading, "init() returns the same promise to every caller");
await loading;

const makeDoc = (clientId) => new CardDoc(schema, { clientId, actor: `actor-${clientId}` });

function sync(from, to, encoding) {
  if (encoding === "v2") to.applyUpdateV2(from.diffV2(to.stateVector()));
  else to.applyUpdateV1(from.diffV1(to.stateVector()));
}

/** Calls `fn`; returns "ok" or the error's code, and fails on a trap or a foreign error. */
function outcome(fn) {
  try {
    fn();
    return "ok";
  } catch (error) {
    ok(!(error instanceof WebAssembly.RuntimeError), `trapped: ${error}`);
    ok(error instanceof CardsyncError, `not a CardsyncError: ${error}`);
    return error.code;
  }
}

export const cases = {
  /** Where this runs: the runner checks the user agent is headless Chromium. */
  async environment() {
    equal(typeof process, "undefined", "no Node globals in the page:");
    ok(newId() !== newId() && /^[0-9a-hjkmnp-tv-z]{26}$/.test(newId()), "newId() draws fresh ids");
    return { userAgent: navigator.userAgent, crossOriginIsolated, href: location.href };
  },

  async cards() {
    const doc = makeDoc(1);
    const card = doc.createCard("task", { title: "Ship it", status: "todo", body: "Hello" });
    doc.insertText(card, "body", 5, " world", { bold: true });
    doc.increment(card, "votes", 5);
    doc.increment(card, "votes", -2);
    doc.raiseMax(card, "progress", 0.5);
    doc.raiseMax(card, "progress", 0.25);
    doc.addToSet(card, "tags", "b");
    doc.addToSet(card, "tags", "a");
    doc.setField(card, "status", "doing");
    doc.setField(card, "urgent", true);
    const read = doc.card(card);
    equal(read.id, card);
    equal(read.created.by, "actor-1");
    deepEqual(read.fields, {
      title: "Ship it",
      status: "doing",
      urgent: true,
      body: "Hello world",
      votes: 3,
      progress: 0.5,
      tags: ["a", "b"],
    });
    deepEqual(doc.textRuns(card, "body"), [{ text: "Hello" }, { text: " world", attributes: { bold: true } }]);

    const person = doc.createCard("person", { name: "Ada" });
    doc.link(card, "assigned", person, { role: "owner" });
    doc.deleteCard(person);
    equal(doc.relationships().length, 0, "an edge to a deleted card is hidden:");
    doc.restoreCard(person);
    deepEqual(doc.outgoing(card).map((r) => r.to), [person]);

    const before = doc.exportJson();
    throwsCode(() => doc.setField(card, "status", "nope"), "invalid_transition");
    throwsCode(() => doc.setField(card, "estimate", "three"), "schema_violation");
    throwsCode(() => doc.setField(newId(), "title", "x"), "unknown_card");
    throwsCode(() => doc.setField("not an id", "title", "x"), "invalid_id");
    throwsCode(() => doc.insertText(card, "body", 0.5, "x"), "invalid_argument");
    throwsCode(() => new CardDoc({ version: 1, cards: { t: { fields: { $x: { kind: "text" } } } } }), "invalid_schema");
    throwsCode(() => new CardDoc(schema, { clientId: 2 ** 60 }), "invalid_client_id");
    equal(doc.exportJson(), before, "refused writes changed nothing:");

    const copy = CardDoc.loadV2(schema, doc.snapshotV2(), { clientId: 2 });
    deepEqual(copy.export(), doc.export(), "a v2 snapshot loads:");
    doc.free();
    copy.free();
    return "every field kind, relationships, error codes, snapshots";
  },

  async converge() {
    const replicas = [makeDoc(21), makeDoc(22), makeDoc(23)];
    const [first] = replicas;
    const column = first.createSequence();
    const cards = [];
    for (let i = 0; i < 8; i++) {
      const card = first.createCard("task", { title: `c${i}`, body: "" });
      first.insertIntoSequence(column, card, i);
      cards.push(card);
    }
    for (const other of replicas.slice(1)) sync(first, other, "v1");

    const random = rng(42);
    const pick = (n) => Math.floor(random() * n);
    for (let round = 0; round < 100; round++) {
      // Every replica moves one of three cards (often the same one) before hearing from the
      // others, and edits the card's text and counter.
      for (const [i, doc] of replicas.entries()) {
        const card = cards[pick(3)];
        doc.moveInSequence(column, card, pick(cards.length));
        doc.insertText(card, "body", 0, String(i));
        doc.increment(card, "votes", 1);
      }
      if (round % 4 === 3) {
        for (const from of replicas) for (const to of replicas) if (from !== to) sync(from, to, round % 8 ? "v2" : "v1");
        const order = first.sequence(column);
        equal(new Set(order).size, cards.length, `round ${round}: duplicates in ${order}:`);
        deepEqual([...order].sort(), [...cards].sort(), `round ${round}:`);
        for (const doc of replicas) deepEqual(doc.export(), first.export(), `round ${round}:`);
      }
    }
    const votes = cards.reduce((sum, card) => sum + first.card(card).fields.votes, 0);
    equal(votes, 300, "every increment counted once:");
    return `3 replicas, 300 concurrent moves, converged order ${first.sequence(column).length} cards`;
  },

  async malformed() {
    const seed = makeDoc(51);
    const card = seed.createCard("task", { title: "seed", body: "some text" });
    seed.increment(card, "votes", 3);
    seed.addToSet(card, "tags", "t");
    seed.insertIntoSequence(seed.createSequence(), card, 0);
    const valid = { v1: seed.snapshotV1(), v2: seed.snapshotV2() };

    const doc = makeDoc(52);
    const survivor = doc.createCard("task", { title: "survivor" });
    const bomb = new Uint8Array([0xab, 0x8e, 0xc5, 0x73, 0x76]);
    equal(outcome(() => doc.applyUpdateV1(bomb)), "decode_error", "the decode bomb:");
    equal(outcome(() => doc.diffV1(new Uint8Array([0xff]))), "decode_error", "diffV1([0xff]):");
    equal(outcome(() => CardDoc.loadV1(schema, bomb)), "decode_error", "loadV1(bomb):");
    equal(outcome(() => mergeUpdatesV1([valid.v1, bomb])), "decode_error", "mergeUpdatesV1:");

    const rounds = 1000;
    const counts = {};
    for (const [name, generate] of Object.entries(malformedGenerators(rng(11), valid))) {
      for (let i = 0; i < rounds; i++) {
        const [method, bytes] = generate();
        const code = outcome(() => doc[method](bytes));
        counts[code] = (counts[code] ?? 0) + 1;
        ok(code === "ok" || code === "decode_error", `${name} #${i}: ${code}`);
        const asVector = outcome(() => doc.diffV1(bytes));
        ok(asVector === "ok" || asVector === "decode_error", `${name} #${i} as a state vector: ${asVector}`);
      }
    }
    ok(counts.decode_error > 2 * rounds, `most inputs were refused: ${JSON.stringify(counts)}`);
    // Some mutations are well-formed updates that delete the survivor's entries (a delete set
    // naming our client): accepted, as any peer's delete is. Writing to it must not trap,
    // and the document must still take new writes.
    outcome(() => doc.setField(survivor, "title", "x")); // fails on a trap or a foreign error
    const fresh = doc.createCard("task", { title: "still writable" });
    equal(doc.card(fresh).fields.title, "still writable");
    equal(CardDoc.loadV1(schema, doc.snapshotV1(), { clientId: 53 }).card(fresh).fields.title, "still writable");
    return `${4 * rounds} inputs: ${JSON.stringify(counts)}`;
  },

  /** A throwing listener goes to the page's `reportError` (a window `error` event). */
  async throwingListener() {
    const doc = makeDoc(64);
    const reported = [];
    const onError = (event) => {
      reported.push(event.error);
      event.preventDefault(); // handled here: not an uncaught page error
    };
    window.addEventListener("error", onError);
    try {
      const calls = [];
      doc.subscribe(() => {
        calls.push("first");
        throw new Error("listener bug");
      });
      doc.subscribe((batch) => calls.push(`second:${batch.origin}`));
      const card = doc.createCard("task", { title: "A" }); // returns: the write committed
      doc.setField(card, "title", "B");
      deepEqual(calls, ["first", "second:local", "first", "second:local"]);
      deepEqual(reported.map((error) => error.message), ["listener bug", "listener bug"]);
      equal(doc.card(card).fields.title, "B");
      equal(doc.undo(), true);
      equal(doc.card(card).fields.title, "A");
      const copy = makeDoc(65);
      sync(doc, copy, "v1");
      deepEqual(copy.export(), doc.export(), "the document is intact:");
      return `${reported.length} listener errors reported through window "error" events`;
    } finally {
      window.removeEventListener("error", onError);
    }
  },

  /** Stock Yjs, loaded in the page from node_modules, reads our updates and we read its. */
  async yjs() {
    const doc = makeDoc(41);
    const card = doc.createCard("task", { title: "From wasm", body: "Hello" });
    doc.insertText(card, "body", 5, " Yjs", { bold: true });
    doc.increment(card, "votes", 4);
    const ydoc = new Y.Doc();
    Y.applyUpdate(ydoc, doc.snapshotV1());
    const map = ydoc.getMap("cards").get(card);
    ok(map instanceof Y.Map, "the card is a Y.Map in root map `cards`");
    equal(map.get("title"), "From wasm");
    deepEqual(map.get("body").toDelta(), [{ insert: "Hello" }, { insert: " Yjs", attributes: { bold: true } }]);
    equal([...map.get("votes").values()].reduce((a, b) => a + b, 0), 4);

    const sv = Y.encodeStateVector(ydoc);
    map.get("body").insert(0, ">> ");
    doc.applyUpdateV2(Y.encodeStateAsUpdateV2(ydoc, doc.stateVector()));
    equal(doc.card(card).fields.body, ">> Hello Yjs");
    doc.increment(card, "votes", 1);
    Y.applyUpdateV2(ydoc, doc.diffV2(sv));
    equal([...map.get("votes").values()].reduce((a, b) => a + b, 0), 5);
    return "Y.applyUpdate/V2 read our updates; we read Yjs' edit";
  },
};
