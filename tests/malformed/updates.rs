//! Updates: apply, load and merge, in both encodings, and the known decode bomb.

use std::time::{Duration, Instant};

use cardsync_core::{
    CardDoc, DecodeError, OpenError, decode_update_v1, decode_update_v2, merge_updates_v1,
    merge_updates_v2,
};

use super::corpus::{Encoding, apply, corpus, counts, load, merge, still_usable, update_inputs};
use super::inputs::{Rng, Tally, hex};

/// Applies every malformed input to a document loaded from the base snapshot. A decode error
/// must leave the document exactly as it was; anything that integrates (valid by accident) must
/// still read without panicking. Afterwards the real next update applies as usual.
fn apply_malformed(encoding: Encoding, seed: u64) {
    let corpus = corpus();
    let (base, next) = match encoding {
        Encoding::V1 => (&corpus.base_v1, &corpus.next_v1),
        Encoding::V2 => (&corpus.base_v2, &corpus.next_v2),
    };
    let mut rng = Rng::new(seed);
    let mut inputs = update_inputs(&mut rng, base, counts(1500));
    inputs.extend(update_inputs(&mut rng, next, counts(1000)));

    let fresh = || load(&corpus.schema, base, encoding).unwrap();
    let mut doc = fresh();
    let base_sv = doc.state_vector();
    let base_export = doc.export();
    let mut tallies: std::collections::BTreeMap<&str, Tally> = Default::default();
    let mut reloads = 0;
    for (i, (kind, input)) in inputs.iter().enumerate() {
        let tally = tallies.entry(kind).or_default();
        let result = tally.run(input, || apply(&mut doc, input, encoding));
        // Decoding alone (the core's inspection entry point) agrees with apply.
        let decoded = match encoding {
            Encoding::V1 => decode_update_v1(input),
            Encoding::V2 => decode_update_v2(input),
        };
        assert_eq!(
            decoded.is_ok(),
            matches!(result, Ok(()) | Err(DecodeError::Integrate(_))),
            "decode and apply disagree on {}",
            hex(input)
        );
        match result {
            Err(e @ (DecodeError::Update(_) | DecodeError::Screen(_))) => {
                assert!(!e.to_string().is_empty());
                assert_eq!(
                    doc.state_vector(),
                    base_sv,
                    "a rejected update changed the document: {}",
                    hex(input)
                );
                if i % 512 == 0 {
                    assert_eq!(doc.export(), base_export);
                }
            }
            Err(DecodeError::StateVector(e)) => panic!("apply decoded a state vector? {e}"),
            // Contained, but a panic all the same (and an abort in wasm32): the screen missed it.
            Err(DecodeError::Panicked) => panic!("yrs panicked on {}", hex(input)),
            Ok(()) | Err(DecodeError::Integrate(_)) => {
                still_usable(&doc, input);
                doc = fresh();
                reloads += 1;
            }
        }
    }
    let what = format!("apply_update_{encoding:?}");
    for (kind, tally) in &tallies {
        tally.report(&format!("{what} {kind}"));
    }
    tallies["truncated"].assert_mostly_err(&format!("{what} truncations"), 99);
    tallies["random"].assert_mostly_err(&format!("{what} random bytes"), 90);
    tallies["random, short varints"].assert_mostly_err(&format!("{what} short varints"), 90);
    for kind in ["1-bit flip", "n-bit flip", "structural"] {
        tallies[kind].assert_mostly_err(&format!("{what} {kind}"), 10);
    }
    assert!(reloads < inputs.len() / 2, "{reloads} inputs integrated");

    // Still usable: the real next update applies and reads as expected.
    apply(&mut doc, next, encoding).unwrap();
    assert_eq!(doc.export(), corpus.expected);
}

#[test]
fn apply_update_v1_rejects_malformed_updates() {
    apply_malformed(Encoding::V1, 0x5eed_0001);
}

#[test]
fn apply_update_v2_rejects_malformed_updates() {
    apply_malformed(Encoding::V2, 0x5eed_0002);
}

/// Opens documents from malformed snapshots: an error is an `OpenError::Decode` (or an
/// `UnsafeSchemaChange`, when the mutation hit the recorded schema); an accidental success
/// reads without panicking and accepts further updates.
fn load_malformed(encoding: Encoding, seed: u64) {
    let corpus = corpus();
    let base = match encoding {
        Encoding::V1 => &corpus.base_v1,
        Encoding::V2 => &corpus.base_v2,
    };
    let mut rng = Rng::new(seed);
    let inputs = update_inputs(&mut rng, base, counts(1000));
    let mut tally = Tally::default();
    for (_, input) in &inputs {
        match tally.run(input, || load(&corpus.schema, input, encoding)) {
            Ok(doc) => still_usable(&doc, input),
            Err(OpenError::Decode(DecodeError::Panicked)) => {
                panic!("yrs panicked on {}", hex(input))
            }
            Err(OpenError::Decode(_)) => {}
            // A mutated schema record reads as another schema under the corpus's version.
            Err(OpenError::UnsafeSchemaChange { .. }) => {}
            Err(e) => panic!("load failed with a non-decode error {e} on {}", hex(input)),
        }
    }
    tally.report(&format!("load_{encoding:?}"));
    tally.assert_mostly_err(&format!("load_{encoding:?}"), 50);
}

#[test]
fn load_v1_rejects_malformed_snapshots() {
    load_malformed(Encoding::V1, 0x5eed_0003);
}

#[test]
fn load_v2_rejects_malformed_snapshots() {
    load_malformed(Encoding::V2, 0x5eed_0004);
}

/// Merges a malformed update with a real one (in both positions) and alone. A successful
/// merge must produce an update that itself loads.
fn merge_malformed(encoding: Encoding, seed: u64) {
    let corpus = corpus();
    let (base, next) = match encoding {
        Encoding::V1 => (&corpus.base_v1, &corpus.next_v1),
        Encoding::V2 => (&corpus.base_v2, &corpus.next_v2),
    };
    let mut rng = Rng::new(seed);
    let inputs = update_inputs(&mut rng, next, counts(700));
    let mut tally = Tally::default();
    for (i, (_, input)) in inputs.iter().enumerate() {
        let lists: [&[&[u8]]; 3] = [&[input], &[base, input], &[input, base]];
        let list = lists[i % 3];
        let result = tally.run(input, || merge(list, encoding));
        assert!(
            !matches!(result, Err(DecodeError::Panicked)),
            "yrs panicked on {}",
            hex(input)
        );
        if let Ok(merged) = result {
            let doc = load(&corpus.schema, &merged, encoding)
                .unwrap_or_else(|e| panic!("merged output of {} does not load: {e}", hex(input)));
            still_usable(&doc, input);
        }
    }
    tally.report(&format!("merge_updates_{encoding:?}"));
    tally.assert_mostly_err(&format!("merge_updates_{encoding:?}"), 50);

    // Real updates still merge into the expected document.
    let merged = merge(&[base, next], encoding).unwrap();
    assert_eq!(
        load(&corpus.schema, &merged, encoding).unwrap().export(),
        corpus.expected
    );
}

#[test]
fn merge_updates_v1_rejects_malformed_updates() {
    merge_malformed(Encoding::V1, 0x5eed_0005);
}

#[test]
fn merge_updates_v2_rejects_malformed_updates() {
    merge_malformed(Encoding::V2, 0x5eed_0006);
}

/// docs/design.md §8: these 5 bytes make yrs 0.28.1 allocate ~0.5 GB before failing. Whatever yrs
/// does, every entry point must return an error, not panic or abort.
#[test]
fn the_known_decode_bomb_is_an_error() {
    const BOMB: [u8; 5] = [0xab, 0x8e, 0xc5, 0x73, 0x76];
    let corpus = corpus();
    let mut doc = load(&corpus.schema, &corpus.base_v1, Encoding::V1).unwrap();
    let start = Instant::now();
    assert!(matches!(
        doc.apply_update_v1(&BOMB),
        Err(DecodeError::Update(_) | DecodeError::Screen(_))
    ));
    let took = start.elapsed();
    assert!(matches!(
        CardDoc::load_v1(corpus.schema.clone(), 1, &BOMB),
        Err(OpenError::Decode(
            DecodeError::Update(_) | DecodeError::Screen(_)
        ))
    ));
    assert!(merge_updates_v1(&[&corpus.base_v1, &BOMB]).is_err());
    assert!(doc.apply_update_v2(&BOMB).is_err());
    assert!(merge_updates_v2(&[&BOMB]).is_err());
    if std::env::var_os("CARDSYNC_MALFORMED_REPORT").is_some() {
        eprintln!("decode bomb: apply_update_v1 took {took:?}");
    }
    // Unguarded yrs spends ~0.4-0.5 s here (docs/design.md §8); the screen answers in microseconds.
    assert!(
        took < Duration::from_millis(100),
        "the decode bomb took {took:?}: is the screen bypassed?"
    );
    doc.apply_update_v1(&corpus.next_v1).unwrap();
    assert_eq!(doc.export(), corpus.expected);
}
