// Per-op cost from JavaScript, run by hand: `node bench/ops.js` in pkg/ (after
// `cargo xtask wasm --release`). The package's targets: ≤ 10 µs per single op (create card, set
// field, link), ≥ 200k ops/s through the batched path (`apply`, one transaction).

import { CardDoc, newId } from "cardsync";

const schema = {
  version: 1,
  cards: { task: { fields: { title: { kind: "register", value_type: "string" }, votes: { kind: "counter" } } } },
  relationships: { blocks: {} },
};

function measure(name, count, run) {
  run(Math.min(count, 1000)); // warm-up
  const started = performance.now();
  run(count);
  const ms = performance.now() - started;
  console.log(`${name.padEnd(34)} ${((ms * 1000) / count).toFixed(2).padStart(7)} µs/op  ${Math.round(count / (ms / 1000)).toLocaleString("en").padStart(10)} ops/s`);
}

const N = 10_000;
{
  const doc = new CardDoc(schema, { undo: false });
  measure("createCard (1 txn each)", N, (n) => {
    for (let i = 0; i < n; i++) doc.createCard("task", { title: "t" });
  });
  const ids = doc.cards().map((c) => c.id);
  measure("setField (1 txn each)", N, (n) => {
    for (let i = 0; i < n; i++) doc.setField(ids[i % ids.length], "title", `v${i}`);
  });
  measure("link (1 txn each)", N, (n) => {
    for (let i = 0; i < n; i++) doc.link(ids[i % ids.length], "blocks", ids[(i * 7 + 1) % ids.length]);
  });
}
{
  const doc = new CardDoc(schema, { undo: true });
  measure("createCard, undo on", N, (n) => {
    for (let i = 0; i < n; i++) doc.createCard("task", { title: "t" });
  });
}
{
  const doc = new CardDoc(schema, { undo: false });
  const ids = Array.from({ length: N }, () => newId());
  measure("apply: create_card, batches of 1000", N, (n) => {
    for (let start = 0; start < n; start += 1000) {
      const ops = [];
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        ops.push({ op: "create_card", card: ids[i] ?? newId(), kind: "task", fields: { title: "t" } });
      }
      doc.apply(ops);
    }
    ids.splice(0, n);
  });
  const cards = doc.cards().map((c) => c.id);
  for (const size of [10, 100, 1000]) {
    measure(`apply: set_field, batches of ${size}`, 2 * N, (n) => {
      for (let start = 0; start < n; start += size) {
        const ops = [];
        for (let i = start; i < Math.min(n, start + size); i++) {
          ops.push({ op: "set_field", card: cards[i % cards.length], field: "title", value: `v${i}` });
        }
        doc.apply(ops);
      }
    });
  }
}
