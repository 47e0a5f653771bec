// loro-crdt: nested containers, a LoroCounter and a native LoroMovableList (a board: one per
// column, a move across them a delete plus an insert, as `move` works within one list), one commit per
// action, a relationship a map container under a `from|kind|to` key found by scanning (the
// JS twin of benches/src/peers/loro.rs).

import { LoroCounter, LoroDoc, LoroMap, LoroText, VersionVector } from "loro-crdt";
import { BOARD_COLUMNS, body, cardId, edgeKey, LINK_KIND, scanNeighbours } from "../card.mjs";

export class Loro {
  static NAME = "loro-crdt";
  constructor(doc, client) {
    doc.setPeerId(BigInt(client));
    this.doc = doc;
    this.client = client;
    this.cards = doc.getMap("cards");
    this.list = doc.getMovableList("sequence");
    this.columns = Array.from({ length: BOARD_COLUMNS }, (_, c) => doc.getMovableList(`column-${c}`));
    this.relationships = doc.getMap("relationships");
  }
  static create(client) {
    return new Loro(new LoroDoc(), client);
  }
  static load(client, bytes) {
    return new Loro(LoroDoc.fromSnapshot(bytes), client);
  }
  #card(i) {
    const at = 1_700_000_000_000 + i;
    const card = this.cards.setContainer(cardId(i), new LoroMap());
    card.set("$kind", "task");
    card.set("$created_at", at);
    card.set("$created_by", "bench-user");
    card.set("$modified_at", at);
    card.set("$modified_by", "bench-user");
    card.set("title", `Card ${i}`);
    card.set("status", "todo");
    card.set("priority", i % 5);
    card.set("done", false);
    card.setContainer("body", new LoroText()).insert(0, body(i));
    card.setContainer("votes", new LoroCounter()).increment(1);
    card.setContainer("progress", new LoroMap()).set(String(this.client), 0.5);
    const tags = card.setContainer("tags", new LoroMap());
    tags.set("backend", true);
    tags.set(`team-${i % 7}`, true);
  }
  createCard(i) {
    this.#card(i);
    this.doc.commit();
  }
  createCardsBatched(n) {
    for (let i = 0; i < n; i++) this.#card(i);
    this.doc.commit();
  }
  createSmallCard(i) {
    const card = this.cards.setContainer(cardId(i), new LoroMap());
    card.set("$kind", "task");
    card.set("title", `Card ${i}`);
    card.setContainer("body", new LoroText());
    card.setContainer("votes", new LoroCounter());
    this.doc.commit();
  }
  setField(i, field, v) {
    this.cards.get(cardId(i)).set(field, field === "title" ? `Title ${v}` : v);
    this.doc.commit();
  }
  increment(i) {
    this.cards.get(cardId(i)).get("votes").increment(1);
    this.doc.commit();
  }
  votes(i) {
    return this.cards.get(cardId(i)).get("votes").value;
  }
  #isDeleted(id) {
    const card = this.cards.get(id);
    return card === undefined || card.get("$deleted") === true;
  }
  deleteCard(i) {
    this.cards.get(cardId(i)).set("$deleted", true);
    this.doc.commit();
  }
  cardCount() {
    return this.cards.keys().filter((id) => !this.#isDeleted(id)).length;
  }
  link(from, to) {
    const edge = this.relationships.setContainer(edgeKey(from, to), new LoroMap());
    edge.set("from", cardId(from));
    edge.set("kind", LINK_KIND);
    edge.set("to", cardId(to));
    this.doc.commit();
  }
  unlink(from, to) {
    this.relationships.delete(edgeKey(from, to));
    this.doc.commit();
  }
  hasLink(from, to) {
    return this.relationships.get(edgeKey(from, to)) !== undefined;
  }
  // A scan of every edge key, checking both endpoints' delete flags.
  neighbours(i) {
    return scanNeighbours(this.relationships.keys(), i, (id) => this.#isDeleted(id));
  }
  createSequence() {}
  append(i) {
    this.list.push(cardId(i));
    this.doc.commit();
  }
  moveCard(_i, from, to) {
    this.list.move(from, to);
    this.doc.commit();
  }
  sequence() {
    return this.list.toArray();
  }
  // A board is one LoroMovableList per column; `move` works within one list, so a move across
  // columns is a delete plus an insert.
  createBoard() {}
  addToColumn(i, column) {
    this.columns[column].push(cardId(i));
    this.doc.commit();
  }
  moveAcross(i, from, to) {
    this.columns[from[0]].delete(from[1], 1);
    this.columns[to[0]].insert(to[1], cardId(i));
    this.doc.commit();
  }
  board() {
    return this.columns.map((c) => c.toArray());
  }
  spliceBody(i, index, del, ins) {
    const text = this.cards.get(cardId(i)).get("body");
    if (del > 0) text.delete(index, del);
    if (ins.length > 0) text.insert(index, ins);
    this.doc.commit();
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
    return this.doc.export({ mode: "snapshot" });
  }
  version() {
    return this.doc.oplogVersion().encode();
  }
  diff(v) {
    return this.doc.export({ mode: "update", from: VersionVector.decode(v) });
  }
  apply(update) {
    this.doc.import(update);
  }
  free() {
    this.doc.free?.();
  }
}
