// Launching the system Chromium for the browser tests, the one way they do it.
//
// playwright-core drives a browser it is given and never downloads one (docs/design.md §8): the
// browser is Debian's `chromium` at /usr/bin/chromium, which `.ci/run` installs. The flags
// keep a CI run quiet and self-contained: no sandbox (CI runs as root, where Chromium's
// sandbox refuses to start), no GPU, no QUIC, no first-run UI and no background traffic to
// Google's services (component updates, sync, safe browsing lists). Playwright adds
// `--headless` itself. Each launch gets a fresh profile directory, removed on close, so no
// state leaks between runs.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Starts headless Chromium; returns a page and `close()`, which also removes the profile. */
export async function launch() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (see .ci/run)`);
  }
  const profile = mkdtempSync(join(tmpdir(), "cardsync-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      page,
      version: context.browser()?.version() ?? "unknown",
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
