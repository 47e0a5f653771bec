// A stock y-websocket client writes a burst of updates into a cardsync-server room, the way an
// app built on plain Yjs does (one transaction each, nothing resent), and a second stock client
// counts what reached the room. Run by crates/cardsync-server/tests/backpressure.rs.
//
// Request (JSON on stdin): {
//   "server": "ws://127.0.0.1:<port>/rooms", "room": document id, "token": an editor token,
//   "updates": [hex v1 update, ...] (each creates one card),
//   "timeoutMs": how long the observer may wait for every card
// }
// Reply: {
//   "received": cards the observer holds at the end, "expected": cards the updates create,
//   "writerCloses": connections of the writer that closed (0: it never had to reconnect),
//   "writerConnects": connections the writer opened
// }

import { WebsocketProvider } from 'y-websocket'
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { readRequest, reply, fromHex } from './common.mjs'

const request = await readRequest()

/** A provider for `room` on its own Y.Doc. No BroadcastChannel: both peers live in this one
 *  process, and everything must travel through the server. */
function connect (doc) {
  return new WebsocketProvider(request.server, request.room, doc, {
    WebSocketPolyfill: WebSocket,
    params: { token: request.token },
    disableBc: true
  })
}

const until = async (check, what) => {
  const deadline = Date.now() + request.timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const writerDoc = new Y.Doc()
const writer = connect(writerDoc)
let writerCloses = 0
let writerConnects = 0
writer.on('status', ({ status }) => { if (status === 'connected') writerConnects++ })
writer.on('connection-close', () => { writerCloses++ })
await until(() => writer.synced, 'the writer to sync')

// The burst: every update is its own Y.Doc update event, so y-websocket sends each as one
// sync update frame, back to back.
for (const hex of request.updates) Y.applyUpdate(writerDoc, fromHex(hex))
const expected = writerDoc.getMap('cards').size

const observerDoc = new Y.Doc()
const observer = connect(observerDoc)
const cards = observerDoc.getMap('cards')
let failure = null
try {
  await until(() => cards.size >= expected, `${expected} cards at the observer`)
} catch (e) {
  failure = e.message
}
reply({ received: cards.size, expected, writerCloses, writerConnects, failure })
writer.destroy()
observer.destroy()
writerDoc.destroy()
observerDoc.destroy()
process.exit(0)
