// Yjs: cardsync's layout written with plain Yjs (the JS twin of the native raw-yrs peer). A
// move is a delete plus an insert in a Y.Array (Yjs has no move that yrs can read), a board one
// Y.Array per column and a move across them a delete from one and an insert into the other; a
// relationship is a Y.Map under a `from|kind|to` key, found by scanning.

import * as Y from "yjs";
import { BOARD_COLUMNS, body, cardId, edgeKey, LINK_KIND, scanNeighbours } from "../card.mjs";

export class Yjs {
  static NAME = "yjs";
  constructor(doc) {
    this.doc = doc;
    this.cards = doc.getMap("cards");
    this.sequenceArray = doc.getArray("sequence");
    this.columns = Array.from({ length: BOARD_COLUMNS }, (_, c) => doc.getArray(`column-${c}`));
    this.relationships = doc.getMap("relationships");
  }
  static create(client) {
    const doc = new Y.Doc();
    doc.clientID = client;
    return new Yjs(doc);
  }
  static load(client, bytes) {
    const peer = Yjs.create(client);
    Y.applyUpdate(peer.doc, bytes);
    return peer;
  }
  #card(i) {
    const at = 1_700_000_000_000 + i;
    const client = String(this.doc.clientID);
    const card = new Y.Map();
    card.set("$kind", "task");
    card.set("$created", { at, by: "bench-user" });
    card.set("$modified", { at, by: "bench-user" });
    card.set("title", `Card ${i}`);
    card.set("status", "todo");
    card.set("priority", i % 5);
    card.set("done", false);
    card.set("body", new Y.Text(body(i)));
    const votes = new Y.Map([[client, 1]]);
    const progress = new Y.Map([[client, 0.5]]);
    const tags = new Y.Map([[`backend@${client}`, true], [`team-${i % 7}@${client}`, true]]);
    card.set("votes", votes);
    card.set("progress", progress);
    card.set("tags", tags);
    this.cards.set(cardId(i), card);
  }
  createCard(i) {
    this.doc.transact(() => this.#card(i));
  }
  createCardsBatched(n) {
    this.doc.transact(() => {
      for (let i = 0; i < n; i++) this.#card(i);
    });
  }
  createSmallCard(i) {
    this.doc.transact(() => {
      const card = new Y.Map();
      card.set("$kind", "task");
      card.set("title", `Card ${i}`);
      card.set("body", new Y.Text());
      card.set("votes", new Y.Map());
      this.cards.set(cardId(i), card);
    });
  }
  setField(i, field, v) {
    this.doc.transact(() => this.cards.get(cardId(i)).set(field, field === "title" ? `Title ${v}` : v));
  }
  increment(i) {
    this.doc.transact(() => {
      const votes = this.cards.get(cardId(i)).get("votes");
      const key = String(this.doc.clientID);
      votes.set(key, (votes.get(key) ?? 0) + 1);
    });
  }
  votes(i) {
    let sum = 0;
    for (const v of this.cards.get(cardId(i)).get("votes").values()) sum += v;
    return sum;
  }
  #isDeleted(id) {
    const card = this.cards.get(id);
    return card === undefined || card.get("$deleted") === true;
  }
  deleteCard(i) {
    this.doc.transact(() => this.cards.get(cardId(i)).set("$deleted", true));
  }
  cardCount() {
    let count = 0;
    for (const id of this.cards.keys()) if (!this.#isDeleted(id)) count++;
    return count;
  }
  link(from, to) {
    this.doc.transact(() => {
      const edge = new Y.Map([
        ["from", cardId(from)],
        ["kind", LINK_KIND],
        ["to", cardId(to)],
      ]);
      this.relationships.set(edgeKey(from, to), edge);
    });
  }
  unlink(from, to) {
    this.doc.transact(() => this.relationships.delete(edgeKey(from, to)));
  }
  hasLink(from, to) {
    return this.relationships.has(edgeKey(from, to));
  }
  // A scan of every edge key, checking both endpoints' delete flags (no index in plain Yjs).
  neighbours(i) {
    return scanNeighbours(this.relationships.keys(), i, (id) => this.#isDeleted(id));
  }
  createSequence() {}
  append(i) {
    this.doc.transact(() => this.sequenceArray.push([cardId(i)]));
  }
  moveCard(i, from, to) {
    this.doc.transact(() => {
      this.sequenceArray.delete(from, 1);
      this.sequenceArray.insert(to, [cardId(i)]);
    });
  }
  sequence() {
    return this.sequenceArray.toArray();
  }
  // A board is one Y.Array per column; a move across columns a delete plus an insert.
  createBoard() {}
  addToColumn(i, column) {
    this.doc.transact(() => this.columns[column].push([cardId(i)]));
  }
  moveAcross(i, from, to) {
    this.doc.transact(() => {
      this.columns[from[0]].delete(from[1], 1);
      this.columns[to[0]].insert(to[1], [cardId(i)]);
    });
  }
  board() {
    return this.columns.map((c) => c.toArray());
  }
  spliceBody(i, index, del, ins) {
    this.doc.transact(() => {
      const text = this.cards.get(cardId(i)).get("body");
      if (del > 0) text.delete(index, del);
      if (ins.length > 0) text.insert(index, ins);
    });
  }
  body(i) {
    return this.cards.get(cardId(i)).get("body").toString();
  }
  readCard(i) {
    return Object.keys(this.cards.get(cardId(i)).toJSON()).length;
  }
  materialize() {
    return Object.keys(this.cards.toJSON()).length;
  }
  snapshot() {
    return Y.encodeStateAsUpdate(this.doc);
  }
  version() {
    return Y.encodeStateVector(this.doc);
  }
  diff(v) {
    return Y.encodeStateAsUpdate(this.doc, v);
  }
  apply(update) {
    Y.applyUpdate(this.doc, update);
  }
  free() {
    this.doc.destroy();
  }
}
