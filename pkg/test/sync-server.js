// A real `cardsync-server` for the sync tests (and the demo's end-to-end tests): the binary
// cargo built (CARDSYNC_SERVER_BIN, set by `cargo xtask test`, else target/debug), on
// 127.0.0.1 with its SQLite file in a temporary directory, the fixtures' schema unless given
// another, and optionally static files and a configuration file (`--config`: the demo's
// validators). Tokens come from `cardsync-server token`.

import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { schema as fixtureSchema } from "./fixtures.js";

const bin =
  process.env.CARDSYNC_SERVER_BIN ??
  fileURLToPath(new URL("../../target/debug/cardsync-server", import.meta.url));

/**
 * Starts a server; `stop()` ends it and removes its files.
 * @param {{ schema?: object, staticDir?: string, config?: string }} [options] `config`: the
 *   path of a TOML configuration file.
 */
export async function startServer({ schema = fixtureSchema, staticDir, config } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cardsync-sync-test-"));
  const schemaPath = join(dir, "schema.json");
  writeFileSync(schemaPath, JSON.stringify(schema));
  const extra = [...(staticDir ? ["--static-dir", staticDir] : []), ...(config ? ["--config", config] : [])];
  const env = {
    ...process.env,
    CARDSYNC_SECRET: "a-test-secret-that-is-at-least-32-bytes",
    RUST_LOG: process.env.RUST_LOG ?? "warn",
  };
  const server = {
    dir,
    child: undefined,
    /** `ws://127.0.0.1:PORT` */
    origin: undefined,
    /** `http://127.0.0.1:PORT`, where static files are served. */
    get http() {
      return this.origin.replace("ws://", "http://");
    },
    /** The room URL of a document. */
    url(doc) {
      return `${this.origin}/rooms/${doc}`;
    },
    /** A signed token for `doc` and `role` (viewer, editor, admin), valid `ttlSecs` (0: expired). */
    token(doc, role = "editor", ttlSecs = undefined) {
      const ttl = ttlSecs === undefined ? [] : ["--ttl-secs", String(ttlSecs)];
      return execFileSync(bin, ["token", "--doc", doc, "--role", role, ...ttl], { env }).toString().trim();
    },
    /** Kills the process (SIGKILL: no clean shutdown) and starts it again on the same port. */
    async restart() {
      this.child.kill("SIGKILL");
      await once(this.child, "exit");
      await launch(this.origin.replace("ws://", ""));
    },
    /** Kills the process and keeps its files: `resume()` starts it again on the same port. */
    async pause() {
      this.child.kill("SIGKILL");
      await once(this.child, "exit");
    },
    async resume() {
      await launch(this.origin.replace("ws://", ""));
    },
    async stop() {
      this.child.kill("SIGKILL");
      await once(this.child, "exit");
      rmSync(dir, { recursive: true, force: true });
    },
  };
  async function launch(listen) {
    const child = spawn(bin, ["serve", "--listen", listen, "--data-dir", dir, "--schema", schemaPath, ...extra], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout });
    const [line] = await Promise.race([
      once(lines, "line"),
      once(child, "exit").then(([code]) => {
        throw new Error(`cardsync-server exited with ${code} before listening (${bin})`);
      }),
    ]);
    const match = /listening on (ws:\/\/[^/]+)\//.exec(line);
    if (!match) throw new Error(`unexpected first line from cardsync-server: ${line}`);
    server.child = child;
    server.origin = match[1];
  }
  await launch("127.0.0.1:0");
  return server;
}
