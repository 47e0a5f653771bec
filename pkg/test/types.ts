// Compiled (not run) by `cargo xtask test` with the strictest settings: the declarations a
// TypeScript user gets must type-check real use, and must reject obvious misuse.

import {
  type BoardView,
  type Card,
  CardDoc,
  type ChangeBatch,
  CardsyncError,
  type ClientStatus,
  type Conflict,
  type ConnectionCause,
  type ErrorCode,
  MemoryStore,
  MuxClient,
  type Op,
  type Place,
  type PresenceChange,
  type PresencePeer,
  type PresenceState,
  type RejectCode,
  type Schema,
  SyncClient,
  type Value,
  type View,
  type ViewChange,
  init,
  mergeUpdatesV1,
  newId,
} from "cardsync";
import { useCard, useConflicts, usePresence, useSequence, useSyncStatus } from "cardsync/react";

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
  // @ts-expect-error: values are plain data (objects and arrays only for composite registers)
  doc.setField(id, "title", () => 1);
  // @ts-expect-error: unknown op
  doc.apply([{ op: "explode" }]);
  doc.free();
  return (card?.fields.votes as number) + merged.length;
}

// The sync client: options, status and typed events.
async function syncClientTypes(): Promise<void> {
  const client: SyncClient = await SyncClient.open({
    url: "ws://127.0.0.1:4455/rooms/board",
    schema,
    token: "t",
    store: new MemoryStore(),
    connection: { backoffBase: 100 },
  });
  const shown: View[] = [];
  const cached: SyncClient = await SyncClient.open({
    url: "ws://127.0.0.1:4455/rooms/board",
    schema,
    viewCache: true,
    onView: (view) => shown.push(view),
  });
  const view: View | undefined = cached.view();
  const firstTitle: unknown = view?.cards[view.sequences["s"]?.[0] ?? ""]?.fields.title;
  cached.on("view", (change: ViewChange) => void [change.cards, change.removed, change.sequences, change.boards]);
  // @ts-expect-error onView takes a View, not a number
  await SyncClient.open({ url: "ws://x", schema, onView: (n: number) => n });
  void [firstTitle, shown];
  const status: ClientStatus = client.status;
  const state: "offline" | "connecting" | "syncing" | "online" | "backoff" | "unauthorized" =
    status.status;
  const unauthorized: string | null = status.unauthorized;
  client.setToken("t2");
  const refreshing: SyncClient = await SyncClient.open({
    url: "ws://127.0.0.1:4455/rooms/board",
    schema,
    token: async () => "fresh",
  });
  const mux = new MuxClient({ url: "ws://127.0.0.1:4455/ws", schema });
  const board: SyncClient = await mux.open("board", "t");
  mux.close();
  void [unauthorized, refreshing, board];
  const off = client.on("rejected", (report) => {
    const code: RejectCode = report.code;
    const vanished: Op[] = report.vanished;
    void [code, vanished];
  });
  client.on("status", (s) => void s.pending);
  client.on("connection", (report) => {
    // A failure nests under `failure`: the cause's own `kind` stays "failed".
    if (report.cause.kind === "failed") {
      const failure: "socket_error" | "socket_closed" | string = report.cause.failure.kind;
      void failure;
    }
  });
  const cause: ConnectionCause = { kind: "failed", failure: { kind: "socket_closed", code: 1006 } };
  void cause;
  off();
  const card: string = client.doc.createCard("task", { title: "typed" });
  const open: Conflict[] = client.conflicts(card);
  const winner: Value = client.conflicts()[0]?.winner ?? null;
  void [state, card, open, winner];
  // Presence: a typed state in, typed peers out.
  const mine: PresenceState = { user: "ada", color: "#e91e63", card, field: "title", cursor: { anchor: 0, head: 3 } };
  client.presence.set(mine);
  // @ts-expect-error: user is required
  client.presence.set({ card });
  // @ts-expect-error: the shape has no other keys
  client.presence.set({ user: "ada", avatar: "x" });
  const peers: readonly PresencePeer[] = client.presence.others();
  const who: string | null = peers[0]?.user ?? null;
  const stopPresence = client.presence.on("change", (change: PresenceChange) => void change.removed.length);
  stopPresence();
  client.presence.clear();
  void who;
  await client.whenSynced();
  await client.close();
}
void syncClientTypes;

// The React hooks' types (compiled, not rendered).
export function hookTypes(doc: CardDoc, client: SyncClient): string {
  const card: Card | undefined = useCard(doc, "id");
  const order: string[] | undefined = useSequence(doc, "seq");
  const status: ClientStatus = useSyncStatus(client);
  const conflicts: Conflict[] = useConflicts(client, "id");
  const all: Conflict[] = useConflicts(client);
  const peers: readonly PresencePeer[] = usePresence(client);
  return `${card?.id}${order?.length}${status.status}${conflicts[0]?.field}${all.length}${peers.length}`;
}

// Boards, composite and time-ordered registers.
const boardSchema: Schema = {
  version: 1,
  cards: {
    place: {
      fields: {
        geo: {
          kind: "register",
          composite: { shape: { type: "object", fields: { lat: { type: "number", min: -90, max: 90 } } } },
        },
        pin: { kind: "time_ordered" },
      },
    },
  },
  boards: { kanban: { cards: ["place"] } },
};
const boardDoc = new CardDoc(boardSchema, { clientId: 9 });
const boardId: string = boardDoc.createBoard("kanban");
const columnId: string = boardDoc.addColumn(boardId, "Todo", 0);
const placeCard: string = boardDoc.createCard("place", { geo: { lat: 1 } });
boardDoc.placeCard(boardId, placeCard, columnId, 0);
const drawn: BoardView | undefined = boardDoc.board(boardId);
const where: Place | undefined = boardDoc.cardPlace(boardId, placeCard);
const moveOp: Op = { op: "place_card", board: boardId, card: placeCard, column: columnId, index: 0 };
const boardCode: ErrorCode = "unknown_column";
void [drawn?.columns[0]?.cards, where?.index, moveOp, boardCode];
// @ts-expect-error a column index is a number
boardDoc.placeCard(boardId, placeCard, columnId, "0");
