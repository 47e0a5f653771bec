// Compiled (not run) by `cargo xtask test` with the strictest settings: the declarations a
// TypeScript user gets must type-check real use, and must reject obvious misuse.

import {
  type Card,
  CardDoc,
  type ChangeBatch,
  CardsyncError,
  type ErrorCode,
  type Op,
  type Schema,
  init,
  mergeUpdatesV1,
  newId,
} from "cardsync";

const schema: Schema = {
  version: 1,
  cards: { task: { fields: { title: { kind: "register", value_type: "string" }, votes: { kind: "counter" } } } },
};

export async function use(): Promise<number> {
  await init();
  const doc = new CardDoc(schema, { clientId: 1, actor: "ada" });
  const id: string = doc.createCard("task", { title: "typed" });
  const card: Card | undefined = doc.card(id);
  const ops: Op[] = [{ op: "increment", card: id, field: "votes", by: 1 }];
  doc.apply(ops);
  const stop: () => void = doc.subscribe((batch: ChangeBatch) => {
    for (const event of batch.events) {
      if (event.type === "field_changed") console.log(event.field);
    }
  });
  stop();
  const merged: Uint8Array = mergeUpdatesV1([doc.snapshotV1(), doc.diffV1(new Uint8Array())]);
  try {
    doc.setField(newId(), "title", "x");
  } catch (error) {
    if (error instanceof CardsyncError) {
      const code: ErrorCode = error.code;
      console.log(code);
    }
  }
  // @ts-expect-error: values are null, boolean, number or string
  doc.setField(id, "title", { nested: true });
  // @ts-expect-error: unknown op
  doc.apply([{ op: "explode" }]);
  doc.free();
  return (card?.fields.votes as number) + merged.length;
}
