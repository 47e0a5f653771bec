//! Server load: many native clients submitting batches at once, through the real server
//! binary. A measurement, not a check: run it with
//! `cargo test -p cardsync-server --release --test load -- --ignored --nocapture`
//! (`LOAD_CLIENTS`, default 100, clients in rooms of 10; `LOAD_BATCHES`, default 100 per
//! client). The per-peer batch rate limit is lifted so the server, not the limit, is measured.
//! Reports sustained acked batches per second and the ack latency (apply to `Acked`), and the
//! server's share of it (frame arrival to durable, from `/metrics.json`). With `LOAD_OUT=FILE` it
//! also writes them as benchmark rows (workload E2) for `cargo xtask bench`'s table. With
//! `LOAD_VALIDATORS=1` every room runs one example validator of each kind (`VALIDATORS`), for
//! their cost against the same run without them (docs/design.md §10). With `LOAD_AUDIT=0`
//! the audit trail is off (`[audit] enabled = false`), for its cost against the default run.

mod common;

use std::time::{Duration, Instant};

use cardsync_sync::room::Role;
use common::measure::{Acks, env_or};
use common::*;

/// One example validator of each kind, on every document. Each judges every batch (reads the
/// touched card); none refuses the workload's votes.
const VALIDATORS: &str = r#"
[[validators]]
docs = "*"
wip_limit = { column = "doing", field = "status", limit = 3 }
distance = { kind = "task", field = "title", planned = "body", max_metres = 100.0 }
milestone = { kind = "task", field = "votes", threshold = 1e12, flag = "title" }
assignee_moves_to_done = { column = "Done", field = "title" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run explicitly"]
async fn acked_batches_per_second_and_ack_latency_under_many_clients() {
    let (clients, batches) = (env_or("LOAD_CLIENTS", 100), env_or("LOAD_BATCHES", 100));
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        "[room.batch_rate]\nburst = 1000000\nrefill_ms = 0\n[limits]\nmax_connections = 100000\n"
            .to_owned();
    if env_or("LOAD_VALIDATORS", 0) == 1 {
        config.push_str(VALIDATORS);
    }
    if env_or("LOAD_AUDIT", 1) == 0 {
        config.push_str("[audit]\nenabled = false\n");
    }
    let server = TestServer::start(dir.path(), &config, 0);
    let acks = Acks::default();
    let mut handles = Vec::new();
    for i in 0..clients {
        let doc = format!("load-{}", i / 10);
        let (client, events) = client(&server.url(&doc), &doc, Role::Editor, None).await;
        settled(&client, "online").await;
        acks.watch(events);
        handles.push(client);
    }
    let start = Instant::now();
    let done = acks.run(handles, batches).await;
    let elapsed = start.elapsed();
    let total = clients * (batches + 1);
    let mut samples = acks.latencies.lock().unwrap().clone();
    assert!(!samples.is_empty(), "no ack matched a recorded send");
    samples.sort();
    let at = |p: usize| samples[((p * samples.len()).div_ceil(100)).max(1) - 1];
    eprintln!(
        "{clients} clients x {} batches: {total} acked in {elapsed:.2?} = {:.0} batches/s; \
         ack latency over {} batches: p50 {:?}, p99 {:?}, max {:?}",
        batches + 1,
        total as f64 / elapsed.as_secs_f64(),
        samples.len(),
        at(50),
        at(99),
        samples[samples.len() - 1]
    );
    let metrics = server.metrics().await;
    let server_ms = &metrics["ack_latency_ms"];
    eprintln!("server ack latency (arrival -> durable), ms: {server_ms}");
    if let Ok(out) = std::env::var("LOAD_OUT") {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let setup = format!(
            "{clients} clients in rooms of 10, {} batches each",
            batches + 1
        );
        let rows = [
            (
                "sustained acked batches/s",
                "batches/s",
                total as f64 / elapsed.as_secs_f64(),
            ),
            ("ack latency p50, apply -> Acked", "ms", ms(at(50))),
            ("ack latency p99, apply -> Acked", "ms", ms(at(99))),
            (
                "server share p50, arrival -> durable",
                "ms",
                server_ms["p50"].as_f64().unwrap_or(f64::NAN),
            ),
            (
                "server share p99, arrival -> durable",
                "ms",
                server_ms["p99"].as_f64().unwrap_or(f64::NAN),
            ),
        ]
        .map(|(what, unit, value)| {
            serde_json::json!({
                "workload": "E2",
                "case": format!("{setup}: {what}"),
                "unit": unit,
                "cells": { "cardsync": { "median": value, "min": value } },
            })
        });
        let report = serde_json::json!({
            "machine": {
                "cpu": "", "cores": 0, "git_sha": "", "mode": "", "versions": {},
                "seconds": elapsed.as_secs_f64(), "date": "",
            },
            "peers": ["cardsync"],
            "rows": rows,
            "notes": [format!(
                "E2 ({setup}): native clients (cardsync-client, in-memory stores) against the \
                 release cardsync-server binary with its SQLite store (synchronous=FULL) and \
                 the batch rate limit lifted; every client submits all its batches at once \
                 (open loop), so the latencies are queueing at saturation."
            )],
        });
        std::fs::write(&out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
    for client in done {
        client.close().await.unwrap();
    }
}
