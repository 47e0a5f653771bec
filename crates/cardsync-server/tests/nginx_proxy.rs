//! The example proxy configuration, `deploy/nginx.conf`, in front of two real nodes on one
//! throwaway PostgreSQL: a document's clients all reach one node (the hash on its path, with a
//! token in the query string changing nothing), the WebSocket upgrade passes through, and
//! clients of the proxy converge. Ignored, because it needs nginx, which the checks do not
//! install (`apt-get install nginx`); run it with
//! `cargo test -p cardsync-server --test nginx_proxy -- --ignored --nocapture`.
//!
//! The configuration is the shipped file with only its addresses replaced (the nodes' and
//! nginx's ports are free ones here), so this checks the file a team copies.

// The node each document landed on is this test's report.
#![allow(clippy::print_stdout)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cardsync_core::{CardId, Op, Stamp};
use cardsync_sync::room::Role;
use common::pg::PgCluster;
use common::*;

/// nginx in the foreground with a prefix folder of its own; stopped on drop.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM makes the master stop its workers too (SIGKILL would leave them running).
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn start_nginx(dir: &std::path::Path, nodes: [u16; 2], port: u16) -> Nginx {
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx.conf");
    let text = std::fs::read_to_string(&shipped).unwrap();
    for address in ["127.0.0.1:4455", "127.0.0.1:4456", "127.0.0.1:8080"] {
        assert!(
            text.contains(address),
            "deploy/nginx.conf no longer names {address}"
        );
    }
    let text = text
        .replace("127.0.0.1:4455", &format!("127.0.0.1:{}", nodes[0]))
        .replace("127.0.0.1:4456", &format!("127.0.0.1:{}", nodes[1]))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, text).unwrap();
    let nginx = Nginx(
        Command::new("nginx")
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run nginx ({e}): `apt-get install nginx`")),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return nginx;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nginx did not listen on {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx (apt-get install nginx)"]
async fn the_example_proxy_sends_each_documents_clients_to_one_node() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("proxy");
    let (d1, d2, dn) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let ports = [free_port(), free_port()];
    let store = format!("store = {url:?}\n");
    let nodes = [
        TestServer::start(d1.path(), &store, ports[0]),
        TestServer::start(d2.path(), &store, ports[1]),
    ];
    let proxy = free_port();
    let _nginx = start_nginx(dn.path(), ports, proxy);
    // Eight documents, three clients each, through the proxy; each client's URL carries a
    // different query string, as a stock client's token would.
    const DOCS: usize = 8;
    let mut clients = Vec::new();
    for d in 0..DOCS {
        let doc = format!("doc-{d}");
        for c in 0..3 {
            let url = format!("ws://127.0.0.1:{proxy}/rooms/{doc}?client={c}");
            let (client, events) = client(&url, &doc, Role::Editor, None).await;
            settled(&client, "online through the proxy").await;
            clients.push((doc.clone(), client, events));
        }
    }
    // Every document's room is on exactly one node: both nodes' /metrics count rooms, and
    // together they serve each document once.
    let (m1, m2) = (nodes[0].metrics().await, nodes[1].metrics().await);
    let rooms = |m: &serde_json::Value| m["rooms"].as_u64().unwrap();
    let connections = |m: &serde_json::Value| m["connections"].as_u64().unwrap();
    println!(
        "through nginx: node 1 serves {} rooms and {} connections, node 2 {} rooms and {} connections",
        rooms(&m1),
        connections(&m1),
        rooms(&m2),
        connections(&m2)
    );
    assert_eq!(rooms(&m1) + rooms(&m2), DOCS as u64);
    assert_eq!(connections(&m1) + connections(&m2), 3 * DOCS as u64);
    assert_eq!(
        connections(&m1),
        3 * rooms(&m1),
        "a document's clients split over nodes"
    );
    // The upgrade and the frames pass both ways: a card written by one client of each
    // document reaches the other two.
    for (i, (_, client, _)) in clients.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let card = CardId::from_u128(i as u128 + 1);
        let create = Op::CreateCard {
            card,
            kind: "task".into(),
            fields: Default::default(),
        };
        client
            .apply(Stamp::new(1, "proxy"), vec![create])
            .await
            .unwrap();
    }
    for (i, (_, client, _)) in clients.iter().enumerate() {
        let card = CardId::from_u128((i - i % 3) as u128 + 1);
        eventually(client, "the document's card through the proxy", move |s| {
            s.local().card(card).is_some()
        })
        .await;
    }
    for (_, client, _) in clients {
        client.close().await.unwrap();
    }
}
