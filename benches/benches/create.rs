//! create10k: 10k cards of eight fields each, one transaction per card, against the same
//! cards written with raw yrs (the cardsync/yrs ratio). Prints the snapshot sizes once.

use std::time::Duration;

use cardsync_benches::{self as w, raw};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use yrs::{ReadTxn, StateVector, Transact};

const N: usize = 10_000;

#[expect(clippy::print_stdout, reason = "a bench reports its figures on stdout")]
fn report_sizes() {
    let doc = w::doc_with_cards(N);
    let (v1, v2) = (doc.snapshot_v1().len(), doc.snapshot_v2().len());
    let raw = raw::doc_with_cards(N);
    let txn = raw.transact();
    let raw_v1 = txn.encode_state_as_update_v1(&StateVector::default()).len();
    let raw_v2 = txn.encode_state_as_update_v2(&StateVector::default()).len();
    let per = |bytes: usize| bytes as f64 / N as f64;
    println!("snapshot of {N} cards:");
    println!("  cardsync v1 {v1} B ({:.1} B/card)", per(v1));
    println!("  cardsync v2 {v2} B ({:.1} B/card)", per(v2));
    println!("  raw yrs  v1 {raw_v1} B ({:.1} B/card)", per(raw_v1));
    println!("  raw yrs  v2 {raw_v2} B ({:.1} B/card)", per(raw_v2));
}

fn create10k(c: &mut Criterion) {
    report_sizes();
    let mut group = c.benchmark_group("create10k");
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(N as u64));

    // One `apply` of CreateCard + Increment + RaiseMax + 2 × AddToSet per card: one user
    // action, one transaction.
    group.bench_function("cardsync/apply_per_card", |b| {
        b.iter_batched(
            w::empty_doc,
            |mut doc| {
                w::create_cards(&mut doc, N);
                doc
            },
            BatchSize::PerIteration,
        );
    });

    // The same card through the convenience methods: five transactions per card.
    group.bench_function("cardsync/convenience_5_txns_per_card", |b| {
        b.iter_batched(
            w::empty_doc,
            |mut doc| {
                for i in 0..N {
                    for op in w::create_card_ops(i) {
                        doc.apply(&w::stamp(i), &[op]).expect("a valid op");
                    }
                }
                doc
            },
            BatchSize::PerIteration,
        );
    });

    group.bench_function("raw_yrs/txn_per_card", |b| {
        b.iter_batched(
            || {
                let doc = raw::empty_doc();
                let cards = doc.get_or_insert_map("cards");
                (doc, cards)
            },
            |(doc, cards)| {
                for i in 0..N {
                    raw::create_card(&doc, &cards, i);
                }
                doc
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = create10k
}
criterion_main!(benches);
