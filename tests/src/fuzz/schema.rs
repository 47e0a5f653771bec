//! The schema target: an untrusted schema and an untrusted batch of operations, as JSON (what
//! the wasm layer and a server config receive).
//!
//! Promises: a schema either opens a document or gives a typed error; a batch either applies
//! entirely or gives a typed error and changes nothing (batches are atomic); a document that
//! accepted a batch reloads from its own snapshot to the same content.

use std::sync::Arc;

use cardsync_core::{CardDoc, Op, Schema, Stamp};
use serde::{Deserialize, Serialize};

/// The target's input.
#[derive(Serialize, Deserialize)]
struct Input {
    schema: Schema,
    batches: Vec<Vec<Op>>,
}

/// Encodes a seed input: `schema` and one batch.
pub(super) fn input(schema: &Schema, ops: &[Op]) -> Vec<u8> {
    serde_json::to_vec(&Input {
        schema: schema.clone(),
        batches: vec![ops.to_vec()],
    })
    .expect("schemas and ops serialize")
}

pub(super) fn run(data: &[u8]) {
    let Ok(Input { schema, batches }) = serde_json::from_slice::<Input>(data) else {
        return;
    };
    let schema = Arc::new(schema);
    let Ok(mut doc) = CardDoc::with_schema(Arc::clone(&schema), 1) else {
        return;
    };
    for (at, ops) in batches.iter().enumerate() {
        let before = doc.export();
        if doc.apply(&Stamp::new(at as u64, "fuzz"), ops).is_err() {
            assert_eq!(doc.export(), before, "a refused batch changed the document");
        }
    }
    let reopened =
        CardDoc::load_v1(schema, 2, &doc.snapshot_v1()).expect("a document's own snapshot loads");
    assert_eq!(
        reopened.export(),
        doc.export(),
        "the snapshot reloads differently"
    );
}
