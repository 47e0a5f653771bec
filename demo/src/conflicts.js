// Conflict markers: a card whose field this user wrote while someone else wrote it too.
//
// Why: last writer wins merges two concurrent titles without help, but silently: one of the
// two people sees their title replaced and never learns why. The sync client reports each
// such clash (its "conflict" event: a remote write overwrote a field that a pending local
// batch also wrote, docs/design.md §5), and the board turns it into a marker on the card
// that shows both values and lets the user pick: keep mine, or take theirs.
//
// A marker is open until the field is written again, by anyone: picking writes the chosen
// value (always, even when the document holds it already, so the write reaches every
// replica), typing a new title resolves it too, and a resolution made on another replica
// arrives as a remote write of the field, which closes the marker here. The report that
// opens a marker comes after the remote update that caused it (the client delivers an
// update's changes, then its reports), so that update does not close it. Markers live in
// the page: a reload forgets the open ones (the durable conflict log of issue 19 is not
// built yet).

/** Tracks the client's conflict reports; `changed()` is called when the open set changes. */
export function trackConflicts(client, doc, notify, changed) {
  const open = new Map();
  const key = (card, field) => `${card}/${field}`;

  client.on("conflict", ({ conflict }) => {
    open.set(key(conflict.card, conflict.field), conflict);
    changed();
  });
  doc.subscribe(({ events }) => {
    let closed = false;
    for (const event of events) {
      if (event.type === "field_changed") closed = open.delete(key(event.card, event.field)) || closed;
    }
    if (closed) changed();
  });

  const resolve = (conflict, value) => {
    try {
      doc.apply([{ op: "set_field", card: conflict.card, field: conflict.field, value }]);
    } catch (error) {
      notify(`Resolving the conflict failed: ${error.message}`);
    }
  };

  /** The markers of one card's element, made to match the open conflicts of `card`. */
  const decorate = (element, card) => {
    const wanted = [...open.values()].filter((c) => c.card === card.id);
    const shown = [...element.querySelectorAll(":scope > .conflict")];
    const same =
      shown.length === wanted.length && shown.every((marker, i) => marker.conflict === wanted[i]);
    if (same) return;
    shown.forEach((marker) => marker.remove());
    element.prepend(...wanted.map((conflict) => marker(conflict, resolve)));
  };

  return { decorate, open: () => [...open.values()] };
}

function marker(conflict, resolve) {
  const text = (value) => (typeof value === "string" ? `“${value}”` : JSON.stringify(value));
  const node = document.createElement("div");
  node.className = "conflict";
  node.dataset.field = conflict.field;
  node.setAttribute("role", "group");
  node.setAttribute("aria-label", `Conflicting edits of ${conflict.field}`);
  const say = document.createElement("p");
  say.textContent =
    `⚑ ${conflict.field} was edited at the same time: yours ${text(conflict.local)}, ` +
    `theirs ${text(conflict.remote)}.`;
  const button = (className, label, value) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    b.addEventListener("click", () => resolve(conflict, value));
    return b;
  };
  node.append(say, button("keep-mine", "Keep mine", conflict.local), button("take-theirs", "Take theirs", conflict.remote));
  node.conflict = conflict;
  return node;
}
