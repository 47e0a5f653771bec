//! `POST /docs/{doc}/restore` over real HTTP against the server binary: the state at sequence
//! `n` comes back as a new forward batch (the log only grows), for one card or the whole
//! document, a connected WebSocket client converges on it, the restore is audited with its
//! ops, and its refusals are JSON errors with stable codes. Every answer is checked against
//! `docs/openapi.json`.

mod common;

use std::net::SocketAddr;

use cardsync_core::{CardId, FieldValue};
use cardsync_sync::room::Role;
use common::openapi::{Answer, call};
use common::*;
use serde_json::{Value as Json, json};

async fn post(addr: SocketAddr, route: &'static str, token: &str, body: Json) -> Answer {
    let path = route.replace("{doc}", "board");
    let body = serde_json::to_vec(&body).unwrap();
    call(
        addr,
        "POST",
        route,
        path,
        Some(token.to_owned()),
        Some(body),
    )
    .await
}

async fn ops(addr: SocketAddr, token: &str, ops: Json) -> SeqAnswer {
    let answer = post(addr, "/docs/{doc}/ops", token, json!({ "ops": ops })).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    SeqAnswer
}

/// A write was acked.
struct SeqAnswer;

async fn restore(addr: SocketAddr, token: &str, body: Json) -> Answer {
    post(addr, "/docs/{doc}/restore", token, body).await
}

async fn doc(addr: SocketAddr, token: &str) -> Json {
    let answer = call(
        addr,
        "GET",
        "/docs/{doc}",
        "/docs/board".into(),
        Some(token.into()),
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_is_a_forward_batch_every_replica_converges_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let addr = server.addr;
    let job = token_of("board", Role::Service, "job");
    let (a, b) = (CardId::from_u128(1), CardId::from_u128(2));
    let (editor, _events) = client(&server.url("board"), "board", Role::Editor, None).await;
    settled(&editor, "editor online").await;

    // 1: a is created; 2: a is edited; 3: b is created.
    ops(
        addr,
        &job,
        json!([{ "op": "create_card", "card": a, "kind": "task",
        "fields": { "title": "first", "status": "todo", "body": "hello" } }]),
    )
    .await;
    ops(
        addr,
        &job,
        json!([
            { "op": "set_field", "card": a, "field": "title", "value": "second" },
            { "op": "set_field", "card": a, "field": "status", "value": "doing" },
            { "op": "increment", "card": a, "field": "votes", "by": 5 },
            { "op": "insert_text", "card": a, "field": "body", "index": 5, "text": " world" },
        ]),
    )
    .await;
    ops(
        addr,
        &job,
        json!([{ "op": "create_card", "card": b, "kind": "task",
        "fields": { "title": "later" } }]),
    )
    .await;
    assert_eq!(doc(addr, &job).await["head"], 3);

    // The whole document back to 1: a as it was, b deleted; a new entry, 4.
    let answer = restore(addr, &job, json!({ "seq": 1 })).await;
    assert_eq!(
        (answer.status, answer.body["status"].as_str()),
        (200, Some("acked")),
        "{answer:?}"
    );
    let now = doc(addr, &job).await;
    assert_eq!(now["head"], 4, "a forward change, not a rewrite");
    let card_a = &now["cards"][a.to_string()];
    assert_eq!(card_a["fields"]["title"], "first");
    assert_eq!(card_a["fields"]["status"], "todo");
    assert_eq!(card_a["fields"]["votes"], 0);
    assert_eq!(card_a["fields"]["body"], "hello");
    assert_eq!(now["cards"][b.to_string()]["deleted"], true);
    eventually(
        &editor,
        "the client converges on the restored state",
        move |s| {
            let local = s.local();
            local.card(a).is_some_and(|c| {
                c.fields.get("title") == Some(&FieldValue::Register("first".into()))
                    && c.fields.get("body") == Some(&FieldValue::Text("hello".into()))
                    && c.fields.get("votes") == Some(&FieldValue::Counter(0))
            }) && local.card(b).is_some_and(|c| c.deleted)
        },
    )
    .await;

    // One card forward again, to 2; b stays as it is. Restoring the state it is in changes
    // nothing.
    let answer = restore(addr, &job, json!({ "seq": 2, "card": a })).await;
    assert_eq!(answer.body["status"], "acked", "{answer:?}");
    let now = doc(addr, &job).await;
    assert_eq!(now["cards"][a.to_string()]["fields"]["title"], "second");
    assert_eq!(now["cards"][a.to_string()]["fields"]["votes"], 5);
    assert_eq!(now["cards"][b.to_string()]["deleted"], true);
    let again = restore(addr, &job, json!({ "seq": 2, "card": a })).await;
    assert_eq!(again.body, json!({ "status": "unchanged", "ops": 0 }));

    // Audited like any batch, with its ops and the token's user.
    let admin = token_of("board", Role::Admin, "auditor");
    let history = call(
        addr,
        "GET",
        "/docs/{doc}/history",
        "/docs/board/history".into(),
        Some(admin),
        None,
    )
    .await;
    let records = history.body["records"].as_array().unwrap();
    let last = records.last().unwrap();
    assert_eq!(last["author"]["subject"], "job");
    assert_eq!(last["seq"], 5);
    assert!(
        last["ops"].as_array().is_some_and(|o| !o.is_empty()),
        "{last}"
    );

    // Refusals.
    let viewer = token("board", Role::Viewer);
    let refused = restore(addr, &viewer, json!({ "seq": 1 })).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (403, Some("forbidden"))
    );
    let beyond = restore(addr, &job, json!({ "seq": 99 })).await;
    assert_eq!(
        (beyond.status, beyond.body["code"].as_str()),
        (400, Some("invalid_seq"))
    );
    let unknown = restore(
        addr,
        &job,
        json!({ "seq": 1, "card": CardId::from_u128(9) }),
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.body["code"].as_str()),
        (404, Some("unknown_card"))
    );
    let typo = restore(addr, &job, json!({ "sequence": 1 })).await;
    assert_eq!(
        (typo.status, typo.body["code"].as_str()),
        (400, Some("invalid_ops"))
    );
    assert_eq!(
        doc(addr, &job).await["head"],
        5,
        "nothing written on a refusal"
    );
}
