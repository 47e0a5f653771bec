// The board's schema: the same value the server validates against (`cargo xtask demo`
// writes it to the server's schema file from here).

export const schema = {
  version: 1,
  cards: {
    task: {
      fields: {
        title: { kind: "register", value_type: "string", required: true },
        // The column: a state machine, so a drag from "todo" straight to "done" is refused.
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
};

/** The columns, in order: the values of `status`. */
export const COLUMNS = [
  { status: "todo", title: "To do" },
  { status: "doing", title: "Doing" },
  { status: "done", title: "Done" },
];

/**
 * The one sequence that orders every card. A card's column is its `status` field, not a
 * sequence of its own: two people moving one card to two different columns at once then
 * leave it in exactly one column (the register's winner), where per-column sequences would
 * show it in both.
 */
export const ORDER = "00000000000000000000000001";
