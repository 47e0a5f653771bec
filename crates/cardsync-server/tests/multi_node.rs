//! Several real `cardsync-server` processes on 127.0.0.1 serving one document from one
//! throwaway PostgreSQL (docs/design.md §12): clients on different nodes converge; a
//! state-machine transition raced from two nodes is won by exactly one, the other rejected or
//! merged away (never seen anywhere); `kill -9` of a node under load loses no acked
//! batch; a node paused (SIGSTOP) past its lease is fenced when it resumes, and nothing acked
//! is lost; PostgreSQL stopped and restarted under load: no ack while it is down, nothing
//! acked lost. Each test prints its counts (run with `--nocapture` to see them).

// The counts are the tests' report, as the issue asks.
#![allow(clippy::print_stdout)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cardsync_client::{Client, ClientEvent, ClientEvents};
use cardsync_core::{CardId, FieldValue, Op, Stamp, Value};
use cardsync_sync::SyncEvent;
use cardsync_sync::protocol::BatchId;
use cardsync_sync::room::Role;
use common::pg::PgCluster;
use common::*;

/// A node on `url`'s database, with its own directory (config, no data) and short leases
/// and checks, so that the tests' pauses stay short.
fn node(dir: &Path, url: &str, port: u16) -> TestServer {
    let extra = format!("store = {url:?}\n[storage]\nlease_ms = 1500\nhead_check_ms = 200\n");
    TestServer::start(dir, &extra, port)
}

fn create(card: CardId, status: Option<&str>) -> Vec<Op> {
    let mut fields = cardsync_core::Attributes::default();
    if let Some(status) = status {
        fields.insert("status".into(), Value::from(status));
    }
    vec![Op::CreateCard {
        card,
        kind: "task".into(),
        fields,
    }]
}

fn status(s: &cardsync_sync::session::ClientSession, card: CardId) -> Option<String> {
    match s.local().card(card)?.fields.get("status")? {
        FieldValue::Register(Value::String(v)) => Some(v.clone()),
        _ => None,
    }
}

/// Batches a client's events reported acked, and rejected.
type Verdicts = (Arc<Mutex<BTreeSet<BatchId>>>, Arc<Mutex<Vec<BatchId>>>);

/// Collects the batches a client's events report acked and rejected.
fn record(mut events: ClientEvents) -> Verdicts {
    let acked: Arc<Mutex<BTreeSet<BatchId>>> = Arc::default();
    let rejected: Arc<Mutex<Vec<BatchId>>> = Arc::default();
    let (a, r) = (Arc::clone(&acked), Arc::clone(&rejected));
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                ClientEvent::Sync(SyncEvent::Acked(ids)) => a.lock().unwrap().extend(ids),
                ClientEvent::Sync(SyncEvent::Rejected { rejection, .. }) => {
                    r.lock().unwrap().push(rejection.batch);
                }
                _ => {}
            }
        }
    });
    (acked, rejected)
}

async fn export(c: &Client) -> cardsync_core::DocExport {
    c.read(|s| s.local().export()).await.unwrap()
}

/// Waits for clients `a` and `b` to export the same document; on timeout, fails showing the
/// difference.
/// A snapshot of one client is only worth comparing against once nothing is still on its way
/// to it.
async fn converged(a: &Client, b: &Client) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let (ea, eb) = (export(a).await, export(b).await);
        if ea == eb {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            assert_eq!(ea, eb, "the two clients never converged");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_on_two_nodes_edit_one_document_and_converge() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("converge");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (n1, n2) = (node(d1.path(), &url, 0), node(d2.path(), &url, 0));
    let (a, _ae) = client(&n1.url("board"), "board", Role::Editor, None).await;
    let (b, _be) = client(&n2.url("board"), "board", Role::Editor, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    const N: u128 = 30;
    let writes = |c: Client, name: &'static str, base: u128| async move {
        for i in 0..N {
            let card = CardId::from_u128(base + i);
            c.apply(Stamp::new(i as u64 + 1, name), create(card, None))
                .await
                .unwrap();
        }
        c
    };
    // Both write at once, each on its own node.
    let (a, b) = tokio::join!(writes(a, "a", 1000), writes(b, "b", 2000));
    settled(&a, "a acked").await;
    settled(&b, "b acked").await;
    let all =
        |s: &cardsync_sync::session::ClientSession| s.local().cards(None).len() == 2 * N as usize;
    eventually(&a, "a sees both nodes' cards", all).await;
    eventually(&b, "b sees both nodes' cards", all).await;
    converged(&a, &b).await;
    let (m1, m2) = (n1.metrics().await, n2.metrics().await);
    println!(
        "converge: node 1 {} acked, {} rebuilds, {} caught up; node 2 {} acked, {} rebuilds, {} caught up",
        m1["batches_acked"],
        m1["rebuilds"],
        m1["entries_caught_up"],
        m2["batches_acked"],
        m2["rebuilds"],
        m2["entries_caught_up"]
    );
    assert_eq!(m1["bus_connected"], true);
}

/// A card in state `doing`; a client on each node moves it at once, one to `done`, the other
/// to `todo`. Both are valid against `doing`, and only one against the other's result, so
/// exactly one wins, whichever node judged first and whether the loser was judged against a
/// stale head (then judged again) or a fresh one: the loser is rejected when the winner's
/// state forbids its transition, or, when its write loses the register's merge anyway,
/// accepted and merged away; either way every replica ends on the winner's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_raced_from_two_nodes_is_won_by_exactly_one() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("race");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (n1, n2) = (node(d1.path(), &url, 0), node(d2.path(), &url, 0));
    let (a, ae) = client(&n1.url("board"), "board", Role::Editor, None).await;
    let (b, be) = client(&n2.url("board"), "board", Role::Editor, None).await;
    let ((a_acked, a_rejected), (b_acked, b_rejected)) = (record(ae), record(be));
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    const ROUNDS: u128 = 8;
    let mut rejections = 0;
    for round in 0..ROUNDS {
        let card = CardId::from_u128(500 + round);
        a.apply(Stamp::new(1, "a"), create(card, Some("todo")))
            .await
            .unwrap();
        a.apply(
            Stamp::new(2, "a"),
            vec![Op::SetField {
                card,
                field: "status".into(),
                value: Value::from("doing"),
            }],
        )
        .await
        .unwrap();
        settled(&a, "a acked the card").await;
        eventually(&b, "b sees doing", move |s| {
            status(s, card).as_deref() == Some("doing")
        })
        .await;
        let set = |to: &str| {
            vec![Op::SetField {
                card,
                field: "status".into(),
                value: Value::from(to),
            }]
        };
        let (x, y) = tokio::join!(
            a.apply(Stamp::new(3, "a"), set("done")),
            b.apply(Stamp::new(3, "b"), set("todo"))
        );
        let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
        settled(&a, "a settled").await;
        settled(&b, "b settled").await;
        // A rejection is reported once its rollback is stored: wait for both verdicts.
        let decided = |acked: &Mutex<BTreeSet<BatchId>>, rejected: &Mutex<Vec<BatchId>>, id| {
            acked.lock().unwrap().contains(&id) || rejected.lock().unwrap().contains(&id)
        };
        within("both verdicts", async {
            while !(decided(&a_acked, &a_rejected, x) && decided(&b_acked, &b_rejected, y)) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        let acked = [
            a_acked.lock().unwrap().contains(&x),
            b_acked.lock().unwrap().contains(&y),
        ];
        let rejected = [
            a_rejected.lock().unwrap().contains(&x),
            b_rejected.lock().unwrap().contains(&y),
        ];
        assert_eq!(
            rejected,
            [!acked[0], !acked[1]],
            "round {round}: one verdict each"
        );
        // The loser is rejected (the winner's state forbids its transition), or, when its
        // write loses the register's merge anyway (concurrent writes: the higher client id's
        // value wins everywhere), accepted and merged away. Never both rejected.
        let winner = a
            .read(move |s| status(s, card))
            .await
            .unwrap()
            .expect("a status");
        let winner_acked = match winner.as_str() {
            "done" => acked[0],
            "todo" => acked[1],
            other => panic!("round {round}: {other}"),
        };
        assert!(
            winner_acked,
            "round {round}: the value that stays was acked"
        );
        for (c, name) in [(&a, "a"), (&b, "b")] {
            let w = winner.clone();
            eventually(c, &format!("{name} holds the winner"), move |s| {
                status(s, card).as_deref() == Some(w.as_str())
            })
            .await;
        }
        // A loser merged away still arrives: its write of the card's `modified` stamp can win
        // (the winner's author, writing again within a second, left the stamp as it was).
        converged(&a, &b).await;
        let how = if rejected.contains(&true) {
            rejections += 1;
            "the other rejected"
        } else {
            "the other merged away"
        };
        println!("round {round}: {winner} won, {how}");
    }
    // Fresh viewers on each node read what the nodes hold: the same, the losers nowhere.
    let (v1, _) = client(&n1.url("board"), "board", Role::Viewer, None).await;
    let (v2, _) = client(&n2.url("board"), "board", Role::Viewer, None).await;
    settled(&v1, "v1 online").await;
    settled(&v2, "v2 online").await;
    converged(&a, &b).await;
    converged(&a, &v1).await;
    converged(&a, &v2).await;
    let (m1, m2) = (n1.metrics().await, n2.metrics().await);
    println!(
        "race: {rejections} of {ROUNDS} rounds ended in a rejection; rejections node 1 {} node 2 {}; rebuilds node 1 {} node 2 {}",
        m1["rejections"], m2["rejections"], m1["rebuilds"], m2["rebuilds"]
    );
}

/// Writes `n` cards from `c`, one batch each, recording which batch creates which card.
fn writer(
    c: Arc<Client>,
    name: &'static str,
    base: u128,
    n: u128,
    batches: Arc<Mutex<Vec<(BatchId, CardId)>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for i in 0..n {
            let card = CardId::from_u128(base + i);
            let id = c
                .apply(Stamp::new(i as u64 + 1, name), create(card, None))
                .await
                .unwrap()
                .unwrap();
            batches.lock().unwrap().push((id, card));
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    })
}

/// The cards of the batches in `acked`, that `reader` lacks.
async fn missing(
    reader: &Client,
    batches: &Mutex<Vec<(BatchId, CardId)>>,
    acked: &BTreeSet<BatchId>,
) -> (usize, Vec<CardId>) {
    let expected: Vec<CardId> = batches
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| acked.contains(id))
        .map(|(_, card)| *card)
        .collect();
    let count = expected.len();
    let missing = reader
        .read(move |s| {
            expected
                .into_iter()
                .filter(|card| s.local().card(*card).is_none())
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
    (count, missing)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_a_node_under_load_loses_no_acked_batch() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("kill");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let port1 = free_port();
    let (n1, n2) = (node(d1.path(), &url, port1), node(d2.path(), &url, 0));
    let doc_url1 = n1.url("board");
    let (a, ae) = client(&doc_url1, "board", Role::Editor, None).await;
    let (b, be) = client(&n2.url("board"), "board", Role::Editor, None).await;
    let ((a_acked, _), (b_acked, _)) = (record(ae), record(be));
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    const N: u128 = 200;
    let (a_batches, b_batches): (Arc<Mutex<Vec<_>>>, Arc<Mutex<Vec<_>>>) = Default::default();
    let wa = writer(Arc::clone(&a), "a", 10_000, N, Arc::clone(&a_batches));
    let wb = writer(Arc::clone(&b), "b", 20_000, N, Arc::clone(&b_batches));
    within("40 acks on node 1", async {
        while a_acked.lock().unwrap().len() < 40 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    n1.kill_9();
    let a_before: BTreeSet<BatchId> = a_acked.lock().unwrap().clone();
    let b_before: BTreeSet<BatchId> = b_acked.lock().unwrap().clone();
    // Node 2 carries on: b's stream finishes there.
    wb.await.unwrap();
    settled(&b, "b drained on node 2").await;
    // Everything node 1 acked before it died is served by node 2.
    let (v, _) = client(&n2.url("board"), "board", Role::Viewer, None).await;
    settled(&v, "viewer online").await;
    let (count_a, lost_a) = missing(&v, &a_batches, &a_before).await;
    let (count_b, lost_b) = missing(&v, &b_batches, &b_before).await;
    println!(
        "kill -9: node 1 had acked {count_a} of a's batches, node 2 {count_b} of b's; missing afterwards: {} and {}",
        lost_a.len(),
        lost_b.len()
    );
    assert!(
        count_a >= 40 && count_a < N as usize,
        "the kill came mid-stream: {count_a}"
    );
    assert!(lost_a.is_empty(), "acked on node 1, lost: {lost_a:?}");
    assert!(lost_b.is_empty(), "acked on node 2, lost: {lost_b:?}");
    // Node 1 comes back on its port; a's outbox drains there and everyone converges.
    let n1 = node(d1.path(), &url, port1);
    wa.await.unwrap();
    settled(&a, "a drained on the restarted node 1").await;
    let all =
        |s: &cardsync_sync::session::ClientSession| s.local().cards(None).len() == 2 * N as usize;
    eventually(&v, "the viewer on node 2 has every card", all).await;
    eventually(&a, "a has every card", all).await;
    converged(&a, &v).await;
    drop(n1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_paused_past_its_lease_is_fenced_and_loses_nothing_acked() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("pause");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (n1, n2) = (node(d1.path(), &url, 0), node(d2.path(), &url, 0));
    let (a, ae) = client(&n1.url("board"), "board", Role::Editor, None).await;
    let (b, be) = client(&n2.url("board"), "board", Role::Editor, None).await;
    let ((a_acked, _), (b_acked, _)) = (record(ae), record(be));
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    const N: u128 = 150;
    let (a_batches, b_batches): (Arc<Mutex<Vec<_>>>, Arc<Mutex<Vec<_>>>) = Default::default();
    let wa = writer(Arc::clone(&a), "a", 30_000, N, Arc::clone(&a_batches));
    let wb = writer(Arc::clone(&b), "b", 40_000, N, Arc::clone(&b_batches));
    within("30 acks on node 1", async {
        while a_acked.lock().unwrap().len() < 30 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // Pause node 1 for twice its lease while b keeps writing on node 2.
    let pid = n1.child.id().to_string();
    let signal = |sig: &str| {
        let status = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig}");
    };
    signal("-STOP");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    signal("-CONT");
    wa.await.unwrap();
    wb.await.unwrap();
    settled(&a, "a drained").await;
    settled(&b, "b drained").await;
    let m1 = n1.metrics().await;
    println!(
        "pause: node 1 rooms fenced {}, persist failures {}; acked a {} b {}",
        m1["rooms_fenced"],
        m1["persist_failures"],
        a_acked.lock().unwrap().len(),
        b_acked.lock().unwrap().len()
    );
    assert!(
        m1["rooms_fenced"].as_u64().unwrap() >= 1,
        "node 1's room was fenced after the pause: {m1}"
    );
    let (v, _) = client(&n2.url("board"), "board", Role::Viewer, None).await;
    settled(&v, "viewer online").await;
    let all =
        |s: &cardsync_sync::session::ClientSession| s.local().cards(None).len() == 2 * N as usize;
    eventually(&v, "the viewer has every card", all).await;
    for (batches, acked, name) in [(&a_batches, &a_acked, "a"), (&b_batches, &b_acked, "b")] {
        let acked = acked.lock().unwrap().clone();
        let (count, lost) = missing(&v, batches, &acked).await;
        println!("pause: {name}: {count} acked, {} missing", lost.len());
        assert!(lost.is_empty(), "{name}: acked but lost: {lost:?}");
    }
    // Every client ends with everything (the paused node's catch up through its new room).
    eventually(&a, "a has every card", all).await;
    eventually(&b, "b has every card", all).await;
    converged(&a, &v).await;
    converged(&b, &v).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_restarted_under_load_loses_no_acked_batch() {
    let cluster = Arc::new(PgCluster::start());
    let url = cluster.create_database("restart");
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (n1, n2) = (node(d1.path(), &url, 0), node(d2.path(), &url, 0));
    let (a, ae) = client(&n1.url("board"), "board", Role::Editor, None).await;
    let (b, be) = client(&n2.url("board"), "board", Role::Editor, None).await;
    let ((a_acked, _), (b_acked, _)) = (record(ae), record(be));
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    const N: u128 = 150;
    let (a_batches, b_batches): (Arc<Mutex<Vec<_>>>, Arc<Mutex<Vec<_>>>) = Default::default();
    let wa = writer(Arc::clone(&a), "a", 50_000, N, Arc::clone(&a_batches));
    let wb = writer(Arc::clone(&b), "b", 60_000, N, Arc::clone(&b_batches));
    within("30 acks on node 1", async {
        while a_acked.lock().unwrap().len() < 30 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let c = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || c.stop()).await.unwrap();
    // Frames already on the wire when the database stopped may still arrive; after that,
    // nothing is acked while it is down.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let acks = || a_acked.lock().unwrap().len() + b_acked.lock().unwrap().len();
    let while_down = acks();
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let m1 = n1.metrics().await;
    assert_eq!(acks(), while_down, "no ack while the database is down");
    println!(
        "database down: {while_down} acked before; node 1 store_available {} bus_connected {}",
        m1["store_available"], m1["bus_connected"]
    );
    let c = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || c.restart())
        .await
        .unwrap();
    wa.await.unwrap();
    wb.await.unwrap();
    settled(&a, "a drained").await;
    settled(&b, "b drained").await;
    let (v, _) = client(&n2.url("board"), "board", Role::Viewer, None).await;
    settled(&v, "viewer online").await;
    let all =
        |s: &cardsync_sync::session::ClientSession| s.local().cards(None).len() == 2 * N as usize;
    eventually(&v, "the viewer has every card", all).await;
    for (batches, acked, name) in [(&a_batches, &a_acked, "a"), (&b_batches, &b_acked, "b")] {
        let acked = acked.lock().unwrap().clone();
        let (count, lost) = missing(&v, batches, &acked).await;
        println!(
            "database restart: {name}: {count} acked, {} missing",
            lost.len()
        );
        assert!(lost.is_empty(), "{name}: acked but lost: {lost:?}");
    }
    eventually(&a, "a has every card", all).await;
    eventually(&b, "b has every card", all).await;
    converged(&a, &v).await;
    converged(&b, &v).await;
    let m1 = n1.metrics().await;
    assert_eq!(m1["store_available"], true, "{m1}");
    // The bus reconnects with backoff (at most 5 s between tries).
    within("node 1's bus listening again", async {
        while n1.metrics().await["bus_connected"] != true {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}
