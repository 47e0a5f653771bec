//! `cardsync-server migrate`: a SQLite store with several documents (some compacted into a
//! snapshot) is copied to PostgreSQL, a second run copies nothing and changes nothing, and a
//! node on PostgreSQL serves every document exactly as the SQLite node did (the exports are
//! equal).

mod common;

use std::path::Path;

use cardsync_core::{CardId, Op, Stamp};
use cardsync_sync::room::Role;
use common::pg::PgCluster;
use common::*;

const DOCS: [(&str, u128); 3] = [("alpha", 3), ("beta", 8), ("gamma", 13)];

fn run_migrate(from: &Path, to: &str) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cardsync-server"))
        .args(["migrate", "--from"])
        .arg(from)
        .args(["--to", to])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_moves_to_postgres_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    // Compaction after 5 entries: the larger documents have a snapshot and a log after it.
    let server = TestServer::start(dir.path(), "[storage]\ncompact_after = 5\n", 0);
    let mut exports = Vec::new();
    for (doc, cards) in DOCS {
        let (c, _events) = client(&server.url(doc), doc, Role::Editor, None).await;
        settled(&c, "online").await;
        for i in 0..cards {
            let op = Op::CreateCard {
                card: CardId::from_u128(i + 1),
                kind: "task".into(),
                fields: Default::default(),
            };
            c.apply(Stamp::new(i as u64 + 1, doc), vec![op])
                .await
                .unwrap();
        }
        settled(&c, "acked").await;
        exports.push(c.read(|s| s.local().export()).await.unwrap());
        c.close().await.unwrap();
    }
    assert!(server.terminate(), "graceful shutdown");

    let cluster = PgCluster::start();
    let url = cluster.create_database("moved");
    let data = dir.path().join("data");
    let (code, stdout, stderr) = run_migrate(&data, &url);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("migrated: 3 documents copied") && stdout.contains("0 already there"),
        "{stdout}"
    );
    // Again: nothing to copy, nothing changed.
    let (code, stdout, stderr) = run_migrate(&data, &url);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("0 documents copied") && stdout.contains("3 already there"),
        "{stdout}"
    );
    // No source: one clear line, exit 2.
    let (code, _, stderr) = run_migrate(&dir.path().join("nowhere"), &url);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no SQLite store"), "{stderr}");

    // A node on PostgreSQL serves every document as the SQLite node did.
    let pg_dir = tempfile::tempdir().unwrap();
    let node = TestServer::start(pg_dir.path(), &format!("store = {url:?}\n"), 0);
    for ((doc, cards), export) in DOCS.into_iter().zip(exports) {
        let (v, _) = client(&node.url(doc), doc, Role::Viewer, None).await;
        settled(&v, "viewer online").await;
        eventually(&v, &format!("{doc} loaded"), move |s| {
            s.local().cards(None).len() == cards as usize
        })
        .await;
        assert_eq!(
            v.read(|s| s.local().export()).await.unwrap(),
            export,
            "{doc}"
        );
    }
}
