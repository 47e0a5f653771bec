// React hooks over a `CardDoc` and a `SyncClient`: `cardsync/react`.
//
// Each hook is `useSyncExternalStore` over the document's change events (or the client's
// status and conflict events). A snapshot is recomputed only after an event that names what it reads (the
// card, the sequence), and handed to React only when it differs from the last one (compared
// as JSON), so unrelated edits neither re-read nor re-render a component and React sees a
// stable value between events. `useQuery` keeps a live query (`liveQuery`) while mounted:
// each change costs the cards it touched, not a scan. `usePresence` reads the client's
// presence, whose `others()` is already one array kept until an entry changes. React is a
// peer dependency.

import { useMemo, useSyncExternalStore } from "react";
import { liveQuery } from "./query.js";

/**
 * A store of one derived value: `read()` after every change `subscribe` reports, kept as the
 * same object while it is unchanged.
 */
function derived(subscribe, read) {
  let value = read();
  let json = JSON.stringify(value);
  return {
    subscribe(notify) {
      const refresh = () => {
        const next = read();
        const nextJson = JSON.stringify(next);
        if (nextJson === json) return;
        value = next;
        json = nextJson;
        notify();
      };
      const unsubscribe = subscribe(refresh);
      // A change between the render that read `value` and this subscription has no event.
      refresh();
      return unsubscribe;
    },
    get: () => value,
  };
}

function useDerived(subscribe, read, deps) {
  // `deps` names everything `subscribe` and `read` close over.
  const store = useMemo(() => derived(subscribe, read), deps);
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/** Subscribes `f` to the change batches of `doc` that have an event with `key` equal to `id`. */
function onEventsOf(doc, key, id, f) {
  return doc.subscribe((batch) => {
    if (batch.events.some((event) => event[key] === id)) f();
  });
}

/** A card of `doc` (`undefined` while it does not exist), re-read when a change names it. */
export function useCard(doc, id) {
  return useDerived((f) => onEventsOf(doc, "card", id, f), () => doc.card(id), [doc, id]);
}

/** The card ids of a sequence in order (`undefined` if there is no such sequence). */
export function useSequence(doc, id) {
  return useDerived((f) => onEventsOf(doc, "sequence", id, f), () => doc.sequence(id), [doc, id]);
}

/** Whether two id lists are equal. */
function sameIds(a, b) {
  return a !== null && a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * A store of a query's ids. While subscribed it holds a live query (created on subscribe and
 * freed on unsubscribe, so React's strict-mode double effects leave nothing behind); before,
 * a read runs the query once.
 */
function queryStore(doc, query) {
  let ids = null;
  let live = null;
  const keep = (next) => {
    if (!sameIds(ids, next)) ids = next;
    return ids;
  };
  return {
    subscribe(notify) {
      live = liveQuery(doc, query);
      const unsubscribe = live.subscribe(() => {
        keep(live.ids());
        notify();
      });
      // A change between the render that read `ids` and this subscription has no event.
      const before = ids;
      if (keep(live.ids()) !== before) notify();
      return () => {
        unsubscribe();
        live.free();
        live = null;
      };
    },
    get() {
      if (live !== null) return ids;
      const once = liveQuery(doc, query);
      try {
        return keep(once.ids());
      } finally {
        once.free();
      }
    },
  };
}

/** The ids of the cards matching `query` (see `liveQuery`), in its order. */
export function useQuery(doc, query) {
  const key = JSON.stringify(query);
  const store = useMemo(() => queryStore(doc, query), [doc, key]);
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/**
 * A sync client's open conflicts (`client.conflicts(card)`), of one card or of all: re-read
 * after each conflict report and each change of the doc (a write of the field resolves one).
 */
export function useConflicts(client, card) {
  const subscribe = (f) => {
    const offReports = client.on("conflict", f);
    const offDoc = client.doc.subscribe(f);
    return () => {
      offReports();
      offDoc();
    };
  };
  return useDerived(subscribe, () => client.conflicts(card), [client, card]);
}

/** A sync client's status: connection, pending count, last ack and rejection, RTT. */
export function useSyncStatus(client) {
  return useDerived((f) => client.on("status", f), () => client.status, [client]);
}

/**
 * The other peers' presence on a sync client's document (`client.presence.others()`),
 * re-rendered when an entry appears, changes or goes away. Publish this tab's own with
 * `client.presence.set(…)`.
 */
export function usePresence(client) {
  const { presence } = client;
  const subscribe = useMemo(() => (notify) => presence.on("change", notify), [presence]);
  const get = () => presence.others();
  return useSyncExternalStore(subscribe, get, get);
}
