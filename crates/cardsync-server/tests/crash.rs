//! `kill -9` of the server during a stream of writes: every acked batch survives, and the
//! clients converge after a restart.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use cardsync_client::ClientEvent;
use cardsync_core::{CardId, Op, Stamp};
use cardsync_sync::SyncEvent;
use cardsync_sync::protocol::BatchId;
use cardsync_sync::room::Role;
use common::*;

const CARDS: u128 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_loses_no_acked_batch() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = TestServer::start(dir.path(), "", port);
    let url = server.url("board");
    let (a, mut events) = client(&url, "board", Role::Editor, Some(dir.path().join("a.db"))).await;
    settled(&a, "a online").await;

    // Which card each batch creates, and which batches the server acked.
    let batches: Arc<Mutex<Vec<(BatchId, CardId)>>> = Arc::default();
    let acked: Arc<Mutex<BTreeSet<BatchId>>> = Arc::default();
    let acked_in = Arc::clone(&acked);
    let listener = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let ClientEvent::Sync(SyncEvent::Acked(ids)) = event {
                acked_in.lock().unwrap().extend(ids);
            }
        }
    });

    let a = Arc::new(a);
    let writer = {
        let (a, batches) = (Arc::clone(&a), Arc::clone(&batches));
        tokio::spawn(async move {
            for i in 0..CARDS {
                let card = CardId::from_u128(1000 + i);
                let op = Op::CreateCard {
                    card,
                    kind: "task".into(),
                    fields: Default::default(),
                };
                let id = a
                    .apply(Stamp::new(i as u64, "a"), vec![op])
                    .await
                    .unwrap()
                    .unwrap();
                batches.lock().unwrap().push((id, card));
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        })
    };
    // Kill once a good share is acked, while writes keep coming.
    within("50 acks", async {
        while acked.lock().unwrap().len() < 50 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    server.kill_9();
    let acked_before_kill: BTreeSet<BatchId> = acked.lock().unwrap().clone();
    a.set_online(false).unwrap(); // A stays away until the check below is done
    writer.await.unwrap();

    // Restart on the same data directory; a fresh client reads what the server holds.
    let server = TestServer::start(dir.path(), "", port);
    let (c, _) = client(&url, "board", Role::Viewer, None).await;
    settled(&c, "c online").await;
    let expected: Vec<CardId> = batches
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| acked_before_kill.contains(id))
        .map(|(_, card)| *card)
        .collect();
    assert!(expected.len() >= 50);
    assert!(
        acked_before_kill.len() < CARDS as usize,
        "the kill came after the stream"
    );
    let missing = c
        .read(move |s| {
            expected
                .into_iter()
                .filter(|card| s.local().card(*card).is_none())
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
    assert!(
        missing.is_empty(),
        "acked but lost after kill -9: {missing:?}"
    );

    // A comes back: everything it wrote lands, and all converge.
    a.set_online(true).unwrap();
    settled(&a, "a's outbox drained").await;
    let all = move |s: &cardsync_sync::session::ClientSession| {
        (0..CARDS).all(|i| s.local().card(CardId::from_u128(1000 + i)).is_some())
    };
    eventually(&c, "c has every card", all).await;
    assert_eq!(
        a.read(|s| s.local().export()).await.unwrap(),
        c.read(|s| s.local().export()).await.unwrap()
    );
    listener.abort();
    drop(server);
}
