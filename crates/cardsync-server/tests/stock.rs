//! Stock `y-websocket` + `yjs` peers (npm, run by node: `tests/js/stock-peers.mjs`) against the
//! real server binary: a stock peer's invalid write is undone by the room's compensation on
//! every replica, its later writes still arrive, and two valid offline moves that merge into
//! a forbidden one end in one valid state everywhere. A native cardsync client checks that it
//! sees the same document.

mod common;

use cardsync_core::{CardId, FieldValue};
use cardsync_sync::room::Role;
use common::*;
use serde_json::{Value as Json, json};

/// Runs a scenario against `server`'s room `doc` off the async runtime.
async fn scenario(server: &TestServer, doc: &str, name: &str, cards: Vec<String>) -> Json {
    let request = json!({
        "origin": format!("ws://{}", server.addr),
        "room": doc,
        "token": token(doc, Role::Editor),
        "scenario": name,
        "cards": cards,
    });
    tokio::task::spawn_blocking(move || node("stock-peers.mjs", &request))
        .await
        .unwrap()
}

fn replicas(reply: &Json) -> &Vec<Json> {
    reply["replicas"].as_array().expect("replicas")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_hand_written_card_is_undone_everywhere_and_a_valid_one_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let ids: Vec<String> = (1..=3u128)
        .map(|n| CardId::from_u128(n).to_string())
        .chain(["550e8400-e29b-41d4-a716-446655440000".to_owned()])
        .chain([CardId::from_u128(5).to_string()])
        .collect();
    let valid = ids[4].clone();
    let reply = scenario(&server, "board", "refused_card", ids.clone()).await;

    for replica in replicas(&reply) {
        let cards = replica["cards"].as_object().unwrap();
        let keys: Vec<&String> = cards.keys().collect();
        assert_eq!(keys, [&valid], "replica {}", replica["name"]);
        assert_eq!(cards[&valid]["title"], "and edited");
        assert_eq!(cards[&valid]["body"], "written by hand");
    }
    assert_eq!(replicas(&reply)[0]["cards"], replicas(&reply)[1]["cards"]);

    // A native client sees the same: the valid card, edited, and nothing of the four others.
    let (client, _events) = client(&server.url("board"), "board", Role::Viewer, None).await;
    let card = CardId::from_key(&valid).unwrap();
    let edited = |s: &cardsync_sync::session::ClientSession| {
        s.local().card(CardId::from_u128(5)).is_some_and(|c| {
            c.fields.get("title") == Some(&FieldValue::Register("and edited".into()))
        })
    };
    eventually(&client, "the native client to see the valid card", edited).await;
    let cards = client
        .read(|s| {
            s.local()
                .cards(None)
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
    assert_eq!(cards, [card]);
    let metrics = server.metrics().await;
    assert!(
        metrics["compensations"].as_u64() >= Some(4),
        "each refused write was compensated and counted: {metrics}"
    );
    assert_eq!(metrics["rejections"], 0, "nothing was rejected: {metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_state_machine_merge_ends_in_one_valid_state_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let id = CardId::from_u128(9);
    let reply = scenario(&server, "flow", "offline_merge", vec![id.to_string()]).await;
    let states: Vec<&Json> = replicas(&reply)
        .iter()
        .map(|r| &r["cards"][id.to_string()]["status"])
        .collect();
    // `b`'s `doing → todo` came first and stands; `a`'s `done`, merged over it, read as the
    // forbidden `todo → done` and was undone.
    assert_eq!(states, [&json!("todo"); 3], "{reply}");
    let (client, _events) = client(&server.url("flow"), "flow", Role::Viewer, None).await;
    let todo = move |s: &cardsync_sync::session::ClientSession| {
        s.local()
            .card(id)
            .is_some_and(|c| c.fields.get("status") == Some(&FieldValue::Register("todo".into())))
    };
    eventually(&client, "the native client to read todo", todo).await;
    assert_eq!(server.metrics().await["compensations"], 1);
}
