// Loads updates into a fresh stock Yjs doc and prints what Yjs sees.
//
// Request: { "updates": [{ "hex": "...", "v2": false }, ...] }
// Reply:   describe(doc) (see common.mjs)

import { readRequest, reply, load, describe } from './common.mjs'

const request = await readRequest()
reply(describe(load(request.updates)))
