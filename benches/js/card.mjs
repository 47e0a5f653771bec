// The benchmark card, the same as benches/src/lib.rs builds: eight fields and a 500-character
// body, varied per card. Ids come from cardsync's `newId` (random 128-bit, as clients make
// them) and are shared by every peer, so all four store the same keys.

import { newId } from "./cardsync.mjs";

const WORDS =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod " +
  "tempor incididunt ut labore et dolore magna aliqua ";
const TEXT = WORDS.repeat(Math.ceil((WORDS.length + 500) / WORDS.length) + 1);

/** The 500-character body of card `i`. */
export function body(i) {
  const start = i % WORDS.length;
  return TEXT.slice(start, start + 500);
}

const ids = [];
const indexes = new Map();
/** The id of card `i`. */
export function cardId(i) {
  while (ids.length <= i) {
    const id = newId();
    indexes.set(id, ids.length);
    ids.push(id);
  }
  return ids[i];
}

/** The `i` of a card id `cardId(i)` returned (ids are random per process). */
export function cardIndex(id) {
  return indexes.get(id);
}

/** The relationship kind, as in the native runner. */
export const LINK_KIND = "relates";

/** The board kind of K4's board rows, and the benchmark board's column count. */
export const BOARD_KIND = "kanban";
export const BOARD_COLUMNS = 4;

/** The cardsync schema of the benchmark card. */
export const schema = {
  version: 1,
  cards: {
    task: {
      fields: {
        title: { kind: "register", value_type: "string", required: true },
        status: { kind: "register", value_type: "string", transitions: { todo: ["doing"], doing: ["done"], done: ["todo"] } },
        priority: { kind: "register", value_type: "number" },
        done: { kind: "register", value_type: "bool" },
        body: { kind: "text" },
        votes: { kind: "counter" },
        progress: { kind: "max" },
        tags: { kind: "set" },
      },
    },
  },
  relationships: { [LINK_KIND]: {} },
  boards: { [BOARD_KIND]: {} },
};

/** The key of the edge `from → to` in the peers that keep one map entry per edge. */
export const edgeKey = (from, to) => `${cardId(from)}|${LINK_KIND}|${cardId(to)}`;

/**
 * Card `i`'s neighbours by a scan of every edge key (`keys`), skipping edges with a deleted
 * end (`isDeleted(id)`): outgoing then incoming, each sorted, as cardsync lists them.
 */
export function scanNeighbours(keys, i, isDeleted) {
  const me = cardId(i);
  const out = [];
  const incoming = [];
  for (const key of keys) {
    const [from, , to] = key.split("|");
    if (to === undefined || isDeleted(from) || isDeleted(to)) continue;
    if (from === me) out.push(to);
    else if (to === me) incoming.push(from);
  }
  return [...out.sort(), ...incoming.sort()];
}
