// An app as a Vite user writes it: `cardsync` imported by name, `await init()`, a document.
// vite.test.js builds it with Vite from the installed tarball and runs the bundle in Chromium,
// which reads `window.outcome`.

import { CardDoc, CardsyncError, init } from "cardsync";

async function main() {
  await init();
  const schema = { version: 1, cards: { note: { fields: { title: { kind: "register" }, body: { kind: "text" } } } } };
  const doc = new CardDoc(schema, { actor: "vite" });
  const card = doc.createCard("note", { title: "bundled", body: "Hello" });
  doc.insertText(card, "body", 5, " Vite");
  const copy = CardDoc.loadV1(schema, doc.snapshotV1());
  let code;
  try {
    copy.applyUpdateV1(new Uint8Array([0xff]));
  } catch (error) {
    code = error instanceof CardsyncError ? error.code : String(error);
  }
  return { fields: copy.card(card).fields, code, userAgent: navigator.userAgent };
}

main().then(
  (value) => { window.outcome = { value }; },
  (error) => { window.outcome = { error: String(error?.stack ?? error) }; },
);
