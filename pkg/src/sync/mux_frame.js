// The multiplexed framing of `/ws` (docs/design.md §6, "Many rooms over one socket"; the Rust
// side is crates/cardsync-sync/src/protocol/mux.rs): every frame is `varint kind`, `varint
// room`, then the body. Kinds: 0 message (a whole cardsync message, or the last piece of one),
// 1 fragment (a piece; more follow), 2 join (`string(doc)`), 3 leave, 4 error (`varint code`,
// `varint close code`, `string(reason)`).
//
// Why a file of its own: it is the only place in JavaScript that reads or writes the header,
// so mux.js deals in rooms and messages, never bytes. Room ids and codes stay far below 2^53,
// so plain numbers hold every varint here.

export const KIND = Object.freeze({ message: 0, fragment: 1, join: 2, leave: 3, error: 4 });

/** The error codes, by their wire number (MuxErrorCode in Rust). */
export const ERROR_CODES = Object.freeze([
  "unknown_room",
  "bad_token",
  "malformed",
  "too_large",
  "too_many_rooms",
  "room_id_in_use",
  "invalid_document",
  "hello_timeout",
  "too_many_rejections",
  "unavailable",
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** @param {number[]} out @param {number} value */
function writeVar(out, value) {
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** The header bytes (kind, room) as an array. */
function header(kind, room) {
  const out = [];
  writeVar(out, kind);
  writeVar(out, room);
  return out;
}

/** `head` then `body` in one Uint8Array. */
function concat(head, body) {
  const frame = new Uint8Array(head.length + body.length);
  frame.set(head, 0);
  frame.set(body, head.length);
  return frame;
}

/** The frame carrying one cardsync message for `room`. @param {number} room @param {Uint8Array} message */
export function messageFrame(room, message) {
  return concat(header(KIND.message, room), message);
}

/** The frame joining `doc` as `room`. */
export function joinFrame(room, doc) {
  const name = encoder.encode(doc);
  const head = header(KIND.join, room);
  writeVar(head, name.length);
  return concat(head, name);
}

/** The frame leaving `room`. */
export function leaveFrame(room) {
  return new Uint8Array(header(KIND.leave, room));
}

/** Reads one varint from `bytes` at `pos.at`; throws on truncation. */
function readVar(bytes, pos) {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos.at >= bytes.length) throw new Error("multiplexed frame truncated");
    const byte = bytes[pos.at++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
    if (scale > 2 ** 56) throw new Error("varint overflow in a multiplexed frame");
  }
}

/**
 * Decodes one frame from the server. Bodies are views into `bytes`, not copies.
 * @param {Uint8Array} bytes
 * @returns {{ kind: "message" | "fragment", room: number, body: Uint8Array }
 *   | { kind: "error", room: number, code: string, closeCode: number, reason: string }}
 */
export function decodeFrame(bytes) {
  const pos = { at: 0 };
  const kind = readVar(bytes, pos);
  const room = readVar(bytes, pos);
  switch (kind) {
    case KIND.message:
    case KIND.fragment:
      return {
        kind: kind === KIND.message ? "message" : "fragment",
        room,
        body: bytes.subarray(pos.at),
      };
    case KIND.error: {
      const code = ERROR_CODES[readVar(bytes, pos)] ?? "unknown";
      const closeCode = readVar(bytes, pos);
      const len = readVar(bytes, pos);
      if (pos.at + len > bytes.length) throw new Error("multiplexed frame truncated");
      const reason = decoder.decode(bytes.subarray(pos.at, pos.at + len));
      return { kind: "error", room, code, closeCode, reason };
    }
    default:
      throw new Error(`unexpected multiplexed frame kind ${kind} from the server`);
  }
}
