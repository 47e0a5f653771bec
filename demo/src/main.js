// The demo board's entry: open the synced document, then render it and keep it rendered.
//
// URL parameters: `token` (from `cargo xtask demo`, or `cardsync-server token`), `name`
// (the actor shown on cards), `doc` (the room, default "board").

import { init, SyncClient } from "cardsync";
import { mountBoard } from "./board.js";
import { conflictMarkers } from "./conflicts.js";
import { mountPresence } from "./presence.js";
import { schema } from "./schema.js";
import { showBadge, showNotice } from "./status.js";

const params = new URLSearchParams(location.search);
const room = params.get("doc") ?? "board";
const actor = params.get("name") ?? `guest-${Math.floor(Math.random() * 1e4)}`;
const OFFLINE_KEY = `cardsync-demo-offline:${room}`;

await init();
const offline = sessionStorage.getItem(OFFLINE_KEY) === "1";
const client = await SyncClient.open({
  url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/rooms/${room}`,
  name: room,
  schema,
  token: params.get("token") ?? "",
  actor,
  online: !offline,
  connection: { backoffBase: 500, backoffCap: 4000 },
});
const doc = client.doc;
document.querySelector("#who").textContent = actor;

const toggle = document.querySelector("#offline");
toggle.checked = offline;
toggle.addEventListener("change", () => {
  sessionStorage.setItem(OFFLINE_KEY, toggle.checked ? "1" : "0");
  if (toggle.checked) client.stop();
  else client.start();
});

client.on("status", showBadge);
showBadge(client.status);
// Status events skip the mere ageing of a pending change; the badge's "Saving…" needs it.
setInterval(() => showBadge(client.status), 1000);
client.on("rejected", (r) =>
  showNotice(
    r.code === "rejected_by_validator"
      ? // The board's own rules (a server validator); the reason starts with its code.
        `The board's rules refused your change (${r.reason}) and it was rolled back.`
      : `Your change was refused by the server (${r.code}: ${r.reason}) and rolled back.`,
  ),
);
client.on("auth_denied", (r) => showNotice(`The server refused this board's token: ${r.reason}`));
client.on("store_error", (e) => showNotice(`Cannot save offline changes: ${e.message}`));

// Conflict markers on cards whose concurrent edit met another (keep mine / take theirs).
const conflicts = conflictMarkers(client, doc, showNotice, () => board.render());
const board = mountBoard(document.querySelector("#board"), doc, showNotice, conflicts.decorate);
mountPresence(client, actor, document.querySelector("#board"), document.querySelector("header"));
// For the end-to-end tests and the curious: the public API of this page.
window.cardsyncDemo = { client, doc, board, actor };
