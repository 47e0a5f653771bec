//! load10k: opening the 10k-card snapshot in a fresh document, the time to the first card
//! read, and a full `export()`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use cardsync_benches::{self as w, raw};
use cardsync_core::CardDoc;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Transact, Update};

const N: usize = 10_000;
/// Client id of the replica that opens the snapshot.
const READER: u64 = 2;

/// The first `card()` read on a freshly loaded document, timed alone over a few loads
/// (criterion cannot time a once-per-load event without also timing the load).
#[expect(clippy::print_stdout, reason = "a bench reports its figures on stdout")]
fn report_first_read(snapshot: &[u8]) {
    let mut rng = w::Rng::new(7);
    let mut times: Vec<Duration> = (0..10)
        .map(|_| {
            let doc = CardDoc::load_v1(w::schema(), READER, snapshot).expect("a valid snapshot");
            let id = w::card_id(rng.below(N));
            let start = Instant::now();
            black_box(doc.card(id)).expect("the card exists");
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "first card() read after load_v1: median {:?} (min {:?}, max {:?}, 10 loads)",
        times[5], times[0], times[9]
    );
}

fn load10k(c: &mut Criterion) {
    let doc = w::doc_with_cards(N);
    let (v1, v2) = (doc.snapshot_v1(), doc.snapshot_v2());
    drop(doc);
    report_first_read(&v1);
    let schema = w::schema();
    let first = w::card_id(N / 2);

    let mut group = c.benchmark_group("load10k");
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("cardsync/load_v1", |b| {
        b.iter_with_large_drop(|| CardDoc::load_v1(schema.clone(), READER, &v1).unwrap());
    });
    group.bench_function("cardsync/load_v2", |b| {
        b.iter_with_large_drop(|| CardDoc::load_v2(schema.clone(), READER, &v2).unwrap());
    });
    group.bench_function("cardsync/load_v1_then_first_read", |b| {
        b.iter_with_large_drop(|| {
            let doc = CardDoc::load_v1(schema.clone(), READER, &v1).unwrap();
            black_box(doc.card(first)).expect("the card exists");
            doc
        });
    });
    // Raw yrs loading the same bytes isolates cardsync's own load cost (observers, indexes);
    // loading the raw twin's snapshot (same cards written straight into yrs) shows what the
    // document's shape costs.
    let raw_v1 = raw::doc_with_cards(N)
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    for (name, bytes) in [
        ("raw_yrs/apply_cardsync_v1", &v1),
        ("raw_yrs/apply_raw_twin_v1", &raw_v1),
    ] {
        group.bench_function(name, |b| {
            b.iter_with_large_drop(|| {
                let doc = yrs::Doc::with_client_id(READER);
                doc.get_or_insert_map("cards");
                doc.transact_mut()
                    .apply_update(Update::decode_v1(bytes).unwrap())
                    .unwrap();
                doc
            });
        });
    }

    let loaded = CardDoc::load_v1(schema.clone(), READER, &v1).unwrap();
    group.bench_function("cardsync/export", |b| {
        b.iter_with_large_drop(|| loaded.export());
    });
    group.finish();

    let mut group = c.benchmark_group("read10k");
    let mut rng = w::Rng::new(11);
    group.bench_function("cardsync/card_random", |b| {
        b.iter(|| {
            loaded
                .card(w::card_id(rng.below(N)))
                .expect("the card exists")
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
    targets = load10k
}
criterion_main!(benches);
