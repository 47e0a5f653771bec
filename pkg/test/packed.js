// The package as a user installs it: `npm pack` of this directory, then `npm install` of the
// tarball into a fresh project in a temporary directory. Offline: the package has no
// dependencies, so nothing but the tarball is needed. Used by the pack and Vite tests.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package directory. */
export const PKG = fileURLToPath(new URL("..", import.meta.url));

/** Runs a program; returns its stdout, or throws with everything it printed. */
export function run(program, args, cwd) {
  try {
    return execFileSync(program, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    throw new Error(`${program} ${args.join(" ")} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

const npm = (args, cwd) => run("npm", [...args, "--no-audit", "--no-fund"], cwd);

/**
 * Packs the package and installs it into a new project. Returns the project `dir`, npm's
 * description of the tarball (`packed.files`, `packed.filename`) and `remove()`.
 */
export function packAndInstall() {
  const dir = mkdtempSync(join(tmpdir(), "cardsync-consumer-"));
  try {
    const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", dir], PKG));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    npm(["install", "--offline", "--ignore-scripts", join(dir, packed.filename)], dir);
    return { dir, packed, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
