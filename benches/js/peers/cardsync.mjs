// The cardsync npm package (wasm), through its public API: one call per action, `apply` with
// all of a card's ops for a create (one transaction, as the native runner does); links,
// unlinks and deletes are the single calls, neighbours the outgoing/incoming indexes.

import { CardDoc } from "../cardsync.mjs";
import { LINK_KIND, body, cardId, schema } from "../card.mjs";

function createOps(i) {
  const card = cardId(i);
  return [
    { op: "create_card", card, kind: "task", fields: { title: `Card ${i}`, status: "todo", priority: i % 5, done: false, body: body(i) } },
    { op: "increment", card, field: "votes", by: 1 },
    { op: "raise_max", card, field: "progress", value: 0.5 },
    { op: "add_to_set", card, field: "tags", item: "backend" },
    { op: "add_to_set", card, field: "tags", item: `team-${i % 7}` },
  ];
}

export class Cardsync {
  static NAME = "cardsync-wasm";
  constructor(doc) {
    this.doc = doc;
    this.seq = null;
  }
  static create(client) {
    return new Cardsync(new CardDoc(schema, { clientId: client, actor: "bench-user" }));
  }
  static load(client, bytes) {
    return new Cardsync(CardDoc.loadV1(schema, bytes, { clientId: client, actor: "bench-user" }));
  }
  createCard(i) {
    this.doc.apply(createOps(i));
  }
  createCardsBatched(n) {
    const ops = [];
    for (let i = 0; i < n; i++) ops.push(...createOps(i));
    this.doc.apply(ops);
  }
  createSmallCard(i) {
    this.doc.createCard("task", { title: `Card ${i}` }, cardId(i));
  }
  setField(i, field, v) {
    this.doc.setField(cardId(i), field, field === "title" ? `Title ${v}` : v);
  }
  increment(i) {
    this.doc.increment(cardId(i), "votes", 1);
  }
  votes(i) {
    return this.doc.card(cardId(i))?.fields.votes ?? 0;
  }
  deleteCard(i) {
    this.doc.deleteCard(cardId(i));
  }
  cardCount() {
    return this.doc.cards().filter((c) => !c.deleted).length;
  }
  link(from, to) {
    this.doc.link(cardId(from), LINK_KIND, cardId(to));
  }
  unlink(from, to) {
    this.doc.unlink(cardId(from), LINK_KIND, cardId(to));
  }
  hasLink(from, to) {
    return this.doc.relationship(cardId(from), LINK_KIND, cardId(to)) !== undefined;
  }
  // From the outgoing and incoming indexes, which already hide edges to deleted cards.
  neighbours(i) {
    const card = cardId(i);
    const out = this.doc.outgoing(card).map((r) => r.to).sort();
    const incoming = this.doc.incoming(card).map((r) => r.from).sort();
    return [...out, ...incoming];
  }
  createSequence() {
    this.seq = this.doc.createSequence();
  }
  // The one sequence: made here, or found in a loaded document.
  get #sequence() {
    this.seq ??= this.doc.sequenceIds()[0];
    return this.seq;
  }
  append(i) {
    this.doc.insertIntoSequence(this.#sequence, cardId(i), 0xffffffff);
  }
  moveCard(i, _from, to) {
    this.doc.moveInSequence(this.#sequence, cardId(i), to);
  }
  sequence() {
    return this.doc.sequence(this.#sequence) ?? [];
  }
  spliceBody(i, index, del, ins) {
    const ops = [];
    if (del > 0) ops.push({ op: "delete_text", card: cardId(i), field: "body", index, len: del });
    if (ins.length > 0) ops.push({ op: "insert_text", card: cardId(i), field: "body", index, text: ins });
    this.doc.apply(ops);
  }
  body(i) {
    return this.doc.card(cardId(i))?.fields.body ?? "";
  }
  readCard(i) {
    return Object.keys(this.doc.card(cardId(i))?.fields ?? {}).length;
  }
  materialize() {
    return this.doc.cards().length;
  }
  snapshot() {
    return this.doc.snapshotV1();
  }
  version() {
    return this.doc.stateVector();
  }
  diff(v) {
    return this.doc.diffV1(v);
  }
  apply(update) {
    this.doc.applyUpdateV1(update);
  }
  free() {
    this.doc.free();
  }
}
