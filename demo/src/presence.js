// Who is on the board, and which card each person is editing: the demo's presence.
//
// Why a file of its own: presence is not the board's data. It is published through the
// sync client's `presence` (y-protocols awareness, docs/design.md §6 "Presence"), lives as
// long as a tab, and only decorates what board.js draws: a list of people in the header and
// a marker on each card someone is editing. It reads the board's DOM (`[data-card]` elements
// and the fields inside them) and never changes the board's own elements beyond adding its
// marker, so the board can be redrawn freely; markers are put back after every redraw.

/** A stable color per name, so a person keeps theirs across reloads and peers. */
function colorOf(name) {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return `hsl(${hash % 360} 70% 42%)`;
}

/** The field being edited inside a card: its `data-field`, else its first class name. */
function fieldOf(element) {
  return element.dataset.field ?? element.classList[0] ?? element.tagName.toLowerCase();
}

/** The caret or selection of a text control, if it has one. */
function cursorOf(element) {
  const { selectionStart: anchor, selectionEnd: head } = element;
  return Number.isSafeInteger(anchor) && Number.isSafeInteger(head) ? { anchor, head } : null;
}

/**
 * Publishes this tab's presence (`user`, its color, the card and field focused, the caret)
 * and shows everyone else's: in a list added to `header`, and as a marker on cards of
 * `board`. Returns the function that stops it.
 * @param {import("cardsync").SyncClient} client
 * @param {string} user
 * @param {HTMLElement} board the element board.js draws into
 * @param {HTMLElement} header where the list of people goes
 */
export function mountPresence(client, user, board, header) {
  const { presence } = client;
  const color = colorOf(user);
  const list = document.createElement("ul");
  list.id = "presence";
  list.setAttribute("aria-label", "On this board");
  Object.assign(list.style, { display: "flex", gap: "0.4rem", listStyle: "none", margin: 0, padding: 0 });
  header.append(list);

  // Publishing: the focused card and field, and the caret as it moves.
  let focused = null;
  const publish = () => {
    const card = focused?.closest("[data-card]")?.dataset.card ?? null;
    presence.set({
      user,
      color,
      card,
      field: card && focused ? fieldOf(focused) : null,
      cursor: card && focused ? cursorOf(focused) : null,
    });
  };
  const onFocus = (event) => {
    focused = event.target.closest?.("[data-card]") ? event.target : null;
    publish();
  };
  const onBlur = () => {
    focused = null;
    // A click from one field to another blurs, then focuses: publish once, after both.
    queueMicrotask(() => focused === null && publish());
  };
  const onCaret = (event) => event.target === focused && publish();
  board.addEventListener("focusin", onFocus);
  board.addEventListener("focusout", onBlur);
  board.addEventListener("keyup", onCaret);
  board.addEventListener("mouseup", onCaret);
  board.addEventListener("input", onCaret);
  publish();

  // Showing: the people, then a marker on each card someone edits.
  const render = () => {
    const others = presence.others().filter((p) => p.user !== null);
    const people = [{ user: `${user} (you)`, color }, ...others];
    list.replaceChildren(
      ...people.map((p) => {
        const item = document.createElement("li");
        item.textContent = p.user;
        item.dataset.user = p.user;
        Object.assign(item.style, { color: "white", background: p.color ?? "gray", borderRadius: "1em", padding: "0 0.5em" });
        return item;
      }),
    );
    markCards(board, others);
  };
  const stop = presence.on("change", render);
  // The board redraws cards on every change; put the markers back (only what differs is
  // touched, so the markers' own insertion does not start another round).
  const observer = new MutationObserver(() => markCards(board, presence.others().filter((p) => p.user !== null)));
  observer.observe(board, { childList: true, subtree: true });
  render();

  return () => {
    stop();
    observer.disconnect();
    board.removeEventListener("focusin", onFocus);
    board.removeEventListener("focusout", onBlur);
    board.removeEventListener("keyup", onCaret);
    board.removeEventListener("mouseup", onCaret);
    board.removeEventListener("input", onCaret);
    list.remove();
  };
}

/** Puts on each card the marker of the people editing it (`data-editing` lists them). */
function markCards(board, others) {
  const editing = new Map();
  for (const p of others) {
    if (p.card === null) continue;
    if (!editing.has(p.card)) editing.set(p.card, []);
    editing.get(p.card).push(p);
  }
  for (const card of board.querySelectorAll("[data-card]")) {
    const people = editing.get(card.dataset.card) ?? [];
    const names = people.map((p) => `${p.user}${p.field ? ` · ${p.field}` : ""}`).join(", ");
    let marker = card.querySelector(":scope > .presence-marker");
    if (people.length === 0) {
      if (marker) {
        marker.remove();
        delete card.dataset.editing;
        card.style.boxShadow = "";
      }
      continue;
    }
    if (marker?.textContent === names) continue;
    if (!marker) {
      marker = document.createElement("span");
      marker.className = "presence-marker";
      Object.assign(marker.style, { fontSize: "0.75em", color: "white", borderRadius: "0.3em", padding: "0 0.3em" });
      card.prepend(marker);
    }
    const tint = people[0].color ?? "gray";
    marker.textContent = names;
    marker.style.background = tint;
    card.style.boxShadow = `0 0 0 2px ${tint}`;
    card.dataset.editing = people.map((p) => p.user).join(",");
  }
}
