// A tiny static file server for the browser tests.
//
// A page must load the package the way a browser loads it from a web server: ES modules over
// HTTP and the `.wasm` fetched by `init()` through `new URL(…, import.meta.url)` and compiled
// from the response (which needs `application/wasm`). A `file://` page or `page.setContent`
// would skip exactly that path. Node's `http` is all it takes, so no dev-server dependency.
// It records each request so the tests can check what the browser fetched.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

/**
 * Serves the files under `root` on 127.0.0.1 (a free port); `/` is `index` if given, else
 * `root/index.html`. Returns its `url`, the `requests` it served (`{ path, status, type }`, in
 * order) and `close()`.
 */
export async function serve(root, { index } = {}) {
  const inside = root.endsWith(sep) ? root : root + sep;
  const requests = [];
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const file = resolve(root, `.${path === "/" ? "/index.html" : path}`);
    let status = 200;
    let type = TYPES[extname(file)] ?? "application/octet-stream";
    let body;
    if (path === "/" && index !== undefined) {
      body = index;
    } else if (!file.startsWith(inside)) {
      status = 403;
    } else {
      body = await readFile(file).catch(() => undefined);
      if (body === undefined) status = 404;
    }
    if (status !== 200) type = "text/plain";
    requests.push({ path, status, type });
    response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    response.end(status === 200 ? body : `${status}\n`);
  });
  await new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", done);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((done) => server.close(done)),
  };
}
