//! A damaged database stops the server at start with a clear error, never an empty document.

mod common;

use std::path::Path;

use cardsync_core::{CardId, Op, Stamp, Value};
use cardsync_sync::room::Role;
use common::*;

const MARKER: &str = "MARKER-0123456789-MARKER";
/// 200 batches in a burst: above the default per-connection rate, which this test is not
/// about (the session currently rolls a rate-limited batch back instead of retrying it).
const GENEROUS_RATE: &str = "[room]\nbatch_rate = { burst = 1000, refill_ms = 1 }\n";

/// Starts the binary on `dir` and returns (exit code, stderr) of a failed start.
fn failed_start(dir: &Path) -> (Option<i32>, String) {
    let output = command(dir, "", 0).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("data")).unwrap();
    for entry in std::fs::read_dir(from.join("data")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join("data").join(entry.file_name())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), GENEROUS_RATE, 0);
    let url = server.url("board");
    let (a, _) = client(&url, "board", Role::Editor, None).await;
    for i in 0..200u128 {
        let card = CardId::from_u128(i);
        let title = Value::from(format!("{MARKER}{i:04}"));
        let fields = [("title".to_owned(), title)].into_iter().collect();
        let create = Op::CreateCard {
            card,
            kind: "task".into(),
            fields,
        };
        a.apply(Stamp::new(i as u64, "a"), vec![create])
            .await
            .unwrap();
    }
    settled(&a, "all acked").await;
    a.close().await.unwrap();
    assert!(server.terminate(), "graceful shutdown exits 0");
    let db = |d: &Path| d.join("data").join("cardsync.db");
    // A graceful shutdown checkpoints: the main file holds everything.
    let wal = dir.path().join("data").join("cardsync.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);

    // Intact: starts, and the document is all there.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let server = TestServer::start(copy.path(), GENEROUS_RATE, 0);
    let (b, _) = client(&server.url("board"), "board", Role::Viewer, None).await;
    settled(&b, "b online").await;
    let count = b.read(|s| s.local().cards(None).len()).await.unwrap();
    assert_eq!(count, 200);
    b.close().await.unwrap();
    drop(server);

    // Truncated to half its size.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let len = std::fs::metadata(db(copy.path())).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(db(copy.path()))
        .unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let (code, stderr) = failed_start(copy.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("the database is corrupt"), "{stderr}");

    // The header destroyed.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let mut bytes = std::fs::read(db(copy.path())).unwrap();
    bytes[..100].fill(0x41);
    std::fs::write(db(copy.path()), &bytes).unwrap();
    let (code, stderr) = failed_start(copy.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is not a database"), "{stderr}");

    // A byte flipped inside the stored updates (in every copy of the marker: the file may
    // also hold stale copies in free pages): SQLite's pages are fine, the digests are not.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    let mut bytes = std::fs::read(db(copy.path())).unwrap();
    let hits: Vec<usize> = bytes
        .windows(MARKER.len())
        .enumerate()
        .filter(|(_, w)| *w == MARKER.as_bytes())
        .map(|(at, _)| at)
        .collect();
    assert!(!hits.is_empty(), "the marker is stored");
    for at in hits {
        bytes[at + 3] ^= 0x20;
    }
    std::fs::write(db(copy.path()), &bytes).unwrap();
    let (code, stderr) = failed_start(copy.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("document \"board\"") && stderr.contains("SHA-256"),
        "{stderr}"
    );
}
