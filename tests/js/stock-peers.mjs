// Stock `y-websocket` peers against a real cardsync-server, written the way a Yjs developer
// would write them (crates/cardsync-server/tests/stock.rs runs this with node).
//
// The server cannot reject a stock peer's change (the peer would ignore it and be poisoned);
// it compensates instead (crates/cardsync-sync/src/room/compensate.rs). Each scenario waits,
// bounded, until every replica agrees, and prints what each replica holds.
//
// Request: {
//   "origin": "ws://127.0.0.1:PORT", "room": doc name, "token": an editor token,
//   "scenario": "refused_card" | "offline_merge",
//   "cards": ids to use (26-character canonical ids, made by the Rust side)
// }
// Reply: { "replicas": [{ "name", "cards": toJSON of the `cards` root }], ... }

import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { WebSocket } from 'ws'
import { readRequest, reply } from './common.mjs'

const request = await readRequest()
const TIMEOUT_MS = 30_000

/** A stock peer: a Y.Doc with a y-websocket provider, the token in the URL. */
function peer (clientID) {
  const doc = new Y.Doc()
  if (clientID !== undefined) doc.clientID = clientID
  const provider = new WebsocketProvider(`${request.origin}/rooms`, request.room, doc, {
    WebSocketPolyfill: WebSocket,
    params: { token: request.token },
    disableBc: true
  })
  return { doc, provider, cards: doc.getMap('cards') }
}

/** Waits until `check()` holds, or fails naming `what`. Polls; asserts an outcome, not a time. */
async function until (check, what) {
  const deadline = Date.now() + TIMEOUT_MS
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const synced = (p) => until(() => p.provider.synced, 'a stock peer to sync')
const stamp = () => ({ at: Date.now(), by: 'stock' })

/** A valid task card, by hand, in one transaction (the README's guide). */
function writeValidTask (p, id, title, status = 'todo') {
  p.doc.transact(() => {
    const card = new Y.Map()
    p.cards.set(id, card)
    card.set('$kind', 'task')
    card.set('$created', stamp())
    card.set('$modified', stamp())
    card.set('title', title)
    card.set('status', status)
    card.set('body', new Y.Text('written by hand'))
  })
}

const snapshot = (name, p) => ({ name, cards: p.cards.toJSON() })
const close = (...peers) => {
  for (const p of peers) {
    p.provider.destroy()
    p.doc.destroy()
  }
}

async function refusedCard () {
  const [split, plain, created, uuid, valid] = request.cards
  const a = peer()
  const b = peer()
  await Promise.all([synced(a), synced(b)])

  // 1. The card map in one transaction, its fields in a second.
  a.doc.transact(() => a.cards.set(split, new Y.Map()))
  a.doc.transact(() => {
    const card = a.cards.get(split)
    card.set('$kind', 'task')
    card.set('title', 'fields come later')
  })
  // 2. A text field written as a plain string.
  a.doc.transact(() => {
    const card = new Y.Map()
    a.cards.set(plain, card)
    card.set('$kind', 'task')
    card.set('body', 'a plain string')
  })
  // 3. `$created` as a Y.Map.
  a.doc.transact(() => {
    const card = new Y.Map()
    a.cards.set(created, card)
    card.set('$kind', 'task')
    const at = new Y.Map()
    card.set('$created', at)
    at.set('at', Date.now())
  })
  // 4. A UUID key.
  a.doc.transact(() => {
    const card = new Y.Map()
    a.cards.set(uuid, card)
    card.set('$kind', 'task')
  })
  // Then a valid card.
  writeValidTask(a, valid, 'valid after four refused')

  const invalid = [split, plain, created, uuid]
  const clean = (p) => p.cards.has(valid) && invalid.every((id) => !p.cards.has(id))
  await until(() => clean(b), 'the valid card, and none of the invalid ones, at peer b')
  await until(() => clean(a), 'the invalid cards to vanish at the writer')
  // One more valid write from the same client: it still arrives.
  a.doc.transact(() => a.cards.get(valid).set('title', 'and edited'))
  await until(() => b.cards.get(valid)?.get('title') === 'and edited', 'a later edit at b')
  const out = { replicas: [snapshot('a', a), snapshot('b', b)], reconnects: 0 }
  close(a, b)
  return out
}

async function offlineMerge () {
  const [id] = request.cards
  // `a`'s id is the higher, so its write wins the merge of the two concurrent ones.
  const a = peer(4_000_000_000)
  const b = peer(1_000)
  const c = peer()
  await Promise.all([synced(a), synced(b), synced(c)])
  writeValidTask(a, id, 'the card')
  a.doc.transact(() => a.cards.get(id).set('status', 'doing'))
  const status = (p) => p.cards.get(id)?.get('status')
  await until(() => status(b) === 'doing' && status(c) === 'doing', 'doing everywhere')

  // Both go offline; each makes a move the state machine allows from `doing`.
  a.provider.disconnect()
  b.provider.disconnect()
  a.doc.transact(() => a.cards.get(id).set('status', 'done'))
  b.doc.transact(() => b.cards.get(id).set('status', 'todo'))
  // `b` comes back first: `doing → todo` is accepted.
  b.provider.connect()
  await until(() => status(c) === 'todo', 'b\'s move to reach c')
  // Then `a`: its `done` wins the merge over `todo`, which reads `todo → done`.
  a.provider.connect()
  await synced(a)
  const agree = () => [a, b, c].every((p) => status(p) === status(c))
  await until(() => agree() && status(a) !== 'done', 'one state everywhere')
  const out = { replicas: [snapshot('a', a), snapshot('b', b), snapshot('c', c)] }
  close(a, b, c)
  return out
}

const scenarios = { refused_card: refusedCard, offline_merge: offlineMerge }
const run = scenarios[request.scenario]
if (!run) throw new Error(`unknown scenario ${request.scenario}`)
reply(await run())
process.exit(0)
