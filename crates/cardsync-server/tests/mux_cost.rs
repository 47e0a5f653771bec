//! What a multiplexed socket saves, measured (not asserted: figures for
//! `benches/results/latest.md`, printed by `cargo test -p cardsync-server --release --test
//! mux_cost -- --ignored --nocapture`, on stderr):
//!
//! - **switch time**: opening an already-known board until its client is online, as a room of
//!   an open `/ws` connection (`MuxClient::open`) against a socket of its own (`Client::open`,
//!   a TCP connect and a WebSocket upgrade first), p50 and p90 over many switches;
//! - **server memory** (the server process's `VmRSS`) per idle room joined over one socket,
//!   and per idle multiplexed connection with no room.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardsync_client::{ClientConfig, MuxClient};
use cardsync_core::{CardId, Op, Stamp, Value};
use cardsync_sync::connection::State;
use cardsync_sync::protocol::mux;
use cardsync_sync::room::Role;
use common::*;
use futures_util::SinkExt as _;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const SWITCHES: usize = 100;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn switch_time_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let mux_url = format!("ws://{}/ws", server.addr);
    // The board: 50 cards, written once.
    let (writer, _) = client(&server.url("board"), "board", Role::Editor, None).await;
    for i in 0..50u128 {
        let fields = [("title".to_owned(), Value::from(format!("card {i}")))].into();
        let create = Op::CreateCard {
            card: CardId::from_u128(i + 1),
            kind: "task".into(),
            fields,
        };
        writer
            .apply(Stamp::new(1, "w"), vec![create])
            .await
            .unwrap();
    }
    settled(&writer, "the board written").await;

    let online = |s: &cardsync_client::SyncStatus| s.connection.state == State::Online;
    let mux = MuxClient::new(&mux_url, Arc::new(schema()));
    let (warm, _) = mux.open("warm", token("warm", Role::Viewer)).await.unwrap();
    within("the shared connection", warm.wait_for(online)).await;
    let (mut over_mux, mut own_socket) = (Vec::new(), Vec::new());
    for _ in 0..SWITCHES {
        let started = Instant::now();
        let (board, _) = mux
            .open("board", token("board", Role::Viewer))
            .await
            .unwrap();
        within("online over the shared socket", board.wait_for(online)).await;
        over_mux.push(started.elapsed());
        board.close().await.unwrap();

        let started = Instant::now();
        let mut config = ClientConfig::new(server.url("board"), token("board", Role::Viewer));
        config.connection = fast_connection();
        let (board, _) = cardsync_client::Client::open(Arc::new(schema()), config)
            .await
            .unwrap();
        within("online over a new socket", board.wait_for(online)).await;
        own_socket.push(started.elapsed());
        board.close().await.unwrap();
    }
    eprintln!(
        "switch to a known board (50 cards), {SWITCHES} switches: open /ws connection p50 {:?} p90 {:?}; new socket p50 {:?} p90 {:?}",
        percentile(&mut over_mux, 0.5),
        percentile(&mut over_mux, 0.9),
        percentile(&mut own_socket, 0.5),
        percentile(&mut own_socket, 0.9),
    );

    // Memory per idle room: 1,000 rooms (1,000 documents) joined over one raw socket.
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    const ROOMS: u64 = 1_000;
    let before = rss_kib(pid);
    let mut ws = raw(&mux_url).await;
    for room in 1..=ROOMS {
        let doc = format!("idle-{room}");
        ws.send(WsMessage::Binary(
            mux::join_frame(mux::RoomId(room), &doc).into(),
        ))
        .await
        .unwrap();
        let hello = hello_from(&token(&doc, Role::Viewer), room).encode();
        ws.send(WsMessage::Binary(
            mux::message_frame(mux::RoomId(room), &hello).into(),
        ))
        .await
        .unwrap();
    }
    within("the rooms loaded", async {
        while server.metrics().await["rooms"].as_u64().unwrap_or(0) < ROOMS {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rooms_rss = rss_kib(pid);

    // Memory per idle connection: 500 multiplexed sockets with no room.
    const SOCKETS: u64 = 500;
    let mut idle = Vec::new();
    for _ in 0..SOCKETS {
        idle.push(raw(&mux_url).await);
    }
    let connections = server.metrics().await["connections"].as_u64().unwrap_or(0);
    assert!(connections > SOCKETS);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sockets_rss = rss_kib(pid);
    eprintln!(
        "server memory (VmRSS): {:.1} KiB per idle room ({ROOMS} rooms over one /ws socket), {:.1} KiB per idle /ws connection ({SOCKETS} sockets, no room)",
        (rooms_rss.saturating_sub(before)) as f64 / ROOMS as f64,
        (sockets_rss.saturating_sub(rooms_rss)) as f64 / SOCKETS as f64,
    );
    drop(idle);
    drop(ws);
}
