// The y-protocols awareness encoding, in JavaScript: an update is `varuint count`, then per
// entry `varuint client`, `varuint clock`, `varstring state` (JSON, `"null"` = gone), and
// the message that carries it is `varuint 1` (awareness) and `varuint8array update`
// (docs/design.md §6, "Framing").
//
// Why JavaScript and not the wasm: the package's wasm sits at its gzipped size budget
// (docs/design.md §11), and these few varints cost nothing here; and why not lib0's own
// encoder: the package depends on no npm module at run time. Stock y-websocket peers read
// what this writes and the other way round (pkg/test/presence-interop.test.js).

import { CardsyncError } from "../error.js";

/** The message type of an awareness message (y-protocols). */
export const MESSAGE_AWARENESS = 1;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Appends `n` (a non-negative safe integer) as a lib0 varuint. */
function writeVar(out, n) {
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** Reads a lib0 varuint at `at.i`; a truncated or over-long one is a `decode_error`. */
function readVar(bytes, at) {
  let n = 0;
  let scale = 1;
  for (;;) {
    if (at.i >= bytes.length) throw malformed("truncated varint");
    const byte = bytes[at.i++];
    n += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 0x80;
    if (scale > Number.MAX_SAFE_INTEGER) throw malformed("varint over 2^53");
  }
  return n;
}

function malformed(why) {
  return new CardsyncError("decode_error", `awareness update: ${why}`);
}

/**
 * Encodes entries as one awareness update.
 * @param {{ clientId: number, clock: number, json: string }[]} entries `json` is the state's
 *   JSON text (`"null"` for a removal)
 * @returns {Uint8Array}
 */
export function encodeUpdate(entries) {
  const out = [];
  writeVar(out, entries.length);
  for (const { clientId, clock, json } of entries) {
    writeVar(out, clientId);
    writeVar(out, clock);
    const text = utf8.encode(json);
    writeVar(out, text.length);
    for (const byte of text) out.push(byte);
  }
  return Uint8Array.from(out);
}

/**
 * Decodes one awareness update; states are parsed JSON (`null` for a removal).
 * @param {Uint8Array} bytes
 * @returns {{ clientId: number, clock: number, state: object | null }[]}
 */
export function decodeUpdate(bytes) {
  const at = { i: 0 };
  const count = readVar(bytes, at);
  const entries = [];
  for (let k = 0; k < count; k++) {
    const clientId = readVar(bytes, at);
    const clock = readVar(bytes, at);
    const len = readVar(bytes, at);
    if (at.i + len > bytes.length) throw malformed("truncated state");
    let state;
    try {
      state = JSON.parse(fromUtf8.decode(bytes.subarray(at.i, at.i + len)));
    } catch {
      throw malformed("a state that is not JSON text");
    }
    at.i += len;
    entries.push({ clientId, clock, state });
  }
  if (at.i !== bytes.length) throw malformed("trailing bytes");
  return entries;
}

/**
 * The message that carries `update` on a room's socket.
 * @param {Uint8Array} update
 * @returns {Uint8Array}
 */
export function awarenessMessage(update) {
  const head = [];
  writeVar(head, MESSAGE_AWARENESS);
  writeVar(head, update.length);
  const frame = new Uint8Array(head.length + update.length);
  frame.set(head);
  frame.set(update, head.length);
  return frame;
}
