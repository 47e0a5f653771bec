//! The real binary on PostgreSQL: `--store`, `CARDSYNC_STORE` and the config's `store` key
//! select it; a bad URL, an unreachable database and a newer schema each stop the start with
//! one clear line and exit code 2; a node serving from PostgreSQL converges two clients and
//! keeps the document across a restart; the store reconnects after the database restarts; a
//! lease renewal never queues behind the writer.

mod common;

use std::path::Path;

use cardsync_core::{CardId, Op, Stamp};
use cardsync_sync::room::Role;
use common::pg::PgCluster;
use common::*;

/// A v1 update that creates one card, to append.
fn one_card_update() -> Vec<u8> {
    let mut source = cardsync_core::CardDoc::new(schema(), 5).unwrap();
    let sv = source.state_vector();
    source
        .create_card(&Stamp::new(1, "t"), CardId::from_u128(1), "task", [])
        .unwrap();
    source.diff_v1(&sv).unwrap()
}

/// Runs the binary with `store` as `--store` and returns (exit code, stderr) of its failed
/// start. Logs are off, so stderr is only what the binary says about the failure.
fn failed_start(dir: &Path, store: &str) -> (Option<i32>, String) {
    let output = command(dir, "", 0)
        .args(["--store", store])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn one_line_containing(stderr: &str, what: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with("cardsync-server: error: "), "{stderr}");
    assert!(lines[0].contains(what), "{what:?} expected in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_bad_url_an_unreachable_database_and_a_newer_schema_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = failed_start(dir.path(), "mysql://u@127.0.0.1/db");
    assert_eq!(code, Some(2), "{stderr}");
    one_line_containing(&stderr, "invalid store URL");
    let (code, stderr) = failed_start(dir.path(), "postgres://u@127.0.0.1:notaport/db");
    assert_eq!(code, Some(2), "{stderr}");
    one_line_containing(&stderr, "invalid store URL");

    // Nothing listens on a port just released.
    let port = free_port();
    let (code, stderr) = failed_start(
        dir.path(),
        &format!("postgres://u:secret-pw@127.0.0.1:{port}/db"),
    );
    assert_eq!(code, Some(2), "{stderr}");
    one_line_containing(&stderr, "cannot connect to the database at host 127.0.0.1");
    assert!(
        !stderr.contains("secret-pw"),
        "the password is never shown: {stderr}"
    );

    // A database migrated by a newer cardsync.
    let cluster = PgCluster::start();
    let url = cluster.create_database("newer");
    cardsync_server::store::PostgresStore::connect(&url).unwrap();
    cluster
        .client("newer")
        .batch_execute("UPDATE cardsync_schema SET version = 99")
        .unwrap();
    let (code, stderr) = failed_start(dir.path(), &url);
    assert_eq!(code, Some(2), "{stderr}");
    one_line_containing(&stderr, "schema version 99");
}

fn create(card: CardId) -> Vec<Op> {
    vec![Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_postgres_converges_and_keeps_documents_across_a_restart() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("cardsync");
    let dir = tempfile::tempdir().unwrap();
    // The config file's `store` key.
    let extra = format!("store = {url:?}\n");
    let server = TestServer::start(dir.path(), &extra, 0);
    let (a, _a_events) = client(&server.url("board"), "board", Role::Editor, None).await;
    let (b, _b_events) = client(&server.url("board"), "board", Role::Editor, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    for i in 0..20u128 {
        let (writer, name) = if i % 2 == 0 { (&a, "a") } else { (&b, "b") };
        writer
            .apply(Stamp::new(i as u64 + 1, name), create(CardId::from_u128(i)))
            .await
            .unwrap();
    }
    settled(&a, "a acked").await;
    settled(&b, "b acked").await;
    for (c, name) in [(&a, "a"), (&b, "b")] {
        eventually(c, &format!("{name} sees all 20 cards"), |s| {
            s.local().cards(None).len() == 20
        })
        .await;
    }
    let export = a.read(|s| s.local().export()).await.unwrap();
    assert_eq!(export, b.read(|s| s.local().export()).await.unwrap());
    a.close().await.unwrap();
    b.close().await.unwrap();
    assert!(server.terminate(), "graceful shutdown exits 0");
    assert!(
        !dir.path().join("data").join("cardsync.db").exists(),
        "nothing went to SQLite"
    );

    // Restarted, with the store from CARDSYNC_STORE this time: everything is still there.
    let port = free_port();
    let mut command = command(dir.path(), "", port);
    command.env("CARDSYNC_STORE", &url);
    let mut child = command.spawn().unwrap();
    let server = within("the restarted server listening", async {
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
    server.await;
    let url_ws = format!("ws://127.0.0.1:{port}/rooms/board");
    let (c, _c_events) = client(&url_ws, "board", Role::Viewer, None).await;
    eventually(&c, "c loads all 20 cards", |s| {
        s.local().cards(None).len() == 20
    })
    .await;
    assert_eq!(c.read(|s| s.local().export()).await.unwrap(), export);
    c.close().await.unwrap();
    let _ = child.kill();
    let _ = child.wait();
}

/// The database stops and comes back: calls fail with a typed error meanwhile (nothing
/// panics, nothing hangs), and the store reconnects by itself afterwards, with every write
/// that returned `Ok` still there.
#[test]
fn the_store_reconnects_after_the_database_restarts() {
    use cardsync_server::store::{Append, DocId, PostgresStore, Store, StoreError};
    let cluster = PgCluster::start();
    let store = PostgresStore::connect(&cluster.create_database("restart")).unwrap();
    let doc = DocId::new("board").unwrap();
    let update = one_card_update();
    let append = || {
        store.append(&[Append {
            doc: doc.clone(),
            update: update.clone(),
        }])
    };
    append().unwrap();
    cluster.stop();
    for _ in 0..2 {
        let err = append().unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Postgres(_) | StoreError::Unreachable { .. }
            ),
            "{err}"
        );
    }
    cluster.restart();
    // The first call may still find the old connection's death; a later one reconnects.
    let ok = (0..3).any(|_| append().is_ok());
    assert!(ok, "no append succeeded after the restart");
    let loaded = store.load(&doc).unwrap();
    assert!(loaded.head >= 2, "head {}", loaded.head);
    assert_eq!(loaded.updates.len() as u64, loaded.head);
}

/// A lease renewal is due on time, so it must not queue behind the appends: with the writer's
/// connection held by an append that waits on a lock (standing in for a long group commit), a
/// renewal of another document's lease still completes (docs/design.md §12). The append then
/// completes too once the lock is gone.
#[test]
fn a_lease_renewal_does_not_wait_behind_the_writer() {
    use std::sync::mpsc;
    use std::time::Duration;

    use cardsync_server::store::{DocId, PostgresStore, Store};
    let cluster = PgCluster::start();
    let url = cluster.create_database("renewal");
    let store = std::sync::Arc::new(PostgresStore::connect(&url).unwrap());
    let (stuck, renewed) = (DocId::new("stuck").unwrap(), DocId::new("renewed").unwrap());
    let ttl = Duration::from_secs(60);
    let stuck_lease = store.acquire_lease(&stuck, "node-a", ttl, false).unwrap();
    let renewed_lease = store.acquire_lease(&renewed, "node-a", ttl, false).unwrap();
    let update = one_card_update();
    let first = store.append_if_head(&stuck_lease, 0, &update).unwrap();
    // Another session locks the stuck document's head row: the next append on it waits.
    let mut blocker = cluster.client("renewal");
    let mut lock = blocker.transaction().unwrap();
    lock.execute(
        "SELECT head FROM cardsync_heads WHERE doc = $1 FOR UPDATE",
        &[&"stuck"],
    )
    .unwrap();
    let (appended_tx, appended) = mpsc::channel();
    let appender = {
        let (store, lease) = (store.clone(), stuck_lease.clone());
        let update = update.clone();
        std::thread::spawn(move || {
            let result = store.append_if_head(&lease, first, &update);
            appended_tx.send(result.map_err(|e| e.to_string())).unwrap();
        })
    };
    // Wait until the append is blocked on the lock, holding the writer's connection.
    let mut watcher = cluster.client("renewal");
    let waiting = (0..600).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        let row = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND query LIKE '%cardsync_heads%'",
                &[],
            )
            .unwrap();
        row.get::<_, i64>(0) > 0
    });
    assert!(waiting, "the append never waited on the lock");
    let (renew_tx, renew) = mpsc::channel();
    {
        let (store, lease) = (store.clone(), renewed_lease.clone());
        std::thread::spawn(move || {
            let result = store.renew_lease(&lease, ttl);
            let _ = renew_tx.send(result.map_err(|e| e.to_string()));
        });
    }
    // The lock is still held: a renewal queued behind the writer could not finish now.
    let renewal = renew.recv_timeout(Duration::from_secs(20));
    assert!(
        appended.try_recv().is_err(),
        "the append finished before the lock was released"
    );
    lock.rollback().unwrap();
    assert_eq!(renewal, Ok(Ok(())), "the renewal waited behind the writer");
    assert_eq!(
        appended.recv_timeout(Duration::from_secs(60)),
        Ok(Ok(first + 1))
    );
    appender.join().unwrap();
}
