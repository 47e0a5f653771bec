// The page of the browser cases: an import map that resolves the bare specifiers the cases
// use the way a bundler would with browser conditions (`cardsync` → the package's `browser`
// export, `yjs` and its `lib0` imports → their files in node_modules), then `cases.js`.
// It is served as `/` over the package directory, so every URL in it is a path there.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package directory, the root the page is served from. */
export const PKG = fileURLToPath(new URL("../..", import.meta.url));

/** Conditions of a browser ES module build, in the order bundlers try them. */
const CONDITIONS = ["browser", "import", "module", "default"];

/** The target of one `exports` entry under browser conditions. */
function pick(target) {
  if (typeof target === "string") return target;
  if (target === null || typeof target !== "object") return undefined;
  for (const condition of CONDITIONS) {
    const found = condition in target ? pick(target[condition]) : undefined;
    if (found) return found;
  }
  return undefined;
}

const manifest = async (dir) => JSON.parse(await readFile(join(PKG, dir, "package.json"), "utf8"));

/** Import map entries for every export of a package in node_modules (`name`, `name/sub`). */
async function entries(name) {
  const dir = `node_modules/${name}`;
  const { exports } = await manifest(dir);
  const map = {};
  for (const [subpath, target] of Object.entries(typeof exports === "object" ? exports : { ".": exports })) {
    const file = pick(target);
    if (file && !subpath.includes("*") && /\.m?js$/.test(file)) {
      map[subpath === "." ? name : `${name}/${subpath.slice(2)}`] = `/${dir}/${file.slice(2)}`;
    }
  }
  return map;
}

/**
 * The HTML of a test page that imports `module` (a path under the package) and exposes its
 * `cases` as `window.cardsync`.
 */
export async function testPage(module = "/test/browser/cases.js") {
  const imports = {
    ...(await entries("lib0")),
    ...(await entries("yjs")),
    cardsync: `/${pick((await manifest(".")).exports["."]).slice(2)}`,
  };
  return `<!doctype html>
<meta charset="utf-8">
<title>cardsync browser tests</title>
<link rel="icon" href="data:,">
<script type="importmap">${JSON.stringify({ imports })}</script>
<div id="board"></div>
<script type="module">
  import(${JSON.stringify(module)}).then(
    ({ cases }) => { window.cardsync = { names: Object.keys(cases), run: (name, arg) => cases[name](arg) }; },
    (error) => { window.cardsync = { error: String(error?.stack ?? error) }; },
  );
</script>
`;
}
