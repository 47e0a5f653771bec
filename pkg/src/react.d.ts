// Types of `cardsync/react`.

import type { Card, CardDoc, Conflict } from "../dist/wasm/cardsync_wasm.js";
import type { Query } from "./query.js";
import type { ClientStatus, SyncClient } from "./sync/client.js";
import type { PresencePeer } from "./sync/presence.js";

/** A card of `doc` (`undefined` while it does not exist), re-read only when a change names it. */
export declare function useCard(doc: CardDoc, id: string): Card | undefined;

/** The card ids of a sequence in order (`undefined` if there is no such sequence). */
export declare function useSequence(doc: CardDoc, id: string): string[] | undefined;

/** A sync client's status, re-rendered when it changes. */
export declare function useSyncStatus(client: SyncClient): ClientStatus;

/** The ids of the cards matching `query` (see `liveQuery`), in its order, kept by a live query while mounted. */
export declare function useQuery(doc: CardDoc, query: Query): string[];

/**
 * A sync client's open conflicts (`client.conflicts(card)`), of `card` or of every card,
 * re-rendered when one is reported or resolved.
 */
export declare function useConflicts(client: SyncClient, card?: string): Conflict[];

/** The other peers' presence on `client`'s document, re-rendered when an entry changes. */
export declare function usePresence(client: SyncClient): readonly PresencePeer[];
