//! move10k: random moves in a sequence of 10k cards, one transaction per move.

use std::time::Duration;

use cardsync_benches::{self as w};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const N: usize = 10_000;
/// Moves per timed iteration; criterion's figure divided by this is the time per move.
const BATCH: usize = 1_000;

fn move10k(c: &mut Criterion) {
    let mut doc = w::doc_with_sequence(N);
    let seq = w::sequence_id();
    let mut rng = w::Rng::new(42);
    let moves: Vec<_> = (0..BATCH)
        .map(|_| (w::card_id(rng.below(N)), rng.below(N) as u32))
        .collect();
    let stamp = w::stamp(3 * N);

    let mut group = c.benchmark_group("move10k");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("cardsync/move_in_sequence", |b| {
        b.iter(|| {
            for &(card, index) in &moves {
                doc.move_in_sequence(&stamp, seq, card, index)
                    .expect("the card is in the sequence");
            }
        });
    });
    group.finish();
    assert_eq!(doc.sequence(seq).map(|s| s.len()), Some(N));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = move10k
}
criterion_main!(benches);
