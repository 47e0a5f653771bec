// The process the FileStore crash test kills: opens a document offline over a FileStore,
// creates one card, then increments its counter one by one as fast as it can. Before each
// increment it prints `inc N`; once the store write that holds it has resolved (on disk), it
// prints `durable N`. The test kills it with SIGKILL at an arbitrary moment.

import { FileStore, SyncClient } from "cardsync";
import { WebSocket } from "ws";
import { schema } from "./fixtures.js";

const [path, url] = process.argv.slice(2);
const file = await FileStore.open(path);
let applied = 0;
let wake = () => {};
const store = {
  load: () => file.load(),
  async apply(ops) {
    await file.apply(ops);
    applied += 1;
    wake();
  },
  close: () => file.close(),
};
const stored = () => {
  const before = applied;
  return new Promise((resolve) => {
    wake = () => applied > before && resolve();
  });
};
const client = await SyncClient.open({ url, schema, token: "unused", actor: "writer", WebSocket, store, online: false });
let wrote = stored();
const card = client.doc.createCard("task", { title: "counted" });
await wrote;
process.stdout.write(`card ${card}\n`);
for (let n = 1; ; n++) {
  process.stdout.write(`inc ${n}\n`);
  wrote = stored();
  client.doc.increment(card, "votes", 1);
  await wrote;
  process.stdout.write(`durable ${n}\n`);
}
