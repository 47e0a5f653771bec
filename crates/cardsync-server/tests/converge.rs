//! Two native clients on the real server binary converge, concurrent edits included.

mod common;

use cardsync_core::{CardId, FieldValue, Op, Stamp, Value};
use cardsync_sync::room::Role;
use common::*;

fn create(card: CardId) -> Vec<Op> {
    vec![Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    }]
}

fn vote(card: CardId) -> Vec<Op> {
    vec![Op::Increment {
        card,
        field: "votes".into(),
        by: 1,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_converge_with_concurrent_edits() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let url = server.url("board");
    let (a, _a_events) = client(&url, "board", Role::Editor, None).await;
    let (b, _b_events) = client(&url, "board", Role::Editor, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;

    let card = CardId::from_u128(1);
    a.apply(Stamp::new(1, "a"), create(card)).await.unwrap();
    eventually(&b, "b sees a's card", move |s| {
        s.local().card(card).is_some()
    })
    .await;

    // Concurrent edits: both vote 20 times and both set the title, without waiting.
    let (ra, rb) = tokio::join!(
        async {
            for i in 0..20 {
                a.apply(Stamp::new(2 + i, "a"), vote(card)).await.unwrap();
            }
            let title = Op::SetField {
                card,
                field: "title".into(),
                value: Value::from("from a"),
            };
            a.apply(Stamp::new(30, "a"), vec![title]).await
        },
        async {
            for i in 0..20 {
                b.apply(Stamp::new(2 + i, "b"), vote(card)).await.unwrap();
            }
            let title = Op::SetField {
                card,
                field: "title".into(),
                value: Value::from("from b"),
            };
            b.apply(Stamp::new(30, "b"), vec![title]).await
        }
    );
    ra.unwrap();
    rb.unwrap();
    settled(&a, "a acked").await;
    settled(&b, "b acked").await;
    let votes = move |s: &cardsync_sync::session::ClientSession| {
        s.local().card(card).map(|c| c.fields.get("votes").cloned())
            == Some(Some(FieldValue::Counter(40)))
    };
    eventually(&a, "a counts 40 votes", votes).await;
    eventually(&b, "b counts 40 votes", votes).await;
    let export_a = a.read(|s| s.local().export()).await.unwrap();
    let export_b = b.read(|s| s.local().export()).await.unwrap();
    assert_eq!(export_a, export_b);
    let title = a
        .read(move |s| s.local().card(card).unwrap().fields["title"].clone())
        .await
        .unwrap();
    assert!(
        matches!(&title, FieldValue::Register(v) if *v == Value::from("from a") || *v == Value::from("from b")),
        "{title:?}"
    );

    // A third client loads the room's state and agrees.
    let (c, _c_events) = client(&url, "board", Role::Viewer, None).await;
    settled(&c, "c online").await;
    eventually(&c, "c has the votes", votes).await;
    assert_eq!(c.read(|s| s.local().export()).await.unwrap(), export_a);

    // The metrics endpoint reports what happened.
    let json = server.metrics().await;
    assert!(json["batches_acked"].as_u64().unwrap() >= 43, "{json}");
    assert_eq!(json["rooms"], 1);
    assert_eq!(json["connections"], 3);
    assert!(json["ack_latency_ms"]["p50"].is_number(), "{json}");

    for c in [a, b, c] {
        c.close().await.unwrap();
    }
    assert!(server.terminate(), "graceful shutdown exits 0");
}
