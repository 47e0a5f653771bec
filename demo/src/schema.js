// The board's schema: the same value the server validates against (`cargo xtask demo`
// writes it to the server's schema file from here).
//
// Cards live on one board (docs/design.md §3, "Boards"): a card's column and its place in
// it are one last-writer-wins value, so two people dragging one card into two columns at
// once leave it in exactly one of them, the same on every replica.

export const schema = {
  version: 2,
  cards: {
    task: {
      fields: {
        title: { kind: "register", value_type: "string", required: true },
        // Version 1 kept a card's column here. Unused since the board (version 2), kept
        // because removing a field or a state is an unsafe schema change (design §3);
        // `board.js` still reads it to show cards written before the board in a column.
        status: {
          kind: "register",
          value_type: "string",
          transitions: { todo: ["doing"], doing: ["done", "todo"], done: ["doing"] },
        },
        progress: { kind: "max" },
        body: { kind: "text" },
      },
    },
  },
  relationships: { blocks: { from: ["task"], to: ["task"] } },
  boards: { kanban: { cards: ["task"] } },
};

/** The board every card of the demo lives on (fixed, so every replica names the same one). */
export const BOARD = "00000000000000000000000002";

/**
 * The board's columns, in order: `key` names a column in the page (`data-column`) and in the
 * board's gestures, `id` is its column on the board, `name` its title, which the server's WIP
 * limit names (`demo/server.toml`: at most 3 cards in "Doing").
 */
export const COLUMNS = [
  { key: "todo", id: "00000000000000000000000003", name: "To do" },
  { key: "doing", id: "00000000000000000000000004", name: "Doing" },
  { key: "done", id: "00000000000000000000000005", name: "Done" },
];

/** Version 1's one sequence of every card: read only to order cards written before the board. */
export const LEGACY_ORDER = "00000000000000000000000001";
