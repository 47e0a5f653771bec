//! E2 across stores and nodes (issue 18): the same open-loop load as `load.rs` against one
//! node on SQLite, one node on PostgreSQL and two nodes on one PostgreSQL, with each setup's
//! CPU cost per acked batch. A measurement, not a check: run it with
//! `cargo test -p cardsync-server --release --test load_nodes -- --ignored --nocapture`.
//!
//! Why a file of its own: `load.rs` measures one SQLite node at 100 and 1,000 clients; this
//! one compares setups at one load, and needs what that one does not: a throwaway PostgreSQL
//! (`common/pg.rs`, as the multi-node tests start it), clients split across nodes, and CPU
//! read from `/proc`.
//!
//! - Clients `i` connect to node `i % nodes` and join room `load-{i / 10}`, so with two nodes
//!   every room has five clients on each node and the nodes' compare-and-appends on one
//!   document really race (docs/design.md §12).
//! - Acks are counted here, at the load generator, from the clients' `Acked` events (not from
//!   the server's `/metrics`).
//! - **Server CPU per acked batch**: the server processes' own CPU time (`utime + stime` in
//!   `/proc/<pid>/stat`) from the start of the load to the last ack, divided by the batches
//!   acked, so the load generator sharing the cores does not blur it. With PostgreSQL the same
//!   for the database's processes (every pid `pg_stat_activity` lists: backends, WAL writer,
//!   checkpointer…), and its commits per acked batch (`pg_stat_database.xact_commit`).
//!
//! Knobs: `LOAD_CLIENTS` (default 100), `LOAD_BATCHES` (default 100 per client),
//! `LOAD_SETUPS` (default `sqlite,postgres,postgres-2`), `LOAD_OUT=FILE` (benchmark rows and
//! notes for `cargo xtask bench`). `CARDSYNC_TEST_SERVER_BIN` runs another build of the server
//! (e.g. an older commit's, for a before/after figure), and `LOAD_LABEL` names it in the rows.

// The figures are this measurement's output.
#![allow(clippy::print_stdout)]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cardsync_sync::room::Role;
use common::measure::{Acks, env_or};
use common::pg::PgCluster;
use common::*;

/// The per-peer batch rate limit lifted, so the server, not the limit, is measured.
const UNLIMITED: &str =
    "[room.batch_rate]\nburst = 1000000\nrefill_ms = 0\n[limits]\nmax_connections = 100000\n";

/// One measured setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Setup {
    Sqlite,
    Postgres { nodes: usize },
}

impl Setup {
    fn parse(name: &str) -> Setup {
        match name.trim() {
            "sqlite" => Setup::Sqlite,
            "postgres" => Setup::Postgres { nodes: 1 },
            "postgres-2" => Setup::Postgres { nodes: 2 },
            other => panic!("unknown LOAD_SETUPS entry {other:?} (sqlite, postgres, postgres-2)"),
        }
    }

    fn label(self) -> String {
        match self {
            Setup::Sqlite => "1 node, SQLite".to_owned(),
            Setup::Postgres { nodes: 1 } => "1 node, PostgreSQL".to_owned(),
            Setup::Postgres { nodes } => format!("{nodes} nodes, one PostgreSQL"),
        }
    }
}

/// What one setup measured.
#[derive(Debug)]
struct Figures {
    setup: Setup,
    acked: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    /// Server processes' CPU (all nodes), µs per acked batch.
    server_cpu_us: f64,
    /// PostgreSQL's side, when the store is PostgreSQL.
    postgres: Option<PgFigures>,
}

/// What PostgreSQL did for a run.
#[derive(Clone, Copy, Debug)]
struct PgFigures {
    /// Its processes' CPU, µs per acked batch.
    cpu_us: f64,
    /// Transactions committed in the run (the writers' group commits, lease renewals, reads).
    commits: i64,
    /// Deadlocks it detected (and broke by aborting a transaction).
    deadlocks: i64,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.acked as f64 / self.elapsed.as_secs_f64()
    }
}

/// Clock ticks per second of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// A process's user + system CPU time in clock ticks, or `None` once it has gone.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command, which is in parentheses and may hold spaces: state is field
    // 3, utime 14 and stime 15 (proc(5)).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// What `pg_stat_database` counts for the database.
#[derive(Clone, Copy, Debug)]
struct DbCounts {
    commits: i64,
    deadlocks: i64,
}

/// PostgreSQL's processes and its counts for `db`, read on a thread of its own (the blocking
/// client may not run on the runtime's threads).
fn postgres_sample(cluster: &PgCluster, db: &str) -> (Vec<u32>, DbCounts) {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut client = cluster.client(db);
            let pids = client
                .query("SELECT pid FROM pg_stat_activity", &[])
                .unwrap()
                .iter()
                .map(|row| row.get::<_, i32>(0) as u32)
                .collect();
            let row = client
                .query_one(
                    "SELECT xact_commit, deadlocks FROM pg_stat_database \
                     WHERE datname = current_database()",
                    &[],
                )
                .unwrap();
            let counts = DbCounts {
                commits: row.get(0),
                deadlocks: row.get(1),
            };
            (pids, counts)
        })
        .join()
        .unwrap()
    })
}

/// Runs the load against `setup`; returns what it measured.
async fn measure(setup: Setup, clients: usize, batches: usize) -> Figures {
    let cluster = matches!(setup, Setup::Postgres { .. }).then(PgCluster::start);
    let (store, nodes) = match (setup, &cluster) {
        (Setup::Postgres { nodes }, Some(cluster)) => (
            format!("store = {:?}\n", cluster.create_database("load")),
            nodes,
        ),
        _ => (String::new(), 1),
    };
    let dirs: Vec<tempfile::TempDir> = (0..nodes).map(|_| tempfile::tempdir().unwrap()).collect();
    let servers: Vec<TestServer> = dirs
        .iter()
        .map(|d| TestServer::start(d.path(), &format!("{store}{UNLIMITED}"), 0))
        .collect();
    let acks = Acks::default();
    let mut handles = Vec::new();
    for i in 0..clients {
        let doc = format!("load-{}", i / 10);
        let server = &servers[i % nodes];
        let (client, events) = client(&server.url(&doc), &doc, Role::Editor, None).await;
        settled(&client, "online").await;
        acks.watch(events);
        handles.push(client);
    }
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    let server_before: u64 = pids.iter().filter_map(|p| cpu_ticks(*p)).sum();
    let pg_before = cluster.as_ref().map(|c| {
        let (pids, commits) = postgres_sample(c, "load");
        let ticks: HashMap<u32, u64> = pids
            .iter()
            .filter_map(|p| Some((*p, cpu_ticks(*p)?)))
            .collect();
        (ticks, commits)
    });
    acks.acked.store(0, Ordering::Relaxed);
    let start = Instant::now();
    let done = acks.run(handles, batches).await;
    let elapsed = start.elapsed();
    let server_after: u64 = pids.iter().filter_map(|p| cpu_ticks(*p)).sum();
    // Every client has seen its last ack; the event tasks may still be counting the last
    // ones, so give them a moment (bounded) to drain.
    let submitted = clients * (batches + 1);
    for _ in 0..100 {
        if acks.acked.load(Ordering::Relaxed) >= submitted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let acked = acks.acked.load(Ordering::Relaxed);
    assert!(acked > 0, "no ack counted");
    if acked != submitted {
        println!("{acked} acks counted for {submitted} batches submitted");
    }
    let tick_us = 1e6 / clock_ticks();
    let postgres = match (&cluster, pg_before) {
        (Some(cluster), Some((before, counts_before))) => {
            let (pids, counts) = postgres_sample(cluster, "load");
            // Processes that were there before and after (the sampling connection itself
            // comes and goes, and costs nothing worth counting).
            let ticks: u64 = pids
                .iter()
                .filter_map(|p| Some(cpu_ticks(*p)?.saturating_sub(*before.get(p)?)))
                .sum();
            Some(PgFigures {
                cpu_us: ticks as f64 * tick_us / acked as f64,
                // Minus the sampling connection's own transaction.
                commits: counts.commits - counts_before.commits - 1,
                deadlocks: counts.deadlocks - counts_before.deadlocks,
            })
        }
        _ => None,
    };
    let mut samples = acks.latencies.lock().unwrap().clone();
    assert!(!samples.is_empty(), "no ack matched a recorded send");
    samples.sort();
    let at = |p: usize| samples[((p * samples.len()).div_ceil(100)).max(1) - 1];
    let figures = Figures {
        setup,
        acked,
        elapsed,
        p50: at(50),
        p99: at(99),
        server_cpu_us: (server_after - server_before) as f64 * tick_us / acked as f64,
        postgres,
    };
    for client in done {
        client.close().await.unwrap();
    }
    drop(servers);
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run explicitly"]
async fn acked_batches_per_second_and_cpu_per_batch_on_one_and_two_nodes() {
    let (clients, batches) = (env_or("LOAD_CLIENTS", 100), env_or("LOAD_BATCHES", 100));
    let setups: Vec<Setup> = std::env::var("LOAD_SETUPS")
        .unwrap_or_else(|_| "sqlite,postgres,postgres-2".to_owned())
        .split(',')
        .map(Setup::parse)
        .collect();
    let label = std::env::var("LOAD_LABEL").unwrap_or_default();
    let mut all = Vec::new();
    for setup in setups {
        let f = measure(setup, clients, batches).await;
        println!(
            "E2 {}{label}: {} acked in {:.2?} = {:.0} batches/s; ack p50 {:?}, p99 {:?}; \
             server CPU {:.1} µs/acked batch{}",
            setup.label(),
            f.acked,
            f.elapsed,
            f.rate(),
            f.p50,
            f.p99,
            f.server_cpu_us,
            match f.postgres {
                Some(pg) => format!(
                    "; PostgreSQL CPU {:.1} µs/acked batch, {} commits ({:.1} batches each, \
                     one every {:.1} ms), {} deadlocks",
                    pg.cpu_us,
                    pg.commits,
                    f.acked as f64 / pg.commits as f64,
                    f.elapsed.as_secs_f64() * 1e3 / pg.commits as f64,
                    pg.deadlocks
                ),
                None => String::new(),
            }
        );
        all.push(f);
    }
    if let Ok(out) = std::env::var("LOAD_OUT") {
        write_rows(Path::new(&out), &all, clients, batches + 1, &label);
    }
}

/// Writes the figures as benchmark rows (workload E2), with a note on the setup and one on
/// how throughput grows with nodes.
fn write_rows(out: &Path, all: &[Figures], clients: usize, batches: usize, label: &str) {
    // `cargo xtask bench` names the commit, so a page mixing runs says which rows are whose.
    let sha = std::env::var("LOAD_GIT_SHA")
        .map(|sha| format!(" at commit {sha}"))
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut row = |case: String, unit: &str, value: f64| {
        rows.push(serde_json::json!({
            "workload": "E2",
            "case": case,
            "unit": unit,
            "cells": { "cardsync": { "median": value, "min": value } },
        }));
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for f in all {
        let setup = format!(
            "{}{label}, {clients} clients in rooms of 10, {batches} batches each",
            f.setup.label()
        );
        row(
            format!("{setup}: sustained acked batches/s"),
            "batches/s",
            f.rate(),
        );
        row(
            format!("{setup}: ack latency p50, apply -> Acked"),
            "ms",
            ms(f.p50),
        );
        row(
            format!("{setup}: ack latency p99, apply -> Acked"),
            "ms",
            ms(f.p99),
        );
        row(
            format!("{setup}: server CPU per acked batch (all nodes)"),
            "µs/batch",
            f.server_cpu_us,
        );
        if let Some(pg) = f.postgres {
            row(
                format!("{setup}: PostgreSQL CPU per acked batch"),
                "µs/batch",
                pg.cpu_us,
            );
            row(
                format!("{setup}: acked batches per PostgreSQL commit"),
                "batches",
                f.acked as f64 / pg.commits as f64,
            );
            row(
                format!("{setup}: PostgreSQL deadlocks detected"),
                "count",
                pg.deadlocks as f64,
            );
        }
    }
    let mut notes = vec![format!(
        "E2 across stores and nodes ({clients} clients in rooms of 10, {batches} batches \
         each; `cargo test -p cardsync-server --release --test load_nodes -- --ignored`): \
         measured{sha}; native clients against the release cardsync-server binary, one node on SQLite \
         (synchronous=FULL), one node on a throwaway PostgreSQL 15 (the tests' cluster: \
         initdb, default settings, synchronous_commit on), and two nodes on one such \
         PostgreSQL with client i on node i mod 2, so every room has clients on both nodes \
         and their compare-and-appends race; batch rate limit lifted, open loop. Acks are \
         counted at the load generator. Server CPU per acked batch is the server processes' \
         utime+stime (/proc/<pid>/stat, 10 ms ticks) over the run, summed over the nodes, \
         divided by the batches acked; PostgreSQL's is the same over every process \
         pg_stat_activity lists, and its commits per batch come from \
         pg_stat_database.xact_commit (group commit puts many batches in one transaction), \
         as do its deadlocks."
    )];
    if let Some(growth) = growth_note(all, &sha) {
        notes.push(growth);
    }
    let report = serde_json::json!({
        "machine": {
            "cpu": "", "cores": 0, "git_sha": "", "mode": "", "versions": {},
            // Not added to the page's "run took": `cargo xtask bench --nodes` renders these
            // rows over an earlier run's page, whose duration they are not part of.
            "seconds": 0.0, "date": "",
        },
        "peers": ["cardsync"],
        "rows": rows,
        "notes": notes,
    });
    std::fs::write(out, serde_json::to_string_pretty(&report).unwrap()).unwrap();
}

/// The paragraph on scaling out: one and two nodes on PostgreSQL side by side, what each
/// spent per batch, and what the figures say about where the single primary saturates.
fn growth_note(all: &[Figures], sha: &str) -> Option<String> {
    let find = |nodes| all.iter().find(|f| f.setup == Setup::Postgres { nodes });
    let (one, two) = (find(1)?, find(2)?);
    let (pg1, pg2) = (one.postgres?, two.postgres?);
    let sqlite = all.iter().find(|f| f.setup == Setup::Sqlite);
    let per_commit = |f: &Figures, pg: &PgFigures| {
        (
            f.acked as f64 / pg.commits as f64,
            f.elapsed.as_secs_f64() * 1e3 / pg.commits as f64,
        )
    };
    let ((b1, ms1), (b2, ms2)) = (per_commit(one, &pg1), per_commit(two, &pg2));
    let worst = pg1.cpu_us.max(pg2.cpu_us);
    let deadlocks = if pg2.deadlocks > 0 {
        format!(
            " With two nodes PostgreSQL also broke {} deadlocks: each node's group commit \
             updates the head rows of several documents in arrival order, so two nodes' \
             transactions can lock two documents in opposite orders; the aborted transaction's \
             rooms are unloaded and their clients reconnect and resend (nothing acked is lost, \
             but the batches wait). Appending in document order would avoid it.",
            pg2.deadlocks
        )
    } else {
        String::new()
    };
    let direction = if two.rate() < one.rate() {
        format!(
            " Throughput fell with the second node: every room had clients on both nodes, the \
             worst case for the sequencer, so the nodes' appends to one document raced, the \
             loser rebuilt its room and judged its batches again, and group commits got \
             smaller ({b2:.0} batches against {b1:.0}). A proxy that routes each document to \
             one node (deploy/nginx.conf) removes those races; this run does not measure that \
             case."
        )
    } else {
        String::new()
    };
    Some(format!(
        "Scaling out (E2): in this run{sha}, two nodes on one PostgreSQL acked {:.0} batches/s against \
         {:.0} for one node on PostgreSQL ({:.2}×){}.{direction} Neither PostgreSQL setup is bound by CPU \
         here: per acked batch the servers spent {:.0} µs (one node) and {:.0} µs (two nodes, \
         which adds rebuilds after lost races and reading the other node's entries back), and \
         PostgreSQL {:.0} and {:.0} µs, that is {:.0}% and {:.0}% of one core at the rates \
         reached. What bounds them is the writer: each node appends through one connection, \
         one group commit at a time, and each batch costs about two statements with a round \
         trip each (the conditional UPDATE of the head, the INSERT of the entry) plus a lease \
         check and a NOTIFY per document, so a commit took {ms1:.0} ms for {b1:.0} batches with \
         one node and {ms2:.0} ms for {b2:.0} with two, on a machine whose two cores are shared \
         by the load generator, both nodes, PostgreSQL and other builds, where every round trip \
         waits for a core.{deadlocks} The single primary's own ceiling is its CPU per batch: at {worst:.0} µs one core takes about {:.0} batches/s whatever \
         the number of nodes, so nodes on machines of their own scale until their writers' \
         sum reaches that; sending several statements per round trip (pipelining, or one \
         multi-row statement per commit) would raise each writer's rate long before that.",
        two.rate(),
        one.rate(),
        two.rate() / one.rate(),
        match sqlite {
            Some(s) => format!(", and {:.0} for one node on SQLite", s.rate()),
            None => String::new(),
        },
        one.server_cpu_us,
        two.server_cpu_us,
        pg1.cpu_us,
        pg2.cpu_us,
        pg1.cpu_us * one.rate() / 1e4,
        pg2.cpu_us * two.rate() / 1e4,
        1e6 / worst,
    ))
}
