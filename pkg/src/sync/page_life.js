// Page life: what the page tells about the network and whether it is seen, passed on to
// the machine. `online`/`offline` events set the network (no reconnect attempts while the
// browser knows it is offline, one at once when it comes back), and `visibilitychange` sets
// the hidden state (a slower heartbeat while nobody looks); `pagehide`/`pageshow` tell that
// the page is being left (closed, navigated away, put in the back-forward cache) or shown
// again, so presence can withdraw this tab's entry before the page goes.
//
// Why a file of its own: it is the one part that listens to the page rather than to the
// machine, exists only in browsers (in Node there is no `window` and it does nothing), and
// must take its listeners off again when the client closes.

/**
 * Listens to the page's network and visibility events; calls `network` and `hidden` at once
 * when the page starts offline or hidden. Returns the function that stops listening.
 * @param {object} hooks
 * @param {(online: boolean) => void} hooks.network the network is up or down
 * @param {(hidden: boolean) => void} hooks.hidden the page was hidden or shown
 * @param {(leaving: boolean) => void} [hooks.leaving] the page is being left, or shown again
 * @param {Window} [page] the page (default: `window`, when there is one)
 * @returns {() => void}
 */
export function attachPageLife({ network, hidden, leaving = () => {} }, page = globalThis.window) {
  if (typeof page === "undefined" || typeof page.addEventListener !== "function") return () => {};
  const { navigator, document } = page;
  const onNetwork = () => network(navigator.onLine !== false);
  const onVisibility = () => hidden(document.visibilityState === "hidden");
  const onHide = () => leaving(true);
  const onShow = (event) => event.persisted && leaving(false);
  page.addEventListener("online", onNetwork);
  page.addEventListener("offline", onNetwork);
  page.addEventListener("pagehide", onHide);
  page.addEventListener("pageshow", onShow);
  document.addEventListener("visibilitychange", onVisibility);
  if (navigator.onLine === false) onNetwork();
  if (document.visibilityState === "hidden") onVisibility();
  return () => {
    page.removeEventListener("online", onNetwork);
    page.removeEventListener("offline", onNetwork);
    page.removeEventListener("pagehide", onHide);
    page.removeEventListener("pageshow", onShow);
    document.removeEventListener("visibilitychange", onVisibility);
  };
}
