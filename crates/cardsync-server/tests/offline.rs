//! A native client edits offline, is restarted, reconnects: its edits land exactly once.

mod common;

use cardsync_core::{CardId, FieldValue, Op, Stamp};
use cardsync_sync::room::Role;
use cardsync_sync::session::ClientSession;
use common::*;

fn votes_are(
    card: CardId,
    n: i64,
) -> impl Fn(&ClientSession) -> bool + Send + Sync + Clone + 'static {
    move |s: &ClientSession| {
        s.local()
            .card(card)
            .and_then(|c| c.fields.get("votes").cloned())
            == Some(FieldValue::Counter(n))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_survive_a_client_restart_and_land_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("client-a.db");
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}/rooms/board");
    let card = CardId::from_u128(3);

    // No server yet: A keeps trying (backoff) while the user edits.
    {
        let (a, _) = client(&url, "board", Role::Editor, Some(store.clone())).await;
        let create = Op::CreateCard {
            card,
            kind: "task".into(),
            fields: Default::default(),
        };
        a.apply(Stamp::new(1, "a"), vec![create]).await.unwrap();
        for i in 0..3 {
            let vote = Op::Increment {
                card,
                field: "votes".into(),
                by: 1,
            };
            a.apply(Stamp::new(2 + i, "a"), vec![vote]).await.unwrap();
        }
        // Offline runs of batches may be coalesced; none is sent.
        assert!(a.status().session.pending >= 1);
        a.close().await.unwrap(); // the process "exits"; the outbox is on disk
    }

    let server = TestServer::start(dir.path(), "", port);
    // A restarts (a new client id, the same store) and syncs what it had.
    let (a, _) = client(&url, "board", Role::Editor, Some(store.clone())).await;
    assert!(
        a.read(votes_are(card, 3)).await.unwrap(),
        "restored from the store"
    );
    settled(&a, "a's offline edits acked").await;

    let (b, _) = client(&url, "board", Role::Editor, None).await;
    settled(&b, "b online").await;
    eventually(&b, "b sees the three votes", votes_are(card, 3)).await;

    // Restart A again: nothing is pending, nothing is sent twice.
    a.close().await.unwrap();
    let (a, _) = client(&url, "board", Role::Editor, Some(store)).await;
    settled(&a, "a online again").await;
    assert_eq!(a.status().session.pending, 0);
    let vote = Op::Increment {
        card,
        field: "votes".into(),
        by: 1,
    };
    b.apply(Stamp::new(9, "b"), vec![vote]).await.unwrap();
    settled(&b, "b acked").await;
    eventually(
        &a,
        "a sees b's vote on top of its three",
        votes_are(card, 4),
    )
    .await;
    eventually(&b, "b still counts four", votes_are(card, 4)).await;
    a.close().await.unwrap();
    b.close().await.unwrap();
    drop(server);
}
