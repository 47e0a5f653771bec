//! query: the cost a live query adds to one transaction, at 1k and at 100k cards.
//!
//! Issue 21 asks that a live query's per-transaction cost not grow with the document. Each
//! iteration writes one card's `priority` (untimed), takes the transaction's change batch and
//! times only `LiveQuery::update` on it, for a query holding every card ordered by priority
//! (the largest result, so the ordered set is as deep as it gets) and for a selective one.
//! The two sizes should report about the same time; a scan would be 100 times apart.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cardsync_benches as w;
use cardsync_core::{Op, OrderBy, Query, Value};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn queries() -> [(&'static str, Query); 2] {
    let all = Query {
        kind: Some(w::KIND.into()),
        order_by: Some(OrderBy {
            field: "priority".into(),
            descending: false,
        }),
        ..Query::default()
    };
    let selective = Query {
        kind: Some(w::KIND.into()),
        filter: [("priority".to_owned(), Value::from(4.0))].into(),
        ..Query::default()
    };
    [("all_by_priority", all), ("priority_4", selective)]
}

fn live_query_update(c: &mut Criterion) {
    let mut group = c.benchmark_group("live_query_update");
    for n in [1_000, 100_000] {
        let mut doc = w::doc_with_cards(n);
        doc.buffer_changes(true);
        for (name, query) in queries() {
            let mut live = doc
                .live_query(query)
                .expect("the bench schema has the fields");
            let mut rng = w::Rng::new(5);
            let mut at = n;
            group.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        at += 1;
                        let card = w::card_id(rng.below(n));
                        let priority = Value::from(rng.below(5) as f64);
                        let op = Op::SetField {
                            card,
                            field: "priority".into(),
                            value: priority,
                        };
                        doc.apply(&w::stamp(at), &[op]).expect("a valid write");
                        let batch = doc.poll_changes().expect("the write's batch");
                        let start = Instant::now();
                        black_box(live.update(&doc, &batch));
                        spent += start.elapsed();
                    }
                    spent
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, live_query_update);
criterion_main!(benches);
