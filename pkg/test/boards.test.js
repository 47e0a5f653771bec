// Boards, composite and time-ordered registers through the public entry point `cardsync`.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CardDoc } from "cardsync";

const schema = {
  version: 1,
  cards: {
    task: {
      fields: {
        title: { kind: "register", value_type: "string" },
        geo: {
          kind: "register",
          composite: {
            shape: {
              type: "object",
              fields: { lat: { type: "number", min: -90, max: 90 }, lng: { type: "number", min: -180, max: 180 } },
            },
          },
        },
        pin: { kind: "time_ordered" },
      },
    },
  },
  boards: { kanban: { cards: ["task"] } },
};

function sync(a, b) {
  b.applyUpdateV1(a.diffV1(b.stateVector()));
  a.applyUpdateV1(b.diffV1(a.stateVector()));
}

test("two replicas drag one card into two columns: it ends in exactly one", () => {
  const a = new CardDoc(schema, { clientId: 1, actor: "ada" });
  const board = a.createBoard("kanban");
  const todo = a.addColumn(board, "Todo", 0);
  const doing = a.addColumn(board, "Doing", 1);
  const done = a.addColumn(board, "Done", 2);
  const card = a.createCard("task", { title: "t" });
  a.placeCard(board, card, todo, 0);
  const b = CardDoc.loadV1(schema, a.snapshotV1(), { clientId: 2, actor: "bob" });
  a.placeCard(board, card, doing, 0);
  b.placeCard(board, card, done, 0);
  sync(a, b);
  const view = a.board(board);
  assert.deepEqual(view, b.board(board));
  assert.deepEqual(view.columns.map((c) => c.name), ["Todo", "Doing", "Done"]);
  assert.equal(view.columns.flatMap((c) => c.cards).filter((c) => c === card).length, 1);
  const place = a.cardPlace(board, card);
  assert.ok(place.column === doing || place.column === done);
  assert.deepEqual(a.boardIds(), [board]);
  assert.throws(() => a.placeCard(board, card, "0".repeat(26), 0), (e) => e.code === "unknown_column");
  a.removeColumn(board, place.column);
  assert.deepEqual(a.cardPlace(board, card), { column: todo, index: 0 });
});

test("composite values are written whole and checked against their shape", () => {
  const doc = new CardDoc(schema, { clientId: 3 });
  const card = doc.createCard("task", { title: "t", geo: { lat: 52.5, lng: 13.4 } });
  assert.deepEqual(doc.card(card).fields.geo, { lat: 52.5, lng: 13.4 });
  assert.throws(() => doc.setField(card, "geo", { lat: 95, lng: 0 }), (e) => e.code === "bad_shape");
  assert.throws(() => doc.setField(card, "title", { lat: 1 }), (e) => e.code === "schema_violation");
});

test("a time-ordered register reads as the latest write", () => {
  const doc = new CardDoc(schema, { clientId: 4 });
  const card = doc.createCard("task", { title: "t" });
  doc.setField(card, "pin", "here");
  assert.equal(doc.card(card).fields.pin, "here");
});
