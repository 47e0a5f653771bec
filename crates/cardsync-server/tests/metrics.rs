//! `GET /metrics` end to end: the real server's scrape parses as the Prometheus text format
//! and carries the figures ops tools read (rooms, connections, batches acked and rejected by
//! code, ack and store latency histograms, bytes in and out); `/metrics.json` keeps the JSON.

mod common;

use std::collections::HashMap;

use cardsync_core::{CardId, Op, Stamp, Value};
use cardsync_sync::room::Role;
use common::*;
use prometheus_parse::{Sample, Scrape, Value as PromValue};

/// Scrapes `/metrics` over HTTP, checks its content type, and parses it.
fn scrape(addr: std::net::SocketAddr) -> Scrape {
    let mut response = ureq::get(&format!("http://{addr}/metrics")).call().unwrap();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.body_mut().read_to_string().unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    Scrape::parse(lines).unwrap_or_else(|e| panic!("not the exposition format ({e}):\n{text}"))
}

fn find<'a>(scrape: &'a Scrape, name: &str, label: Option<(&str, &str)>) -> &'a Sample {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .unwrap_or_else(|| panic!("no sample {name} {label:?}"))
}

fn number(sample: &Sample) -> f64 {
    match &sample.value {
        PromValue::Counter(v) | PromValue::Gauge(v) | PromValue::Untyped(v) => *v,
        other => panic!("{} is not a number: {other:?}", sample.metric),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_parses_and_counts_acks_rejections_latency_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let addr = server.addr;
    let url = server.url("board");
    let (editor, _) = client(&url, "board", Role::Editor, None).await;
    let (viewer, _) = client(&url, "board", Role::Viewer, None).await;
    settled(&editor, "editor online").await;
    settled(&viewer, "viewer online").await;
    let card = CardId::from_u128(7);
    let create = Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    };
    editor
        .apply(Stamp::new(1, "ed"), vec![create])
        .await
        .unwrap();
    settled(&editor, "the card acked").await;
    eventually(&viewer, "the viewer sees the card", move |s| {
        s.local().card(card).is_some()
    })
    .await;
    let title = Op::SetField {
        card,
        field: "title".into(),
        value: Value::from("hijacked"),
    };
    viewer
        .apply(Stamp::new(2, "vi"), vec![title])
        .await
        .unwrap();
    within("the viewer's rejection", async {
        while server.metrics().await["rejections"] != 1 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;

    let scrape = tokio::task::spawn_blocking(move || scrape(addr))
        .await
        .unwrap();
    let docs: HashMap<_, _> = scrape.docs.clone();
    assert!(
        docs.contains_key("cardsync_ack_latency_seconds"),
        "HELP lines parsed"
    );
    assert_eq!(number(find(&scrape, "cardsync_rooms", None)), 1.0);
    assert_eq!(number(find(&scrape, "cardsync_connections", None)), 2.0);
    assert_eq!(
        number(find(&scrape, "cardsync_batches_acked_total", None)),
        1.0
    );
    let forbidden = find(
        &scrape,
        "cardsync_batches_rejected_total",
        Some(("code", "forbidden")),
    );
    assert_eq!(number(forbidden), 1.0);
    let malformed = find(
        &scrape,
        "cardsync_batches_rejected_total",
        Some(("code", "malformed")),
    );
    assert_eq!(
        number(malformed),
        0.0,
        "every code is present from the start"
    );
    assert!(number(find(&scrape, "cardsync_bytes_received_total", None)) > 0.0);
    assert!(number(find(&scrape, "cardsync_bytes_sent_total", None)) > 0.0);
    assert_eq!(number(find(&scrape, "cardsync_store_available", None)), 1.0);
    for name in [
        "cardsync_ack_latency_seconds",
        "cardsync_store_latency_seconds",
    ] {
        let PromValue::Histogram(buckets) = &find(&scrape, name, None).value else {
            panic!("{name} is not a histogram");
        };
        assert!(
            buckets.len() >= 10,
            "{name}: enough buckets for p50, p90, p99"
        );
        let last = buckets.last().unwrap();
        assert!(
            last.less_than.is_infinite() && last.count >= 1.0,
            "{name}: {buckets:?}"
        );
        assert!(
            buckets.windows(2).all(|w| w[0].count <= w[1].count),
            "{name}: cumulative"
        );
    }
    let acked_latencies = match &find(&scrape, "cardsync_ack_latency_seconds", None).value {
        PromValue::Histogram(b) => b.last().unwrap().count,
        _ => unreachable!(),
    };
    assert_eq!(acked_latencies, 1.0, "one persisted batch, one ack latency");

    // The JSON form stays, with the same counts.
    let json = server.metrics().await;
    assert_eq!(json["batches_acked"], 1);
    assert_eq!(json["rejections_by_code"]["forbidden"], 1);
}
