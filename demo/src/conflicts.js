// Conflict markers: a card whose field this user wrote while someone else wrote it too.
//
// Why: last writer wins merges two concurrent titles without help, but silently: one of the
// two people sees their title replaced and never learns why. The sync client reports each
// such clash and lists the ones nobody has resolved yet (`client.conflicts(card)`: open
// until the field is written again, by anyone; docs/design.md §5). The board shows each as a
// marker on its card with both values and lets the user pick: keep mine, or take theirs.
// Picking writes the chosen value, always, even when the document holds it already, so the
// write reaches every replica and closes the conflict wherever it is listed.

/**
 * Markers for the client's open conflicts: `decorate(element, card)` for `mountBoard`;
 * `changed()` is called when a conflict is reported (writes re-render the board anyway).
 */
export function conflictMarkers(client, doc, notify, changed) {
  client.on("conflict", () => changed());

  const resolve = (conflict, value) => {
    try {
      doc.apply([{ op: "set_field", card: conflict.card, field: conflict.field, value }]);
    } catch (error) {
      notify(`Resolving the conflict failed: ${error.message}`);
    }
  };

  /** The markers of one card's element, made to match the card's open conflicts. */
  const decorate = (element, card) => {
    const wanted = client.conflicts(card.id);
    const shown = [...element.querySelectorAll(":scope > .conflict")];
    const same = shown.length === wanted.length && shown.every((m, i) => sameConflict(m.conflict, wanted[i]));
    if (same) return;
    shown.forEach((m) => m.remove());
    element.prepend(...wanted.map((conflict) => marker(conflict, resolve)));
  };

  return { decorate };
}

const sameConflict = (a, b) => JSON.stringify(a) === JSON.stringify(b);

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
