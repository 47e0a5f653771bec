#![allow(clippy::print_stdout)] // the ack size is a figure to report, printed once
//! The sync layer's outbox: compaction of long offline runs (K6: 50k single-op batches in
//! ≤ 100 ms), a rollback with 1k pending batches, and the bytes an ack costs on the wire.

use std::hint::black_box;
use std::time::Duration;

use cardsync_benches::{card_id, create_card_ops, schema, stamp};
use cardsync_core::{Op, Origin};
use cardsync_sync::connection::{Instant, SplitMix64};
use cardsync_sync::outbox::{Batch, Outbox, OutboxLimits, Persisted};
use cardsync_sync::protocol::{BatchId, Message, RejectCode};
use cardsync_sync::session::{ClientSession, SessionAction, SessionConfig};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// A card, then `n` single-op batches incrementing its counter, as the session makes them.
fn batches(n: usize) -> Vec<Batch> {
    let mut doc = cardsync_core::CardDoc::with_schema(schema(), 3).expect("schema");
    let mut out = Vec::with_capacity(n + 1);
    for seq in 0..=n {
        let ops = if seq == 0 {
            create_card_ops(0)
        } else {
            vec![Op::Increment {
                card: card_id(0),
                field: "votes".into(),
                by: 1,
            }]
        };
        let applied = doc
            .apply_with_origin(&stamp(seq), &ops, Origin::Local)
            .expect("valid");
        out.push(Batch {
            id: BatchId {
                client: 3,
                seq: seq as u64,
            },
            stamp: stamp(seq),
            ops,
            update: applied.update.into(),
            clock: applied.clock,
            created_at: seq as u64,
            parts: Vec::new(),
            rejected: None,
        });
    }
    out
}

fn compaction(c: &mut Criterion) {
    let mut group = c.benchmark_group("outbox_compact");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for n in [1_000, 10_000, 50_000] {
        let made = batches(n);
        // One batch for the whole run: the cap is above the run's size.
        let limits = OutboxLimits {
            compact_max_bytes: usize::MAX,
            ..OutboxLimits::default()
        };
        group.bench_function(format!("{n}"), |b| {
            b.iter_batched(
                // Made by this outbox (restored batches are never coalesced: they may be sent).
                || {
                    let mut outbox = Outbox::new(limits, Vec::new());
                    for batch in &made {
                        outbox.push(batch.clone());
                    }
                    outbox
                },
                |mut outbox| black_box(outbox.compact().expect("valid")),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// A session with 1k pending batches whose first is rejected: every later one is replayed.
fn rollback(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_rollback");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("1k_pending", |b| {
        b.iter_batched(
            || {
                let config = SessionConfig {
                    compact_after: usize::MAX,
                    ..SessionConfig::default()
                };
                let rng = Box::new(SplitMix64::new(7));
                let mut session =
                    ClientSession::new(schema(), config, Persisted::default(), rng).expect("open");
                let now = Instant(0);
                for i in 0..1_000 {
                    session
                        .apply(now, &stamp(i), &create_card_ops(i))
                        .expect("valid");
                }
                while session.poll_action().is_some() {}
                let first = session.pending().next().expect("pending").id;
                let reject = Message::Reject {
                    batch: first,
                    code: RejectCode::Forbidden,
                    reason: String::new(),
                };
                (session, reject.encode())
            },
            |(mut session, frame)| {
                session
                    .handle_frame(Instant(1), &frame)
                    .expect("valid frame");
                black_box(
                    session
                        .poll_action()
                        .map(|a| matches!(a, SessionAction::Persist { .. })),
                )
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let ack = Message::Ack {
        batch: BatchId {
            client: (1 << 53) - 1,
            seq: 100_000,
        },
        clock: 1 << 24,
    };
    println!(
        "bytes per ack (largest client id, seq 100k, clock 2^24): {}",
        ack.encode().len()
    );
}

criterion_group!(benches, compaction, rollback);
criterion_main!(benches);
