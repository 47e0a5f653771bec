//! unlink: removing relationships from 10k cards with 5 relationships each, one transaction
//! per unlink.

use std::time::{Duration, Instant};

use cardsync_benches::{self as w};
use criterion::{Criterion, criterion_group, criterion_main};

const N: usize = 10_000;
const PER_CARD: usize = 5;

fn unlink(c: &mut Criterion) {
    let mut doc = w::doc_with_cards(N);
    w::link_cards(&mut doc, N, PER_CARD);
    let mut edges = w::edges(N, PER_CARD);
    w::shuffle(&mut edges, &mut w::Rng::new(5));
    let stamp = w::stamp(3 * N);
    let mut next = 0;

    let mut group = c.benchmark_group("unlink");
    group.bench_function("cardsync/unlink_10k_cards_5_each", |b| {
        // Only linked edges can be unlinked: once all are gone, link them again, untimed.
        b.iter_custom(|iters| {
            let mut remaining = iters as usize;
            let mut timed = Duration::ZERO;
            while remaining > 0 {
                if next == edges.len() {
                    for &(from, to) in &edges {
                        doc.link(&stamp, from, w::LINK_KIND, to, Default::default())
                            .expect("a valid link");
                    }
                    next = 0;
                }
                let run = remaining.min(edges.len() - next);
                let start = Instant::now();
                for &(from, to) in &edges[next..next + run] {
                    doc.unlink(&stamp, from, w::LINK_KIND, to)
                        .expect("a linked edge");
                }
                timed += start.elapsed();
                next += run;
                remaining -= run;
            }
            timed
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = unlink
}
criterion_main!(benches);
