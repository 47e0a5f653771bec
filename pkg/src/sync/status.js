// The status a UI shows, derived from the machine's raw status plus what only the driver
// knows (store failures, who owns the outbox). Plain data, camelCase, times in ms.

/** @typedef {import("../../dist/wasm/cardsync_wasm.js").SyncStatus} SyncStatus */

/**
 * @param {SyncStatus} raw
 * @param {{ storeError: string | null, durable: boolean }} driver
 */
export function clientStatus(raw, driver) {
  const { connection: c, session: s } = raw;
  const unauthorized = raw.unauthorized ?? null;
  return {
    status: unauthorized === null ? c.state.kind : "unauthorized",
    unauthorized,
    nextRetryAt: c.nextRetryAt,
    pending: s.pending,
    oldestPendingMs: s.oldestPendingMs,
    lastAckAt: s.lastAck === null ? null : s.lastAck[1],
    lastRejection:
      s.lastRejection === null
        ? null
        : { code: s.lastRejection.code, reason: s.lastRejection.reason, at: s.lastRejection.at },
    rttMs: c.rtt === null ? null : c.rtt.srtt,
    lastFailure: c.lastFailure === null ? null : c.lastFailure.kind,
    serverAcks: s.serverAcks,
    storeError: driver.storeError,
    durable: driver.durable,
  };
}

/**
 * Whether two statuses differ in more than the age of the oldest pending change, which
 * grows on its own: a `status` event on every frame and timer for it alone would re-render
 * a UI for nothing. Read `client.status` for the current age.
 * @param {ReturnType<typeof clientStatus>} a
 * @param {ReturnType<typeof clientStatus>} b
 */
export function sameStatus(a, b) {
  const key = ({ oldestPendingMs: _age, ...rest }) => JSON.stringify(rest);
  return key(a) === key(b);
}
