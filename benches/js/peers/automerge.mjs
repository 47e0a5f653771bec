// @automerge/automerge: the document API, one `change` per action; strings are collaborative
// text, votes a native Counter, a move a delete plus an insert (lists have no move; a board
// is one list per column, a move across them a delete from one and an insert into the other), a
// relationship a map under a `from|kind|to` key found by scanning. The version is the heads.

import * as A from "@automerge/automerge";
import { BOARD_COLUMNS, body, cardId, edgeKey, LINK_KIND, scanNeighbours } from "../card.mjs";

function actor(client) {
  return client.toString(16).padStart(16, "0");
}

function fullCard(i, client) {
  const at = 1_700_000_000_000 + i;
  return {
    $kind: "task",
    $created_at: at,
    $created_by: "bench-user",
    $modified_at: at,
    $modified_by: "bench-user",
    title: `Card ${i}`,
    status: "todo",
    priority: i % 5,
    done: false,
    body: body(i),
    votes: new A.Counter(1),
    progress: { [client]: 0.5 },
    tags: { backend: true, [`team-${i % 7}`]: true },
  };
}

export class Automerge {
  static NAME = "automerge-js";
  constructor(doc, client) {
    this.doc = doc;
    this.client = client;
  }
  static create(client) {
    // Roots made by one fixed actor, so replicas created apart share them.
    const doc = A.change(A.init({ actor: actor(0) }), (d) => {
      d.cards = {};
      d.relationships = {};
      d.sequence = [];
    });
    return new Automerge(A.clone(doc, { actor: actor(client) }), client);
  }
  static load(client, bytes) {
    return new Automerge(A.load(bytes, { actor: actor(client) }), client);
  }
  #change(f) {
    this.doc = A.change(this.doc, f);
  }
  createCard(i) {
    this.#change((d) => {
      d.cards[cardId(i)] = fullCard(i, String(this.client));
    });
  }
  createCardsBatched(n) {
    this.#change((d) => {
      for (let i = 0; i < n; i++) d.cards[cardId(i)] = fullCard(i, String(this.client));
    });
  }
  createSmallCard(i) {
    this.#change((d) => {
      d.cards[cardId(i)] = { $kind: "task", title: `Card ${i}`, body: "", votes: new A.Counter(0) };
    });
  }
  setField(i, field, v) {
    this.#change((d) => {
      d.cards[cardId(i)][field] = field === "title" ? `Title ${v}` : v;
    });
  }
  increment(i) {
    this.#change((d) => d.cards[cardId(i)].votes.increment(1));
  }
  votes(i) {
    return this.doc.cards[cardId(i)].votes.value;
  }
  #isDeleted(id) {
    const card = this.doc.cards[id];
    return card === undefined || card.$deleted === true;
  }
  deleteCard(i) {
    this.#change((d) => {
      d.cards[cardId(i)].$deleted = true;
    });
  }
  cardCount() {
    return Object.keys(this.doc.cards).filter((id) => !this.#isDeleted(id)).length;
  }
  link(from, to) {
    this.#change((d) => {
      d.relationships[edgeKey(from, to)] = { from: cardId(from), kind: LINK_KIND, to: cardId(to) };
    });
  }
  unlink(from, to) {
    this.#change((d) => {
      delete d.relationships[edgeKey(from, to)];
    });
  }
  hasLink(from, to) {
    return this.doc.relationships[edgeKey(from, to)] !== undefined;
  }
  // A scan of every edge key, checking both endpoints' delete flags.
  neighbours(i) {
    return scanNeighbours(Object.keys(this.doc.relationships), i, (id) => this.#isDeleted(id));
  }
  createSequence() {}
  append(i) {
    this.#change((d) => {
      d.sequence.push(cardId(i));
    });
  }
  moveCard(i, from, to) {
    this.#change((d) => {
      d.sequence.deleteAt(from);
      d.sequence.insertAt(to, cardId(i));
    });
  }
  sequence() {
    return [...this.doc.sequence];
  }
  // A board is one list per column (root keys `column-c`); a move across columns a delete
  // plus an insert.
  createBoard() {
    this.#change((d) => {
      for (let c = 0; c < BOARD_COLUMNS; c++) d[`column-${c}`] = [];
    });
  }
  addToColumn(i, column) {
    this.#change((d) => {
      d[`column-${column}`].push(cardId(i));
    });
  }
  moveAcross(i, from, to) {
    this.#change((d) => {
      d[`column-${from[0]}`].deleteAt(from[1]);
      d[`column-${to[0]}`].insertAt(to[1], cardId(i));
    });
  }
  board() {
    return Array.from({ length: BOARD_COLUMNS }, (_, c) => [...(this.doc[`column-${c}`] ?? [])]);
  }
  spliceBody(i, index, del, ins) {
    this.#change((d) => A.splice(d, ["cards", cardId(i), "body"], index, del, ins));
  }
  body(i) {
    return this.doc.cards[cardId(i)].body;
  }
  readCard(i) {
    return Object.keys(this.doc.cards[cardId(i)]).length;
  }
  materialize() {
    return Object.values(this.doc.cards).filter((c) => c.title !== undefined).length;
  }
  snapshot() {
    return A.save(this.doc);
  }
  version() {
    return new TextEncoder().encode(A.getHeads(this.doc).join(""));
  }
  diff(v) {
    const hex = new TextDecoder().decode(v);
    const heads = hex.match(/.{64}/g) ?? [];
    return A.saveSince(this.doc, heads);
  }
  apply(update) {
    this.doc = A.loadIncremental(this.doc, update);
  }
  free() {
    A.free?.(this.doc);
  }
}
