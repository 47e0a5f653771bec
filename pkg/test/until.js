// A bounded poll, for what has no event to wait on: a stock client's doc contents, records in
// a page's IndexedDB. Shared by the package's tests and the demo's end-to-end tests.

/**
 * Polls `predicate` (which may return a promise) every 10 ms until it holds; throws after
 * `timeoutMs`.
 */
export async function until(predicate, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
