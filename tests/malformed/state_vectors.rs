//! State vectors: `diff_v1` / `diff_v2`.

use cardsync_core::{CardDoc, DecodeError, Stamp, Value};

use super::corpus::{Encoding, card, corpus, load, read_all, schema};
use super::inputs::{
    Rng, Tally, bit_flips, hex, random, random_short_varints, structural, truncations,
};

#[test]
fn diff_rejects_malformed_state_vectors() {
    let corpus = corpus();
    let mut doc = load(&corpus.schema, &corpus.base_v1, Encoding::V1).unwrap();
    doc.apply_update_v1(&corpus.next_v1).unwrap();
    // A state vector of several clients with multi-byte varints.
    let mut many = CardDoc::new(schema(), cardsync_core::MAX_REPLICA_CLIENT_ID).unwrap();
    for client in [3u64, 300, 70_000, 1 << 40] {
        let mut peer =
            CardDoc::load_v1(corpus.schema.clone(), client, &many.snapshot_v1()).unwrap();
        peer.create_card(
            &Stamp::new(1, "p"),
            card(u128::from(client) << 64),
            "task",
            [("title", Value::from("x"))],
        )
        .unwrap();
        many.apply_update_v1(&peer.snapshot_v1()).unwrap();
    }
    let reals = [corpus.state_vector.clone(), many.state_vector()];

    let mut rng = Rng::new(0x5eed_0007);
    let mut tallies: [Tally; 3] = Default::default();
    let mut inputs = Vec::new();
    for real in &reals {
        for input in truncations(real) {
            inputs.push((0, input));
        }
        for input in bit_flips(&mut rng, real, 1000, 4) {
            inputs.push((1, input));
        }
        for input in structural(&mut rng, real, 1000) {
            inputs.push((1, input));
        }
    }
    // Fully random state vectors declare a huge count in ~6% of cases, which unscreened yrs
    // pre-allocates for (docs/design.md §8).
    inputs.extend(random(&mut rng, 3000, 40).into_iter().map(|b| (2, b)));
    inputs.extend(
        random_short_varints(&mut rng, 3000, 40)
            .into_iter()
            .map(|b| (2, b)),
    );
    for (i, (kind, input)) in inputs.iter().enumerate() {
        let tally = &mut tallies[*kind];
        let result = if i % 2 == 0 {
            tally.run(input, || doc.diff_v1(input))
        } else {
            tally.run(input, || doc.diff_v2(input))
        };
        match result {
            Ok(diff) => {
                // Whatever the peer claims to have, the diff is a valid update.
                let mut peer = CardDoc::new(schema(), 44).unwrap();
                let applied = if i % 2 == 0 {
                    peer.apply_update_v1(&diff)
                } else {
                    peer.apply_update_v2(&diff)
                };
                applied.unwrap_or_else(|e| panic!("diff for {} is invalid: {e}", hex(input)));
                read_all(&peer);
            }
            Err(DecodeError::StateVector(_) | DecodeError::Screen(_)) => {}
            Err(e) => panic!("diff of {} failed with {e}", hex(input)),
        }
    }
    let [truncated, mutated, random_sv] = &tallies;
    truncated.report("diff: truncated state vectors");
    mutated.report("diff: mutated state vectors");
    random_sv.report("diff: random state vectors");
    // A proper prefix of a state vector always lacks an entry its count promises.
    truncated.assert_mostly_err("diff: truncated state vectors", 100);
    mutated.assert_mostly_err("diff: mutated state vectors", 10);
    random_sv.assert_mostly_err("diff: random state vectors", 50);
    assert!(doc.diff_v1(&corpus.state_vector).unwrap().len() < corpus.base_v1.len());
    assert_eq!(doc.export(), corpus.expected);
}
