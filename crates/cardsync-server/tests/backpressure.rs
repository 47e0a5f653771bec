//! Backpressure instead of drops: a stock `y-websocket` client (the real npm package, run by
//! `node` from `tests/js`) writes a burst of 1,000 updates, ten times the default batch burst,
//! into a room of the real server. A stock client never resends what a room refuses, so the
//! room must not refuse it for its rate: it takes every update and pauses reading the socket
//! until the client's token bucket refills (docs/design.md §10). Every card must arrive, at a
//! second stock client and at a native client, without the writer ever reconnecting.
//!
//! Needs `node` and `tests/js/node_modules` (`cargo xtask test` runs `npm ci` there); the test
//! fails, never skips, without them.

mod common;

use cardsync_core::{CardDoc, CardId, Op, Origin, Stamp};
use cardsync_sync::room::Role;
use common::*;
use serde_json::json;

/// Cards in the burst.
const BURST: u128 = 1_000;

/// One update per card, made by a real document, as a stock app writing valid cards would.
fn burst_updates(client: u64) -> Vec<String> {
    let mut doc = CardDoc::new(schema(), client).unwrap();
    (0..BURST)
        .map(|i| {
            let create = Op::CreateCard {
                card: CardId::from_u128(u128::from(client) << 64 | i),
                kind: "task".into(),
                fields: [("title".to_owned(), format!("card {i}").into())].into(),
            };
            let update = doc
                .apply_with_origin(&Stamp::new(1, "stock"), &[create], Origin::Local)
                .unwrap()
                .update;
            update.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_burst_of_1000_updates_arrives_whole_without_a_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    // The default batch rate (a burst of 100, then one per 20 ms): the burst is ten times it.
    let server = TestServer::start(dir.path(), "", 0);
    let room = "burst";
    let request = json!({
        "server": format!("ws://{}/rooms", server.addr),
        "room": room,
        "token": token(room, Role::Editor),
        "updates": burst_updates(4242),
        "timeoutMs": TIMEOUT.as_millis() as u64,
    });
    let reply = tokio::task::spawn_blocking(move || node("stock_burst.mjs", &request))
        .await
        .unwrap();
    assert_eq!(reply["expected"], BURST as u64, "{reply}");
    assert_eq!(
        reply["received"], BURST as u64,
        "every card arrived: {reply}"
    );
    assert_eq!(
        reply["writerConnects"], 1,
        "the writer never reconnected: {reply}"
    );
    assert_eq!(reply["writerCloses"], 0, "{reply}");

    // The room holds them all, durably acked to nobody but seen by everyone.
    let (native, _) = client(&server.url(room), room, Role::Viewer, None).await;
    eventually(&native, "the native client to hold every card", |s| {
        s.local().cards(None).len() == BURST as usize
    })
    .await;
    let metrics = server.metrics().await;
    assert_eq!(metrics["rejections"], 0, "nothing was refused: {metrics}");
    assert!(
        metrics["pauses"].as_u64() > Some(0),
        "a burst past the rate pauses the socket: {metrics}"
    );
}
