// Fixtures shared by the Node tests (through helpers.js) and the browser tests
// (browser/cases.js): plain ES module code with no Node imports, so the same schema, PRNG and
// malformed-input generators run in both hosts.

/** A schema with every field kind and two relationship kinds. */
export const schema = {
  version: 1,
  cards: {
    task: {
      fields: {
        title: { kind: "register", value_type: "string", required: true },
        status: {
          kind: "register",
          value_type: "string",
          transitions: { todo: ["doing"], doing: ["done", "todo"], done: [] },
        },
        estimate: { kind: "register", value_type: "number" },
        urgent: { kind: "register", value_type: "bool" },
        note: { kind: "register" },
        body: { kind: "text" },
        votes: { kind: "counter" },
        progress: { kind: "max" },
        tags: { kind: "set" },
      },
    },
    person: { fields: { name: { kind: "register", value_type: "string" } } },
  },
  relationships: {
    assigned: { from: ["task"], to: ["person"] },
    blocks: { from: ["task"], to: ["task"] },
  },
};

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Generators of untrusted bytes, by name: each returns `[method, bytes]`, the `CardDoc` method
 * to feed them to. Random bytes are nearly always malformed; mutations of valid `v1`/`v2`
 * updates (1 to 4 bytes replaced) reach deeper into the decoder.
 */
export function malformedGenerators(random, { v1, v2 }) {
  const byte = () => Math.floor(random() * 256);
  const randomBytes = () => Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, byte);
  const mutate = (bytes) => {
    const copy = bytes.slice();
    const edits = 1 + Math.floor(random() * 4);
    for (let i = 0; i < edits; i++) copy[Math.floor(random() * copy.length)] = byte();
    return copy;
  };
  return {
    "random v1": () => ["applyUpdateV1", randomBytes()],
    "random v2": () => ["applyUpdateV2", randomBytes()],
    "mutated v1": () => ["applyUpdateV1", mutate(v1)],
    "mutated v2": () => ["applyUpdateV2", mutate(v2)],
  };
}

/** The same schema with a kanban board kind (the first-screen cases). */
export const boardSchema = { ...schema, boards: { kanban: { cards: ["task"] } } };
