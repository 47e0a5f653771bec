//! The change feed (`GET /docs/{doc}/changes`, Server-Sent Events) over real HTTP against the
//! server binary: every accepted batch once, in sequence order, with its author, ops and
//! update; resumable from `since` or `Last-Event-ID` across a real restart with nothing
//! missed or duplicated; and a reader that stops reading never delays an ack: it is cut off
//! with an error event naming where to resume, and resumes from there without a gap. On
//! PostgreSQL, a feed on one node streams what another node appended.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cardsync_core::{CardDoc, CardId};
use cardsync_sync::room::Role;
use common::*;
use serde_json::{Value as Json, json};

/// One Server-Sent Event.
#[derive(Debug, Clone)]
struct SseEvent {
    event: String,
    id: Option<u64>,
    data: Json,
}

/// A feed being read (blocking; used through `spawn_blocking`).
struct Feed {
    lines: Box<dyn BufRead + Send>,
}

impl Feed {
    /// The next event (keep-alive comments skipped), or `None` at the end of the stream.
    fn next(&mut self) -> Option<SseEvent> {
        let (mut event, mut id, mut data) = (String::from("message"), None, String::new());
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).unwrap_or(0) == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if data.is_empty() {
                    continue;
                }
                let data = serde_json::from_str(&data).unwrap();
                return Some(SseEvent { event, id, data });
            }
            if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_owned();
            } else if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
    }
}

/// Opens the feed; `Err` carries the status and JSON body of a refusal.
fn open(
    addr: SocketAddr,
    doc: &str,
    token: &str,
    query: &str,
    last_event_id: Option<u64>,
) -> Result<Feed, (u16, Json)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent
        .get(&format!("http://{addr}/docs/{doc}/changes{query}"))
        .header("Authorization", &format!("Bearer {token}"));
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", &id.to_string());
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        let body = response.body_mut().read_to_string().unwrap();
        return Err((status, serde_json::from_str(&body).unwrap()));
    }
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let reader = response.into_body().into_reader();
    Ok(Feed {
        lines: Box::new(BufReader::new(reader)),
    })
}

async fn open_feed(addr: SocketAddr, token: &str, query: &str, last: Option<u64>) -> Feed {
    let (token, query) = (token.to_owned(), query.to_owned());
    let opened = tokio::task::spawn_blocking(move || open(addr, "board", &token, &query, last));
    within("the feed to open", opened).await.unwrap().unwrap()
}

/// Reads `n` events.
async fn read(feed: Feed, n: usize) -> (Feed, Vec<SseEvent>) {
    let task = tokio::task::spawn_blocking(move || {
        let mut feed = feed;
        let events: Vec<SseEvent> = (0..n).map_while(|_| feed.next()).collect();
        (feed, events)
    });
    within("feed events", task).await.unwrap()
}

/// Reads to the end of the stream.
async fn read_to_end(feed: Feed) -> Vec<SseEvent> {
    let task = tokio::task::spawn_blocking(move || {
        let mut feed = feed;
        std::iter::from_fn(|| feed.next()).collect::<Vec<_>>()
    });
    within("the feed to end", task).await.unwrap()
}

/// Posts one batch creating card `n` with a title of `size` bytes; returns the status.
async fn post_card(addr: SocketAddr, token: &str, n: u128, size: usize) -> (u16, Json) {
    let card = CardId::from_u128(n);
    let body = json!({ "ops": [{ "op": "create_card", "card": card, "kind": "task",
        "fields": { "title": "x".repeat(size) } }] });
    let token = token.to_owned();
    let task = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .post(&format!("http://{addr}/docs/board/ops"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(&serde_json::to_vec(&body).unwrap()[..])
            .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap())
    });
    within("a posted batch's answer", task).await.unwrap()
}

fn seqs(events: &[SseEvent]) -> Vec<u64> {
    events
        .iter()
        .map(|e| {
            assert_eq!(e.event, "change", "{e:?}");
            assert_eq!(e.id, e.data["seq"].as_u64(), "{e:?}");
            e.id.unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_resumes_across_a_restart_with_nothing_missed_or_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let (job, admin) = (
        token_of("board", Role::Service, "job"),
        token_of("board", Role::Admin, "auditor"),
    );
    for n in 1..=5 {
        assert_eq!(post_card(server.addr, &job, n, 8).await.0, 200);
    }
    let (_, from_start) = read(open_feed(server.addr, &admin, "?since=0", None).await, 5).await;
    assert_eq!(seqs(&from_start), [1, 2, 3, 4, 5]);
    let first = &from_start[0].data;
    assert_eq!(
        first["author"],
        json!({ "subject": "job", "role": "service" })
    );
    assert_eq!(first["verdict"], "accepted");
    assert_eq!(first["ops"][0]["op"], "create_card");
    let mut all = from_start.clone();

    // A live reader from 5 gets 6 and 7 as they commit; the restart ends its stream.
    let live = open_feed(server.addr, &admin, "?since=5", None).await;
    for n in 6..=7 {
        assert_eq!(post_card(server.addr, &job, n, 8).await.0, 200);
    }
    let (live, got) = read(live, 2).await;
    assert_eq!(seqs(&got), [6, 7]);
    all.extend(got);
    assert!(server.terminate(), "a clean shutdown");
    assert!(
        read_to_end(live).await.is_empty(),
        "nothing after the last commit"
    );

    // Restarted on the same store: resume from the last id (Last-Event-ID wins over since).
    let server = TestServer::start(dir.path(), "", 0);
    for n in 8..=10 {
        assert_eq!(post_card(server.addr, &job, n, 8).await.0, 200);
    }
    let resumed = open_feed(server.addr, &admin, "?since=0", Some(7)).await;
    let (resumed, got) = read(resumed, 3).await;
    assert_eq!(seqs(&got), [8, 9, 10]);
    all.extend(got);
    assert_eq!(post_card(server.addr, &job, 11, 8).await.0, 200);
    let (_, got) = read(resumed, 1).await;
    assert_eq!(
        seqs(&got),
        [11],
        "the next event is the next commit, nothing repeated"
    );
    all.extend(got);
    assert_eq!(seqs(&all), (1..=11).collect::<Vec<_>>());

    // The updates rebuild the document.
    let mut doc = CardDoc::new(schema(), 1).unwrap();
    for event in &all {
        let update = STANDARD
            .decode(event.data["update"].as_str().unwrap())
            .unwrap();
        doc.apply_update_v1(&update).unwrap();
    }
    assert!((1..=11).all(|n| doc.card(CardId::from_u128(n)).is_some()));

    // Refusals, as the OpenAPI document describes them: a resume point beyond the head, one
    // that is not a number, a role that may not read the trail.
    let refused = |token: String, query: &str| {
        let path = format!("/docs/board/changes{query}");
        common::openapi::call(
            server.addr,
            "GET",
            "/docs/{doc}/changes",
            path,
            Some(token),
            None,
        )
    };
    let answer = refused(admin.clone(), "?since=99").await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (400, Some("invalid_since"))
    );
    let answer = refused(admin.clone(), "?since=-1").await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let answer = refused(token("board", Role::Editor), "").await;
    assert_eq!(
        (answer.status, answer.body["code"].as_str()),
        (403, Some("forbidden"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_never_delays_an_ack_and_resumes_without_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "[audit]\nfeed_buffer = 4\n", 0);
    let (job, admin) = (
        token_of("board", Role::Service, "job"),
        token_of("board", Role::Admin, "auditor"),
    );
    // Opened, then not read while far more than the socket buffers hold is committed
    // (60 updates of about 300 KB, 24 MB of events in base64).
    let stalled = open_feed(server.addr, &admin, "?since=0", None).await;
    let batches = 60;
    for n in 1..=batches {
        let (status, body) = post_card(server.addr, &job, n, 300_000).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("acked")),
            "batch {n}"
        );
    }
    let events = read_to_end(stalled).await;
    let (cut, changes) = events.split_last().expect("events");
    let got = seqs(changes);
    let resume = cut.data["resume_from"].as_u64().unwrap();
    assert_eq!(
        (cut.event.as_str(), cut.data["code"].as_str()),
        ("error", Some("lagged")),
        "{:?}",
        cut.data
    );
    assert_eq!(
        got,
        (1..=resume).collect::<Vec<_>>(),
        "in order up to the cut"
    );
    assert!(
        resume < batches as u64,
        "the reader was cut off behind the writer"
    );

    let rest = open_feed(server.addr, &admin, &format!("?since={resume}"), None).await;
    let (_, got) = read(rest, (batches as u64 - resume) as usize).await;
    assert_eq!(
        seqs(&got),
        ((resume + 1)..=batches as u64).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_on_one_node_streams_the_batches_of_another_node_in_order() {
    let cluster = common::pg::PgCluster::start();
    let url = cluster.create_database("feed");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let extra = format!("store = {url:?}\n[storage]\nhead_check_ms = 200\n");
    let a = TestServer::start(dir_a.path(), &extra, 0);
    let b = TestServer::start(dir_b.path(), &extra, 0);
    let (job, admin) = (
        token_of("board", Role::Service, "job"),
        token_of("board", Role::Admin, "auditor"),
    );
    let feed = open_feed(a.addr, &admin, "?since=0", None).await;
    // Alternating nodes: node a hears of b's entries from the store (a gap, or its check).
    for n in 1..=6 {
        let node = if n % 2 == 0 { a.addr } else { b.addr };
        assert_eq!(post_card(node, &job, n, 8).await.0, 200);
    }
    let (_, got) = read(feed, 6).await;
    assert_eq!(seqs(&got), [1, 2, 3, 4, 5, 6]);
    for event in &got {
        assert_eq!(event.data["author"]["subject"], "job", "{event:?}");
    }
}
