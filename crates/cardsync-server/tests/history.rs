//! The audit trail over real HTTP (`GET /docs/{doc}/history`), against the server binary:
//! every judged batch is recorded with the token's subject (a WebSocket client claiming
//! another actor in its stamps is recorded as its token's user), the server's time, the
//! sequence number of an accepted batch, what it touched, the ops of a batch posted over HTTP,
//! and the code of a rejection; reads filter by card and time and page; who may read it; bad
//! query parameters give JSON errors with stable codes; records past the retention are
//! pruned; a rejection's record survives a clean shutdown right after its answer. Every answer is checked against `docs/openapi.json`.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use cardsync_client::{Client, ClientConfig};
use cardsync_core::{CardId, Op, Stamp};
use cardsync_server::store::{
    Audit, AuditAuthor, AuditVerdict, DocId, SqliteStore, Store, Synchronous, now_ms,
};
use cardsync_sync::room::{Role, Summary};
use common::openapi::{Answer, call};
use common::*;
use serde_json::{Value as Json, json};

/// Only admins set `votes`, so a service's batch that does is refused by the room.
const CONFIG: &str = r#"
[[room.permissions.field_rules]]
kind = "task"
field = "votes"
roles = ["admin"]
"#;

/// A token of `role` for `doc` that names its user.
async fn history(addr: SocketAddr, doc: &str, query: &str, token: Option<&str>) -> Answer {
    let path = format!("/docs/{doc}/history{query}");
    let route = "/docs/{doc}/history";
    call(addr, "GET", route, path, token.map(str::to_owned), None).await
}

async fn post_ops(addr: SocketAddr, doc: &str, token: &str, body: Json) -> Answer {
    let path = format!("/docs/{doc}/ops");
    let body = serde_json::to_vec(&body).unwrap();
    call(
        addr,
        "POST",
        "/docs/{doc}/ops",
        path,
        Some(token.to_owned()),
        Some(body),
    )
    .await
}

fn records(answer: &Answer) -> Vec<Json> {
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.body["records"].as_array().unwrap().clone()
}

fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (status, Some(code)),
        "{answer:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_names_each_token_user_and_keeps_rejections_with_their_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let addr = server.addr;

    // A WebSocket client whose token names alice, claiming to be mallory in its stamps.
    let mut config = ClientConfig::new(
        server.url("board"),
        token_of("board", Role::Editor, "alice"),
    );
    config.connection = fast_connection();
    let (ws, _events) = Client::open(Arc::new(schema()), config).await.unwrap();
    settled(&ws, "alice online").await;
    let (first, second) = (CardId::from_u128(1), CardId::from_u128(2));
    let create = Op::CreateCard {
        card: first,
        kind: "task".into(),
        fields: [("title".to_owned(), "by alice".into())]
            .into_iter()
            .collect(),
    };
    ws.apply(Stamp::new(now_ms(), "mallory"), vec![create])
        .await
        .unwrap();
    settled(&ws, "alice's batch acked").await;

    // A backend's batch over HTTP, and one the room refuses (votes are for admins).
    let job = token_of("board", Role::Service, "billing-job");
    let ops = json!({ "ops": [{ "op": "create_card", "card": second, "kind": "task",
        "fields": { "title": "by the job" } }], "actor": "mallory" });
    assert_eq!(post_ops(addr, "board", &job, ops).await.status, 200);
    let votes =
        json!({ "ops": [{ "op": "increment", "card": second, "field": "votes", "by": 1 }] });
    let refused = post_ops(addr, "board", &job, votes).await;
    assert_error(&refused, 403, "forbidden");

    let admin = token_of("board", Role::Admin, "auditor");
    // A rejection's record is written after the verdict, off the path of any answer.
    let all = within("the rejection's record", async {
        loop {
            let all = records(&history(addr, "board", "", Some(&admin)).await);
            assert!(all.len() <= 3, "{all:#?}");
            if all.len() == 3 {
                return all;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("mallory"),
        "a claimed actor is never recorded: {text}"
    );

    let (by_alice, by_job, rejected) = (&all[0], &all[1], &all[2]);
    assert_eq!(
        by_alice["author"],
        json!({ "subject": "alice", "role": "editor" })
    );
    assert_eq!(by_alice["verdict"], "accepted");
    assert_eq!(by_alice["seq"], 1);
    assert!(
        by_alice["summary"]["cards"][first.to_string()]["whole"] == true,
        "{by_alice}"
    );
    assert!(
        by_alice.get("ops").is_none(),
        "the wire carries no ops: {by_alice}"
    );
    let at = by_alice["at_ms"].as_u64().unwrap();
    assert!(at.abs_diff(now_ms()) < 600_000, "the server's clock: {at}");

    assert_eq!(
        by_job["author"],
        json!({ "subject": "billing-job", "role": "service" })
    );
    assert_eq!(by_job["seq"], 2);
    assert_eq!(by_job["ops"][0]["op"], "create_card", "{by_job}");

    assert_eq!(rejected["verdict"], "rejected");
    assert_eq!(rejected["code"], "forbidden");
    assert!(rejected["seq"].is_null());
    assert!(rejected["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let touched = &rejected["summary"]["cards"][second.to_string()]["fields"];
    assert_eq!(*touched, json!(["votes"]), "{rejected}");

    // Per card, and by time.
    let of_first = records(&history(addr, "board", &format!("?card={first}"), Some(&admin)).await);
    assert_eq!(of_first, std::slice::from_ref(by_alice));
    let of_second =
        records(&history(addr, "board", &format!("?card={second}"), Some(&admin)).await);
    assert_eq!(of_second, [by_job.clone(), rejected.clone()]);
    let last = rejected["at_ms"].as_u64().unwrap();
    let late =
        records(&history(addr, "board", &format!("?since={}", last + 1), Some(&admin)).await);
    assert!(late.is_empty());
    let early = records(&history(addr, "board", &format!("?until={at}"), Some(&admin)).await);
    assert!(early.is_empty());
    let window = format!("?since={at}&until={}", last + 1);
    assert_eq!(
        records(&history(addr, "board", &window, Some(&admin)).await).len(),
        3
    );

    // Paged: `next` is the cursor of a full page.
    let page = history(addr, "board", "?limit=2", Some(&admin)).await;
    assert_eq!(records(&page), all[..2]);
    let next = page.body["next"].as_u64().unwrap();
    let rest = history(
        addr,
        "board",
        &format!("?limit=2&after={next}"),
        Some(&admin),
    )
    .await;
    assert_eq!(records(&rest), all[2..]);
    assert!(rest.body["next"].is_null());

    // A service token reads too; editors and viewers do not; bad parameters are refused.
    assert_eq!(
        records(&history(addr, "board", "", Some(&job)).await).len(),
        3
    );
    let editor = token("board", Role::Editor);
    assert_error(
        &history(addr, "board", "", Some(&editor)).await,
        403,
        "forbidden",
    );
    let viewer = token("board", Role::Viewer);
    assert_error(
        &history(addr, "board", "", Some(&viewer)).await,
        403,
        "forbidden",
    );
    assert_error(
        &history(addr, "board", "", None).await,
        401,
        "missing_token",
    );
    for bad in [
        "?limit=0",
        "?limit=5000",
        "?since=yesterday",
        "?since=10&until=5",
        "?page=2",
    ] {
        assert_error(
            &history(addr, "board", bad, Some(&admin)).await,
            400,
            "invalid_query",
        );
    }
    let bad_card = history(addr, "board", "?card=not-a-card", Some(&admin)).await;
    assert_error(&bad_card, 400, "invalid_card_id");
    ws.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_past_the_retention_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let day = 24 * 60 * 60 * 1000;
    let record = |at_ms: u64, subject: &str| Audit {
        at_ms,
        author: AuditAuthor {
            subject: Some(subject.into()),
            role: Role::Editor,
        },
        batch: None,
        verdict: AuditVerdict::Accepted,
        summary: Summary::default(),
        ops: None,
    };
    {
        let store = SqliteStore::open(&data.join("cardsync.db"), Synchronous::Full).unwrap();
        let doc = DocId::new("board").unwrap();
        let now = now_ms();
        store
            .append_audit(&[
                (doc.clone(), record(now - 40 * day, "old")),
                (doc, record(now - day, "recent")),
            ])
            .unwrap();
    }
    let config = format!("{CONFIG}\n[audit]\nretention_days = 30\n");
    let server = TestServer::start(dir.path(), &config, 0);
    let admin = token_of("board", Role::Admin, "auditor");
    within("the old record to be pruned", async {
        loop {
            let left = records(&history(server.addr, "board", "", Some(&admin)).await);
            let subjects: Vec<&str> = left
                .iter()
                .filter_map(|r| r["author"]["subject"].as_str())
                .collect();
            assert!(subjects.contains(&"recent"), "{left:?}");
            if subjects == ["recent"] {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_answered_just_before_a_clean_shutdown_keeps_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let job = token_of("board", Role::Service, "billing-job");
    let card = CardId::from_u128(5);
    let create = json!({ "ops": [{ "op": "create_card", "card": card, "kind": "task" }] });
    assert_eq!(
        post_ops(server.addr, "board", &job, create).await.status,
        200
    );
    let votes = json!({ "ops": [{ "op": "increment", "card": card, "field": "votes", "by": 1 }] });
    assert_error(
        &post_ops(server.addr, "board", &job, votes).await,
        403,
        "forbidden",
    );
    // At once: the record may not be written yet; the shutdown writes it before it stops.
    assert!(server.terminate(), "a clean shutdown");
    let server = TestServer::start(dir.path(), CONFIG, 0);
    let admin = token_of("board", Role::Admin, "auditor");
    let all = records(&history(server.addr, "board", "", Some(&admin)).await);
    let verdicts: Vec<(&str, Option<&str>)> = all
        .iter()
        .map(|r| (r["verdict"].as_str().unwrap(), r["code"].as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [("accepted", None), ("rejected", Some("forbidden"))]
    );
}
