// The cardsync npm package (wasm), through its public API: one call per action; a card's
// creation (its fields, counter, max and set entries) and a text splice (delete + insert) are
// one transaction each, as the native runner does: the typed calls inside `transact(fn)`, or
// `apply(ops)` on a package older than `transact` (issue 16's comparison runs the same code
// on an older build). Links, unlinks and deletes are the single calls, neighbours the
// outgoing/incoming indexes, a move across board columns one `placeCard`. CARDSYNC_BENCH_OPS=json forces `apply(ops)` (to measure what
// the typed calls save).

import { CardDoc } from "../cardsync.mjs";
import { BOARD_COLUMNS, BOARD_KIND, LINK_KIND, body, cardId, schema } from "../card.mjs";

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

const TYPED = process.env.CARDSYNC_BENCH_OPS !== "json";

/** A card's creation through the typed calls (inside a `transact`). */
function createTyped(doc, i) {
  const card = cardId(i);
  doc.createCard("task", { title: `Card ${i}`, status: "todo", priority: i % 5, done: false, body: body(i) }, card);
  doc.increment(card, "votes", 1);
  doc.raiseMax(card, "progress", 0.5);
  doc.addToSet(card, "tags", "backend");
  doc.addToSet(card, "tags", `team-${i % 7}`);
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
    if (TYPED && this.doc.transact) this.doc.transact(() => createTyped(this.doc, i));
    else this.doc.apply(createOps(i));
  }
  createCardsBatched(n) {
    if (TYPED && this.doc.transact) {
      this.doc.transact(() => {
        for (let i = 0; i < n; i++) createTyped(this.doc, i);
      });
      return;
    }
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
  // The board and its column ids, made in one transaction.
  createBoard() {
    const make = () => {
      const board = this.doc.createBoard(BOARD_KIND);
      const columns = [];
      for (let c = 0; c < BOARD_COLUMNS; c++) columns.push(this.doc.addColumn(board, `Column ${c}`, c));
      return { board, columns };
    };
    if (this.doc.transact) {
      let made;
      this.doc.transact(() => {
        made = make();
      });
      this.boardIds = made;
    } else this.boardIds = make();
  }
  // The one board: made here, or found in a loaded document.
  get #board() {
    if (!this.boardIds) {
      const board = this.doc.boardIds()[0];
      this.boardIds = { board, columns: this.doc.board(board).columns.map((c) => c.id) };
    }
    return this.boardIds;
  }
  addToColumn(i, column) {
    const { board, columns } = this.#board;
    this.doc.placeCard(board, cardId(i), columns[column], 0xffffffff);
  }
  moveAcross(i, _from, to) {
    const { board, columns } = this.#board;
    this.doc.placeCard(board, cardId(i), columns[to[0]], to[1]);
  }
  board() {
    return this.doc.board(this.#board.board)?.columns.map((c) => c.cards) ?? [];
  }
  spliceBody(i, index, del, ins) {
    const card = cardId(i);
    if (TYPED && this.doc.transact) {
      if (del > 0 && ins.length > 0) {
        this.doc.transact(() => {
          this.doc.deleteText(card, "body", index, del);
          this.doc.insertText(card, "body", index, ins);
        });
      } else if (del > 0) this.doc.deleteText(card, "body", index, del);
      else if (ins.length > 0) this.doc.insertText(card, "body", index, ins);
      return;
    }
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
