// Edits a cardsync document with nothing but the plain Yjs API, following the layout of
// docs/design.md §3, the way a third-party Yjs peer would, and prints what changed as a diff
// against the Rust side's state vector.
//
// Request: {
//   "snapshot": hex v1 update to start from,
//   "stateVector": hex state vector of the Rust peer (the diff is computed against it),
//   "clientID": this peer's Yjs client id (fixed, so counter/set keys are predictable),
//   "card": id of an existing task card to edit,
//   "deleteCard": id of an existing card to soft-delete,
//   "newCard": id of the card to create,
//   "sequence": id of an existing sequence (the new card goes last, its last card first)
// }
// Reply: { "diff": hex v1, "diffV2": hex v2, ...describe(doc) }

import * as Y from 'yjs'
import { readRequest, reply, load, describe, fromHex, toHex } from './common.mjs'

const request = await readRequest()
const doc = load([{ hex: request.snapshot, v2: false }])
doc.clientID = request.clientID
const me = String(doc.clientID)
const stamp = { at: 1700000000123, by: 'yjs-peer' }

const cards = doc.getMap('cards')
const card = cards.get(request.card)
if (!(card instanceof Y.Map)) throw new Error(`card ${request.card} is not a Y.Map`)

// One transaction per user action, as cardsync itself does.
doc.transact(() => {
  card.set('title', 'Edited in Yjs')
  card.set('$modified', stamp)
})
doc.transact(() => {
  const body = card.get('body')
  body.insert(0, 'Yjs: ', { bold: true })
  // Without attributes Yjs would extend the link run before it; null clears the attribute.
  body.insert(body.length, ' (end)', { link: null })
})
doc.transact(() => {
  // Counter and max entries are keyed by the writer's own client id.
  const votes = card.get('votes')
  votes.set(me, (votes.get(me) ?? 0) + 5)
  card.get('progress').set(me, 99.5)
})
doc.transact(() => {
  // Sets: one `item@client` key per add; a remove deletes every key of the item it has seen.
  const tags = card.get('tags')
  tags.set(`yjs@${me}`, true)
  for (const key of Array.from(tags.keys())) {
    if (key.slice(0, key.lastIndexOf('@')) === 'urgent') tags.delete(key)
  }
})
doc.transact(() => {
  cards.get(request.deleteCard).set('$deleted', true)
})
doc.transact(() => {
  cards.set(request.newCard, new Y.Map([
    ['$kind', 'task'],
    ['$created', stamp],
    ['$modified', stamp],
    ['title', 'Born in Yjs'],
    ['status', 'todo'],
    ['body', new Y.Text('made by a stock Yjs peer')],
    ['votes', new Y.Map([[me, 2]])],
    ['progress', new Y.Map()],
    ['tags', new Y.Map([[`fresh@${me}`, true]])]
  ]))
  // Relationships are plain values keyed `{from}:{kind}:{to}`; each property is its own
  // entry of `relationship_props`, keyed `{relationship}\u001f{name}`.
  const edge = `${request.newCard}:blocks:${request.card}`
  doc.getMap('relationships').set(edge, {
    from: request.newCard, kind: 'blocks', to: request.card, removed: false
  })
  doc.getMap('relationship_props').set(`${edge}\u001fweight`, 3)
})
doc.transact(() => {
  // Sequences are flat: `{sequence}` marks the sequence, `{sequence}:{card}` holds the card's
  // fractional order key (cardsync's order_key module). The integer part "b00" sorts after
  // every "a…" key, so the new card goes last; "Zz" sorts before them, so the card with the
  // largest key moves to the front.
  const sequences = doc.getMap('sequences')
  const prefix = `${request.sequence}:`
  if (sequences.get(request.sequence) !== true) throw new Error('no such sequence')
  const entries = Array.from(sequences.entries())
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, order]) => [key.slice(prefix.length), order])
    .sort(([ca, ka], [cb, kb]) => ka < kb ? -1 : ka > kb ? 1 : ca < cb ? -1 : ca > cb ? 1 : 0)
  sequences.set(prefix + request.newCard, 'b00')
  sequences.set(prefix + entries[entries.length - 1][0], 'Zz')
})

const sv = fromHex(request.stateVector)
reply({
  diff: toHex(Y.encodeStateAsUpdate(doc, sv)),
  diffV2: toHex(Y.encodeStateAsUpdateV2(doc, sv)),
  ...describe(doc)
})
