// React hooks over a `CardDoc` and a `SyncClient`: `cardsync/react`.
//
// Each hook is `useSyncExternalStore` over the document's change events (or the client's
// status events). A snapshot is recomputed only after an event, and handed to React only
// when it differs from the last one (compared as JSON), so unrelated edits do not re-render
// a component and React sees a stable value between events. React is a peer dependency.

import { useMemo, useSyncExternalStore } from "react";

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

/** A card of `doc` (`undefined` while it does not exist), re-read when the document changes. */
export function useCard(doc, id) {
  return useDerived((f) => doc.subscribe(f), () => doc.card(id), [doc, id]);
}

/** The card ids of a sequence in order (`undefined` if there is no such sequence). */
export function useSequence(doc, id) {
  return useDerived((f) => doc.subscribe(f), () => doc.sequence(id), [doc, id]);
}

/** A sync client's status: connection, pending count, last ack and rejection, RTT. */
export function useSyncStatus(client) {
  return useDerived((f) => client.on("status", f), () => client.status, [client]);
}
