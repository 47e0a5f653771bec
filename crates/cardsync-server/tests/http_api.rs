//! The HTTP API end to end, over real HTTP on 127.0.0.1 against the server binary: reads,
//! a written batch reaching a connected WebSocket client and surviving a `kill -9`, every
//! error with its status and stable code (and nothing written), and every response checked
//! against the response schemas of `docs/openapi.json` with a JSON Schema validator.

mod common;

use std::net::SocketAddr;

use cardsync_core::CardId;
use cardsync_server::auth::{Claims, Secret, mint, unix_now};
use cardsync_sync::room::Role;
use common::openapi::{Answer, call};
use common::*;
use serde_json::{Value as Json, json};

/// The server's field rule for these tests: only admins set `votes`, so a service's batch
/// that does is judged and refused by the room (the core cannot know it in advance).
const CONFIG: &str = r#"
[room]
max_update_bytes = 65536

[[room.permissions.field_rules]]
kind = "task"
field = "votes"
roles = ["admin"]
"#;

async fn post_ops(addr: SocketAddr, doc: &str, token: &str, body: Json) -> Answer {
    let bytes = serde_json::to_vec(&body).unwrap();
    post_raw(addr, doc, Some(token), bytes).await
}

async fn post_raw(addr: SocketAddr, doc: &str, token: Option<&str>, body: Vec<u8>) -> Answer {
    let path = format!("/docs/{doc}/ops");
    call(
        addr,
        "POST",
        "/docs/{doc}/ops",
        path,
        token.map(str::to_owned),
        Some(body),
    )
    .await
}

async fn get_doc(addr: SocketAddr, doc: &str, token: Option<&str>) -> Answer {
    let path = format!("/docs/{doc}");
    call(
        addr,
        "GET",
        "/docs/{doc}",
        path,
        token.map(str::to_owned),
        None,
    )
    .await
}

async fn get_card(addr: SocketAddr, doc: &str, card: &str, token: &str) -> Answer {
    let path = format!("/docs/{doc}/cards/{card}");
    let route = "/docs/{doc}/cards/{card}";
    call(addr, "GET", route, path, Some(token.to_owned()), None).await
}

fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (status, Some(code)),
        "{answer:?}"
    );
}

fn create(card: CardId, title: &str) -> Json {
    json!({ "op": "create_card", "card": card, "kind": "task", "fields": { "title": title } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_batch_is_acked_broadcast_readable_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let addr = server.addr;
    let service = token("board", Role::Service);
    let (editor, _) = client(&server.url("board"), "board", Role::Editor, None).await;
    settled(&editor, "editor online").await;

    let card = CardId::from_u128(42);
    let body = json!({ "ops": [create(card, "from the backend")], "actor": "billing" });
    let answer = post_ops(addr, "board", &service, body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["status"], "acked");

    // Broadcast to the connected WebSocket client, as any client's batch is.
    eventually(&editor, "the editor sees the backend's card", move |s| {
        s.local().card(card).is_some_and(|c| {
            c.fields.get("title")
                == Some(&cardsync_core::FieldValue::Register(
                    "from the backend".into(),
                ))
        })
    })
    .await;

    let doc = get_doc(addr, "board", Some(&service)).await;
    assert_eq!(doc.status, 200, "{doc:?}");
    let id = card.to_string();
    assert_eq!(
        doc.body["cards"][&id]["fields"]["title"],
        "from the backend"
    );
    assert_eq!(doc.body["cards"][&id]["created"]["by"], "billing");
    let got = get_card(addr, "board", &id, &token("board", Role::Viewer)).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.body, doc.body["cards"][&id]);

    // A token that names its user stamps the batch with it, whatever actor the body claims.
    let ann = mint(
        &Secret::new(SECRET.to_vec()).unwrap(),
        &Claims {
            doc: "board".into(),
            role: Role::Service,
            exp: unix_now() + 60,
            sub: Some("ann".into()),
        },
    );
    let signed = CardId::from_u128(43);
    let body = json!({ "ops": [create(signed, "signed")], "actor": "mallory" });
    let answer = post_ops(addr, "board", &ann, body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let read = get_card(addr, "board", &signed.to_string(), &service).await;
    assert_eq!(read.body["created"]["by"], "ann", "{read:?}");

    // Acked means durable: a kill -9 loses nothing.
    drop(editor);
    server.kill_9();
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let again = get_card(server.addr, "board", &id, &service).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body, got.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json_with_its_status_and_code_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let addr = server.addr;
    let service = token("board", Role::Service);
    let card = CardId::from_u128(7);
    let answer = post_ops(
        addr,
        "board",
        &service,
        json!({ "ops": [create(card, "t")] }),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let before = get_doc(addr, "board", Some(&service)).await;
    let head = before.body["head"].clone();

    let secret = Secret::new(SECRET.to_vec()).unwrap();
    let expired = mint(
        &secret,
        &Claims {
            doc: "board".into(),
            role: Role::Service,
            exp: unix_now() - 1,
            sub: None,
        },
    );
    let forged = mint(
        &Secret::new(vec![9; 32]).unwrap(),
        &Claims {
            doc: "board".into(),
            role: Role::Service,
            exp: unix_now() + 60,
            sub: None,
        },
    );
    let good = serde_json::to_vec(&json!({ "ops": [create(CardId::from_u128(8), "x")] })).unwrap();

    // Tokens, on reads and writes.
    assert_error(&get_doc(addr, "board", None).await, 401, "missing_token");
    assert_error(
        &get_doc(addr, "board", Some("garbage")).await,
        401,
        "invalid_token",
    );
    assert_error(
        &get_doc(addr, "board", Some(&forged)).await,
        401,
        "invalid_token",
    );
    assert_error(
        &get_doc(addr, "board", Some(&expired)).await,
        401,
        "token_expired",
    );
    let other = token("other", Role::Admin);
    assert_error(
        &get_doc(addr, "board", Some(&other)).await,
        403,
        "no_access",
    );
    assert_error(
        &post_raw(addr, "board", None, good.clone()).await,
        401,
        "missing_token",
    );
    let answer = post_raw(addr, "board", Some(&expired), good.clone()).await;
    assert_error(&answer, 401, "token_expired");
    let answer = post_raw(addr, "board", Some(&forged), good.clone()).await;
    assert_error(&answer, 401, "invalid_token");
    let answer = post_raw(addr, "board", Some(&other), good.clone()).await;
    assert_error(&answer, 403, "no_access");
    let viewer = token("board", Role::Viewer);
    let answer = post_raw(addr, "board", Some(&viewer), good.clone()).await;
    assert_error(&answer, 403, "forbidden");

    // Bodies.
    let answer = post_raw(addr, "board", Some(&service), b"{\"ops\": [".to_vec()).await;
    assert_error(&answer, 400, "malformed_json");
    let unknown = json!({ "ops": [{ "op": "teleport_card", "card": card }] });
    assert_error(
        &post_ops(addr, "board", &service, unknown).await,
        400,
        "invalid_ops",
    );
    let typo = json!({ "opz": [] });
    assert_error(
        &post_ops(addr, "board", &service, typo).await,
        400,
        "invalid_ops",
    );
    assert_error(
        &post_ops(addr, "board", &service, json!({ "ops": [] })).await,
        400,
        "empty_batch",
    );
    let huge = vec![b' '; 3 * 65536 + (64 << 10)];
    let answer = post_raw(addr, "board", Some(&service), huge).await;
    assert_error(&answer, 413, "body_too_large");

    // Ops the core refuses before anything is sent.
    let missing = json!({ "ops": [{ "op": "set_field", "card": CardId::from_u128(99), "field": "title", "value": "x" }] });
    assert_error(
        &post_ops(addr, "board", &service, missing).await,
        422,
        "unknown_card",
    );
    let bad_field =
        json!({ "ops": [{ "op": "set_field", "card": card, "field": "colour", "value": "red" }] });
    let answer = post_ops(addr, "board", &service, bad_field).await;
    assert_error(&answer, 422, "schema_violation");
    // A batch the room judges and refuses (a field rule the client side cannot see).
    let votes = json!({ "ops": [{ "op": "increment", "card": card, "field": "votes", "by": 1 }] });
    assert_error(
        &post_ops(addr, "board", &service, votes).await,
        403,
        "forbidden",
    );

    // Reads of what is not there.
    assert_error(
        &get_doc(
            addr,
            "never-written",
            Some(&token("never-written", Role::Viewer)),
        )
        .await,
        404,
        "unknown_doc",
    );
    let absent = CardId::from_u128(99).to_string();
    assert_error(
        &get_card(addr, "board", &absent, &service).await,
        404,
        "unknown_card",
    );
    assert_error(
        &get_card(addr, "board", "not-a-card", &service).await,
        400,
        "invalid_card_id",
    );

    // Nothing was written by any of them.
    let after = get_doc(addr, "board", Some(&service)).await;
    assert_eq!(after.body["head"], head);
    assert_eq!(after.body, before.body);
    let json = server.metrics().await;
    assert_eq!(
        json["rejections_by_code"]["forbidden"], 1,
        "only the room's own verdict counts"
    );
}
