// The board: columns of cards, kept in sync with the document.
//
// Cards live on the board of `schema.js` (docs/design.md §3, "Boards"): a move is one
// `place_card`, a card's column and place one last-writer-wins value, so a card two people
// drag into two columns at once ends in one. Columns have no transition rule (version 1's
// `status` state machine refused To do → Done; a placement is not a register, see design §3).
//
// Rendering is keyed by card id and updates elements in place, so a remote edit never steals
// the focus or the caret from a field being typed into. Every gesture is one `doc.apply` of
// ops (one batch, one undo step); a refused one changes nothing and says why.

import { newId } from "cardsync";
import { BOARD, COLUMNS, LEGACY_ORDER } from "./schema.js";

/**
 * Renders `doc` into `root` and keeps it rendered. Returns the board's gestures, which the
 * tests drive too; `decorate(element, card)` may add to each card's element after an update.
 */
export function mountBoard(root, doc, notify, decorate = () => {}) {
  const lists = new Map();
  for (const { key, name } of COLUMNS) {
    const section = el("section", { className: "column", dataset: { column: key } });
    const list = el("ol", { className: "cards" });
    const form = el("form", { className: "add" });
    const input = el("input", { placeholder: "Add a card…", "aria-label": `Add a card to ${name}` });
    form.append(input);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      gestures.add(key, text);
      input.value = "";
    });
    list.addEventListener("dragover", (event) => event.preventDefault());
    list.addEventListener("drop", (event) => {
      event.preventDefault();
      const card = event.dataTransfer.getData("text/plain");
      const before = event.target.closest?.("li.card")?.dataset.card;
      if (card) gestures.move(card, key, before === card ? undefined : before);
    });
    section.append(el("h2", { textContent: name }), list, form);
    root.append(section);
    lists.set(key, list);
  }

  const elements = new Map();

  const attempt = (what, ops) => {
    try {
      doc.apply(ops);
      return true;
    } catch (error) {
      notify(`${what} failed: ${error.message}`);
      return false;
    }
  };

  /**
   * The ops that create the board and whichever of its columns are missing: the first gesture
   * on an empty document makes them (with fixed ids, so replicas that do it at once agree).
   */
  const boardOps = () => {
    const view = doc.board(BOARD);
    const ops = view === undefined ? [{ op: "create_board", board: BOARD, kind: "kanban" }] : [];
    COLUMNS.forEach(({ id, name }, index) => {
      if (!view?.columns.some((c) => c.id === id)) ops.push({ op: "add_column", board: BOARD, column: id, name, index });
    });
    return ops;
  };

  const idOf = (key) => COLUMNS.find((c) => c.key === key)?.id;
  /** The cards the board places in a column, in order: what `place_card`'s index counts. */
  const onBoard = (key) => doc.board(BOARD)?.columns.find((c) => c.id === idOf(key))?.cards ?? [];

  const gestures = {
    /** Adds a card at the end of a column; returns its id. */
    add(key, title) {
      const column = idOf(key);
      if (!column) return undefined;
      const card = newId();
      const ok = attempt("Adding a card", [
        ...boardOps(),
        { op: "create_card", card, kind: "task", fields: { title } },
        { op: "place_card", board: BOARD, card, column, index: onBoard(key).length },
      ]);
      return ok ? card : undefined;
    },
    /** Moves a card into a column, before another card of it or at its end. */
    move(card, key, before) {
      const column = idOf(key);
      if (!column || !doc.card(card)) return false;
      const cards = onBoard(key).filter((id) => id !== card);
      const index = before && cards.includes(before) ? cards.indexOf(before) : cards.length;
      return attempt("Moving the card", [...boardOps(), { op: "place_card", board: BOARD, card, column, index }]);
    },
    rename(card, title) {
      return attempt("Renaming", [{ op: "set_field", card, field: "title", value: title }]);
    },
    /** Replaces the body by `text`, as the smallest delete and insert. */
    editBody(card, text) {
      const old = fieldText(doc.card(card), "body");
      let start = 0;
      while (start < old.length && start < text.length && old[start] === text[start]) start++;
      let end = 0;
      while (end < old.length - start && end < text.length - start && old.at(-1 - end) === text.at(-1 - end)) end++;
      const ops = [];
      const removed = old.length - start - end;
      if (removed > 0) ops.push({ op: "delete_text", card, field: "body", index: start, len: removed });
      const inserted = text.slice(start, text.length - end);
      if (inserted) ops.push({ op: "insert_text", card, field: "body", index: start, text: inserted });
      return ops.length === 0 || attempt("Editing", ops);
    },
    bold(card, index, len) {
      if (len <= 0) return false;
      return attempt("Formatting", [{ op: "format_text", card, field: "body", index, len, attributes: { bold: true } }]);
    },
    progress(card) {
      const now = doc.card(card)?.fields.progress ?? 0;
      return attempt("Progress", [{ op: "raise_max", card, field: "progress", value: Math.min(1, now + 0.1) }]);
    },
    link(from, to) {
      return attempt("Linking", [{ op: "link", from, kind: "blocks", to }]);
    },
    unlink(from, to) {
      return attempt("Unlinking", [{ op: "unlink", from, kind: "blocks", to }]);
    },
    remove(card) {
      return attempt("Deleting", [{ op: "delete_card", card }]);
    },
  };

  const cardElement = (id) => {
    let card = elements.get(id);
    if (card) return card;
    const title = el("input", { className: "title", "aria-label": "Title" });
    title.addEventListener("change", () => gestures.rename(id, title.value));
    // A field being typed into is not overwritten by remote edits; show them once it is left.
    title.addEventListener("blur", () => schedule());
    const bar = el("div", { className: "bar" });
    const more = el("button", { className: "more", type: "button", textContent: "+10%" });
    more.addEventListener("click", () => gestures.progress(id));
    const body = el("textarea", { className: "body", rows: 2, placeholder: "Notes", "aria-label": "Notes" });
    body.addEventListener("input", () => gestures.editBody(id, body.value));
    body.addEventListener("blur", () => schedule());
    const bold = el("button", { className: "bold", type: "button", textContent: "B", title: "Bold the selection" });
    bold.addEventListener("click", () => gestures.bold(id, body.selectionStart, body.selectionEnd - body.selectionStart));
    const runs = el("div", { className: "runs" });
    const links = el("div", { className: "links" });
    const pick = el("select", { className: "pick", "aria-label": "Blocks…" });
    pick.addEventListener("change", () => {
      if (pick.value) gestures.link(id, pick.value);
      pick.value = "";
    });
    const remove = el("button", { className: "remove", type: "button", textContent: "×", title: "Delete card" });
    remove.addEventListener("click", () => gestures.remove(id));
    const meta = el("span", { className: "meta" });
    card = el("li", { className: "card", draggable: true, dataset: { card: id } });
    card.addEventListener("dragstart", (event) => event.dataTransfer.setData("text/plain", id));
    card.append(
      el("div", { className: "row" }, title, remove),
      el("div", { className: "progress" }, el("div", { className: "track" }, bar), more),
      el("div", { className: "row" }, body, bold),
      runs,
      el("div", { className: "row links-row" }, links, pick),
      meta,
    );
    card.parts = { title, bar, body, runs, links, pick, meta };
    elements.set(id, card);
    return card;
  };

  const update = (element, card, titles) => {
    const { title, bar, body, runs, links, pick, meta } = element.parts;
    const text = String(card.fields.title ?? "");
    if (document.activeElement !== title && title.value !== text) title.value = text;
    const bodyText = fieldText(card, "body");
    if (document.activeElement !== body && body.value !== bodyText) body.value = bodyText;
    bar.style.width = `${Math.round((card.fields.progress ?? 0) * 100)}%`;
    // The formatted body, shown once some of it is formatted (the textarea holds plain text).
    const textRuns = doc.textRuns(card.id, "body");
    const formatted = textRuns.some((run) => run.attributes !== undefined);
    runs.replaceChildren(
      ...(formatted ? textRuns : []).map((run) =>
        run.attributes?.bold ? el("strong", { textContent: run.text }) : document.createTextNode(run.text),
      ),
    );
    const blocked = doc.outgoing(card.id).filter((r) => r.kind === "blocks");
    links.replaceChildren(
      ...blocked.map((r) => {
        const chip = el("button", {
          className: "chip",
          type: "button",
          textContent: `blocks ${titles.get(r.to) ?? "?"} ×`,
          dataset: { to: r.to },
        });
        chip.addEventListener("click", () => gestures.unlink(card.id, r.to));
        return chip;
      }),
    );
    const linked = new Set(blocked.map((r) => r.to));
    const options = [...titles].filter(([id]) => id !== card.id && !linked.has(id));
    pick.replaceChildren(
      el("option", { value: "", textContent: "blocks…" }),
      ...options.map(([id, name]) => el("option", { value: id, textContent: name })),
    );
    meta.textContent = card.modified ? `edited by ${card.modified.by}` : "";
  };

  let scheduled = false;
  const render = () => {
    scheduled = false;
    const cards = new Map(doc.cards("task").map((card) => [card.id, card]));
    const titles = new Map([...cards.values()].map((c) => [c.id, String(c.fields.title ?? "")]));
    const columns = layout(doc, cards);
    const shown = new Set();
    for (const [key, list] of lists) {
      const wanted = columns.get(key).map((card) => {
        shown.add(card.id);
        const element = cardElement(card.id);
        update(element, card, titles);
        decorate(element, card);
        return element;
      });
      wanted.forEach((element, i) => {
        if (list.children[i] !== element) list.insertBefore(element, list.children[i] ?? null);
      });
      while (list.children.length > wanted.length) list.lastElementChild.remove();
    }
    for (const [id, element] of elements) {
      if (!shown.has(id)) {
        element.remove();
        elements.delete(id);
      }
    }
    root.setAttribute("aria-busy", "false");
    root.dispatchEvent(new CustomEvent("rendered"));
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(render);
  };
  doc.subscribe(schedule);
  render();
  return { ...gestures, render };
}

/**
 * The cards of each column (by key), in order: the board's placements, then cards written
 * before the board (no placement; schema version 1) in the column their `status` named, in
 * version 1's order. Cards in a column this page does not know (one added through the API)
 * show in the first.
 */
function layout(doc, cards) {
  const columns = new Map(COLUMNS.map(({ key }) => [key, []]));
  const first = columns.get(COLUMNS[0].key);
  const placed = new Set();
  const view = doc.board(BOARD);
  const groups = [...(view?.columns ?? []), { id: undefined, cards: view?.unplaced ?? [] }];
  for (const { id, cards: ids } of groups) {
    const into = columns.get(COLUMNS.find((c) => c.id === id)?.key) ?? first;
    for (const card of ids) {
      placed.add(card);
      if (cards.has(card)) into.push(cards.get(card));
    }
  }
  const order = doc.sequence(LEGACY_ORDER) ?? [];
  const rank = new Map(order.map((id, i) => [id, i]));
  const legacy = [...cards.values()].filter((card) => !placed.has(card.id));
  legacy.sort((x, y) => (rank.get(x.id) ?? order.length) - (rank.get(y.id) ?? order.length));
  for (const card of legacy) (columns.get(card.fields.status) ?? first).push(card);
  return columns;
}

function fieldText(card, field) {
  const value = card?.fields[field];
  return typeof value === "string" ? value : "";
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}
