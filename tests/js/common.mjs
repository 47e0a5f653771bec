// Shared helpers of the interop scripts that `tests/yjs_interop.rs` runs with node.
//
// Protocol: the Rust test writes one JSON request on stdin and reads one JSON reply on stdout.
// Binary payloads (updates, state vectors) travel as lowercase hex strings. Anything on stderr
// plus a non-zero exit code is a failure the Rust side reports verbatim.

import * as Y from 'yjs'

/** Reads all of stdin and parses it as JSON. */
export async function readRequest () {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

/** Writes the reply as one line of JSON. */
export function reply (value) {
  process.stdout.write(JSON.stringify(value) + '\n')
}

export const fromHex = (hex) => new Uint8Array(Buffer.from(hex, 'hex'))
export const toHex = (bytes) => Buffer.from(bytes).toString('hex')

/** Applies `{hex, v2}` updates, in order, to a fresh doc (or `doc`). */
export function load (updates, doc = new Y.Doc()) {
  for (const { hex, v2 } of updates) {
    if (v2) Y.applyUpdateV2(doc, fromHex(hex))
    else Y.applyUpdate(doc, fromHex(hex))
  }
  return doc
}

/**
 * What a stock Yjs peer sees of a cardsync document: the six roots as plain JSON, the
 * formatting deltas of every nested Y.Text (toJSON drops formatting), the type of every card
 * entry (so the Rust side can check that fields live in the containers docs/design.md §3 promises),
 * and the encoded state.
 */
export function describe (doc) {
  const cards = doc.getMap('cards')
  const texts = {}
  const types = {}
  cards.forEach((card, id) => {
    if (!(card instanceof Y.Map)) {
      types[id] = typeof card
      return
    }
    types[id] = {}
    card.forEach((value, key) => {
      types[id][key] = value instanceof Y.Text
        ? 'Y.Text'
        : value instanceof Y.Map ? 'Y.Map' : value instanceof Y.AbstractType ? 'Y.other' : 'value'
      if (value instanceof Y.Text) {
        texts[id] = texts[id] || {}
        texts[id][key] = value.toDelta()
      }
    })
  })
  return {
    cards: cards.toJSON(),
    types,
    texts,
    relationships: doc.getMap('relationships').toJSON(),
    relationship_props: doc.getMap('relationship_props').toJSON(),
    sequences: doc.getMap('sequences').toJSON(),
    boards: doc.getMap('boards').toJSON(),
    meta: doc.getMap('meta').toJSON(),
    stateVector: toHex(Y.encodeStateVector(doc)),
    snapshot: toHex(Y.encodeStateAsUpdate(doc))
  }
}
