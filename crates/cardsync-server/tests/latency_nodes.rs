//! E1 across nodes (issue 18): from a local op on a native client of node 1 to the change
//! event on a native client of node 2, two real server processes on one throwaway PostgreSQL
//! (`common/pg.rs`). A measurement, not a check: run it with
//! `cargo test -p cardsync-server --release --test latency_nodes -- --ignored --nocapture`.
//!
//! Why beside `latency.rs` and not in it: the path differs after the commit. On one node the
//! room broadcasts the batch once it is durable; across nodes node 1 commits it with
//! `pg_notify`, PostgreSQL delivers the notification at `COMMIT`, node 2's bus wakes the room,
//! which reads the entries after its head and broadcasts them (docs/design.md §12). This
//! measures that whole path. `LATENCY_OPS` (default 500) ops, 20 ms apart;
//! `LATENCY_OUT=FILE` writes the percentiles as benchmark rows (workload E1).

// The figures are this measurement's output.
#![allow(clippy::print_stdout)]

mod common;

use std::time::Duration;

use cardsync_sync::room::Role;
use common::measure::op_to_event;
use common::pg::PgCluster;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run explicitly"]
async fn latency_from_op_on_node_1_to_event_on_node_2() {
    let ops: u64 = std::env::var("LATENCY_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let cluster = PgCluster::start();
    let url = cluster.create_database("latency");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store = format!("store = {url:?}\n");
    let (n1, n2) = (
        TestServer::start(d1.path(), &store, 0),
        TestServer::start(d2.path(), &store, 0),
    );
    let (a, _) = client(&n1.url("board"), "board", Role::Editor, None).await;
    let (b, mut b_events) = client(&n2.url("board"), "board", Role::Viewer, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    let (card, mut samples) = op_to_event(&a, &b, &mut b_events, ops).await;
    // Every op arrived on node 2: the counter is the sum of them.
    eventually(&b, "b has every vote", move |s| {
        s.local()
            .card(card)
            .and_then(|c| c.fields.get("votes").cloned())
            .is_some_and(|v| format!("{v:?}").contains(&ops.to_string()))
    })
    .await;
    samples.sort();
    let at = |p: usize| samples[(p * samples.len()).div_ceil(100) - 1];
    let at_999 = samples[(999 * samples.len()).div_ceil(1000) - 1];
    println!(
        "E1 across nodes, A on node 1 -> B on node 2, over {} ops: p50 {:?}, p99 {:?}, \
         p99.9 {at_999:?}, max {:?}",
        samples.len(),
        at(50),
        at(99),
        samples[samples.len() - 1]
    );
    if let Ok(out) = std::env::var("LATENCY_OUT") {
        let sha = std::env::var("LATENCY_GIT_SHA")
            .map(|sha| format!(" at commit {sha}"))
            .unwrap_or_default();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let n = samples.len();
        let rows = [("p50", at(50)), ("p99", at(99))].map(|(p, value)| {
            serde_json::json!({
                "workload": "E1",
                "case": format!(
                    "A op on node 1 -> B event on node 2 (one PostgreSQL), {p} of {n} edits"
                ),
                "unit": "ms",
                "cells": { "cardsync-native": { "median": ms(value), "min": ms(value) } },
            })
        });
        let report = serde_json::json!({
            "machine": {
                "cpu": "", "cores": 0, "git_sha": "", "mode": "", "versions": {},
                "seconds": 0.0, "date": "",
            },
            "peers": ["cardsync-native"],
            "rows": rows,
            "notes": [format!(
                "E1 across nodes (`cargo test -p cardsync-server --release --test \
                 latency_nodes -- --ignored`): measured{sha}; native clients (cardsync-client), A an editor \
                 on node 1 and B a viewer on node 2, two release cardsync-server processes on \
                 one throwaway PostgreSQL 15 (default settings, synchronous_commit on). Node 1 \
                 acks after COMMIT; node 2 hears of the new head by NOTIFY, reads the entry \
                 and relays it. {n} edits, one at a time, 20 ms apart; each cell is that \
                 percentile."
            )],
        });
        std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
}
