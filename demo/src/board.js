// The board: columns of cards, kept in sync with the document.
//
// Rendering is keyed by card id and updates elements in place, so a remote edit never steals
// the focus or the caret from a field being typed into. Every gesture is one `doc.apply` of
// ops (one batch, one undo step); a refused one (an invalid status transition) changes
// nothing and says why.

import { newId } from "cardsync";
import { COLUMNS, ORDER } from "./schema.js";

/**
 * Renders `doc` into `root` and keeps it rendered. Returns the board's gestures, which the
 * tests drive too.
 */
export function mountBoard(root, doc, notify) {
  const lists = new Map();
  for (const { status, title } of COLUMNS) {
    const section = el("section", { className: "column", dataset: { status } });
    const list = el("ol", { className: "cards" });
    const form = el("form", { className: "add" });
    const input = el("input", { placeholder: "Add a card…", "aria-label": `Add a card to ${title}` });
    form.append(input);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      gestures.add(status, text);
      input.value = "";
    });
    list.addEventListener("dragover", (event) => event.preventDefault());
    list.addEventListener("drop", (event) => {
      event.preventDefault();
      const card = event.dataTransfer.getData("text/plain");
      const before = event.target.closest?.("li.card")?.dataset.card;
      if (card) gestures.move(card, status, before === card ? undefined : before);
    });
    section.append(el("h2", { textContent: title }), list, form);
    root.append(section);
    lists.set(status, list);
  }

  const elements = new Map();

  const attempt = (what, ops) => {
    try {
      doc.apply(ops);
      return true;
    } catch (error) {
      notify(error.code === "invalid_transition" ? `${what}: ${error.message}` : `${what} failed: ${error.message}`);
      return false;
    }
  };

  /** Index in the order sequence just after the last card of `status` (without `skip`). */
  const endOf = (status, skip) => {
    const order = (doc.sequence(ORDER) ?? []).filter((id) => id !== skip);
    let index = order.length;
    for (let i = order.length - 1; i >= 0; i--) {
      const card = doc.card(order[i]);
      if (card && statusOf(card) === status) {
        index = i + 1;
        break;
      }
    }
    return index;
  };

  const orderOps = () => (doc.sequence(ORDER) === undefined ? [{ op: "create_sequence", sequence: ORDER }] : []);

  const gestures = {
    /** Adds a card at the end of a column; returns its id. */
    add(status, title) {
      const card = newId();
      const ok = attempt("Adding a card", [
        ...orderOps(),
        { op: "create_card", card, kind: "task", fields: { title, status } },
        { op: "insert_into_sequence", sequence: ORDER, card, index: endOf(status) },
      ]);
      return ok ? card : undefined;
    },
    /** Moves a card into a column, before another card or at its end. */
    move(card, status, before) {
      const current = doc.card(card);
      if (!current) return false;
      const order = (doc.sequence(ORDER) ?? []).filter((id) => id !== card);
      const index = before && order.includes(before) ? order.indexOf(before) : endOf(status, card);
      const ops = [];
      if (statusOf(current) !== status) ops.push({ op: "set_field", card, field: "status", value: status });
      ops.push({ op: "move_in_sequence", sequence: ORDER, card, index });
      return attempt("Moving the card", ops);
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
    const bar = el("div", { className: "bar" });
    const more = el("button", { className: "more", type: "button", textContent: "+10%" });
    more.addEventListener("click", () => gestures.progress(id));
    const body = el("textarea", { className: "body", rows: 2, placeholder: "Notes", "aria-label": "Notes" });
    body.addEventListener("input", () => gestures.editBody(id, body.value));
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
    const columns = new Map(COLUMNS.map(({ status }) => [status, []]));
    for (const id of doc.sequence(ORDER) ?? []) {
      const card = cards.get(id);
      if (card) (columns.get(statusOf(card)) ?? columns.get("todo")).push(card);
    }
    const shown = new Set();
    for (const [status, list] of lists) {
      const wanted = columns.get(status).map((card) => {
        shown.add(card.id);
        const element = cardElement(card.id);
        update(element, card, titles);
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

function statusOf(card) {
  return typeof card.fields.status === "string" ? card.fields.status : "todo";
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
