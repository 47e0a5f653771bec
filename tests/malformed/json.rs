//! JSON: schemas and ops.

use cardsync_core::{CardDoc, FieldDef, Op, Schema, Stamp, Value};

use super::corpus::{Encoding, SEQ, card, corpus, load, read_all, schema};
use super::inputs::{Rng, Tally, bit_flips, random, structural, truncations};

/// Byte-level mutations of JSON text; invalid UTF-8 is the parser's problem, not ours.
fn json_inputs(rng: &mut Rng, real: &str, count: usize) -> Vec<Vec<u8>> {
    const TOKENS: [&str; 20] = [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "null",
        "true",
        "-1",
        "1e999",
        "4294967296",
        "\"register\"",
        "\"text\"",
        "\"kind\"",
        "\"fields\"",
        "\"$x\"",
        "\"transitions\"",
        "\"\"",
        "\"\\ud800\"",
    ];
    let real = real.as_bytes();
    let mut out = truncations(real);
    out.extend(bit_flips(rng, real, count, 3));
    out.extend(structural(rng, real, count));
    // Token splices: drop a token where JSON structure is likely to break interestingly.
    for _ in 0..count {
        let mut bytes = real.to_vec();
        let at = rng.below(bytes.len());
        let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
        bytes.splice(at..at, token.iter().copied());
        out.push(bytes);
    }
    out.extend(random(rng, count / 4, 32));
    out
}

#[test]
fn schema_json_rejects_malformed_input() {
    let mut real = schema();
    real.cards.get_mut("task").unwrap().fields.insert(
        "kind".into(),
        FieldDef::state_machine([("a", "b"), ("b", "a")]),
    );
    let json = serde_json::to_string(&real).unwrap();
    assert_eq!(serde_json::from_str::<Schema>(&json).unwrap(), real);
    let mut rng = Rng::new(0x5eed_000a);
    let inputs = json_inputs(&mut rng, &json, 1200);
    let mut tally = Tally::default();
    let mut checked = 0;
    for input in &inputs {
        if let Ok(schema) = tally.run(input, || serde_json::from_slice::<Schema>(input)) {
            if schema.check().is_ok() {
                checked += 1;
                // A schema that passes its check opens documents and validates writes.
                let mut doc = CardDoc::new(schema.clone(), 1).unwrap();
                for kind in schema.cards.keys() {
                    let _ = doc.create_card(&Stamp::new(1, "x"), card(checked), kind, []);
                }
                read_all(&doc);
            } else {
                assert!(CardDoc::new(schema, 1).is_err());
            }
        }
    }
    tally.report("Schema from JSON");
    tally.assert_mostly_err("Schema from JSON", 60);
    assert!(
        checked > 0,
        "no mutated schema stayed valid: the inputs are too destructive"
    );
}

#[test]
fn op_json_rejects_malformed_input() {
    // Ops are persisted in the outbox (docs/design.md §4) and read back from storage.
    let corpus = corpus();
    let ops = [
        Op::InsertText {
            card: card(1),
            field: "body".into(),
            index: 3,
            text: "hé😀".into(),
            attributes: [("bold".to_owned(), Value::Bool(true))].into(),
        },
        Op::MoveInSequence {
            sequence: SEQ,
            card: card(2),
            index: 1,
        },
        Op::SetField {
            card: card(1),
            field: "estimate".into(),
            value: Value::Number(2.5),
        },
        Op::FormatText {
            card: card(1),
            field: "body".into(),
            index: 1,
            len: 20,
            attributes: [("color".to_owned(), Value::from("red"))].into(),
        },
    ];
    let mut rng = Rng::new(0x5eed_000b);
    let mut doc = load(&corpus.schema, &corpus.base_v1, Encoding::V1).unwrap();
    let mut tally = Tally::default();
    let (mut applied, mut refused) = (0, 0);
    for op in &ops {
        let json = serde_json::to_string(op).unwrap();
        for input in json_inputs(&mut rng, &json, 250) {
            if let Ok(op) = tally.run(&input, || serde_json::from_slice::<Op>(&input)) {
                // Validation, not a panic, stops whatever the mutation produced.
                match doc.apply(&Stamp::new(2, "x"), &[op]) {
                    Ok(()) => applied += 1,
                    Err(e) => {
                        assert!(!e.code().is_empty());
                        refused += 1;
                    }
                }
            }
        }
    }
    read_all(&doc);
    tally.report("Op from JSON");
    tally.assert_mostly_err("Op from JSON", 50);
    assert!(
        applied > 0 && refused > 0,
        "applied {applied}, refused {refused}"
    );
}
