//! Loopback latency, from a local op on client A to the change event on client B, through
//! the real server binary. A measurement, not a check: run it with
//! `cargo test -p cardsync-server --release --test latency -- --ignored --nocapture`.
//! `LATENCY_CONFIG='[storage]\nsynchronous = "normal"'` (TOML, `\n` for newlines) adds to
//! the server's configuration, e.g. to compare SQLite's `synchronous` settings.

mod common;

use cardsync_sync::room::Role;
use common::measure::op_to_event;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run explicitly"]
async fn loopback_latency_from_op_on_a_to_event_on_b() {
    let dir = tempfile::tempdir().unwrap();
    let extra = std::env::var("LATENCY_CONFIG")
        .unwrap_or_default()
        .replace("\\n", "\n");
    let server = TestServer::start(dir.path(), &extra, 0);
    let url = server.url("board");
    let (a, _) = client(&url, "board", Role::Editor, None).await;
    let (b, mut b_events) = client(&url, "board", Role::Viewer, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    let (_, mut samples) = op_to_event(&a, &b, &mut b_events, 1000).await;
    samples.sort();
    let at = |p: usize| samples[(p * samples.len()).div_ceil(100) - 1];
    eprintln!(
        "loopback A op -> B event over {} ops: p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        at(50),
        at(99),
        samples[samples.len() - 1]
    );
    // The server's share: from a frame's arrival to its persist's confirmation.
    let json = server.metrics().await;
    eprintln!(
        "server ack latency (arrival -> durable), ms: {}",
        json["ack_latency_ms"]
    );
}
