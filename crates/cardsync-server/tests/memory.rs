//! Memory bounds: 50 connections each send one maximal frame (the update limit plus framing)
//! at the same moment, into five rooms of the real server with its default limits. The
//! server's peak resident memory (`VmHWM` of `/proc/<pid>/status`) must stay under the bound
//! docs/design.md §10 documents, every sender must get its answer, and the server must go on
//! serving. The frames hold junk, which the screen refuses (`malformed`): what is measured is
//! the cost of reading, queueing and judging big frames, not of documents growing by 200 MB.

mod common;

use cardsync_core::{CardId, Op, Stamp};
use cardsync_sync::protocol::{BatchId, Message, RejectCode};
use cardsync_sync::room::{Role, RoomConfig};
use common::*;
use futures_util::SinkExt as _;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Connections, each sending one maximal frame.
const CONNECTIONS: u64 = 50;

/// The documented bound on the server's peak RSS for this load (docs/design.md §10).
const BOUND_BYTES: u64 = 150 << 20;

/// Peak resident set size of process `pid`, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/<pid>/status");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line: {line}"));
    kb * 1024
}

/// `len` bytes of junk (SplitMix64), which no screen takes for an update.
fn junk(len: usize) -> Vec<u8> {
    let mut state = 0x5eed_u64;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_maximal_frames_at_once_stay_under_the_documented_bound() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let pid = server.child.id();
    let limits = RoomConfig::default();
    let update = junk(limits.max_update_bytes);

    let mut senders = Vec::new();
    for i in 0..CONNECTIONS {
        let doc = format!("big{}", i % 5);
        let mut ws = raw(&server.url(&doc)).await;
        let client = 1_000 + i;
        send(&mut ws, &hello_from(&token(&doc, Role::Editor), client)).await;
        expect_message(&mut ws, |m| {
            matches!(m, Message::Welcome { .. }).then_some(())
        })
        .await;
        let frame = Message::SubmitBatch {
            batch: BatchId { client, seq: 0 },
            update: update.clone(),
        }
        .encode();
        assert!(
            frame.len() <= limits.max_frame_bytes(),
            "a maximal frame, not more"
        );
        assert!(frame.len() > limits.max_update_bytes);
        senders.push((ws, frame));
    }
    let before = peak_rss(pid);
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(senders.len()));
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|(mut ws, frame)| {
            let start = std::sync::Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                ws.send(WsMessage::Binary(frame.into())).await.unwrap();
                expect_message(&mut ws, |m| match m {
                    Message::Reject { code, .. } => Some(code),
                    _ => None,
                })
                .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), RejectCode::Malformed);
    }
    let peak = peak_rss(pid);
    eprintln!(
        "server peak RSS: {:.1} MiB before the frames, {:.1} MiB after (bound {} MiB)",
        before as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        BOUND_BYTES >> 20
    );
    assert!(
        peak < BOUND_BYTES,
        "peak RSS {peak} bytes exceeds the documented bound of {BOUND_BYTES}"
    );

    // The server keeps serving: two native clients of one of those rooms still sync.
    let url = server.url("big0");
    let (a, _) = client(&url, "big0", Role::Editor, None).await;
    let (b, _) = client(&url, "big0", Role::Editor, None).await;
    settled(&a, "a online").await;
    let card = CardId::from_u128(7);
    let create = Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    };
    a.apply(Stamp::new(1, "a"), vec![create]).await.unwrap();
    settled(&a, "a acked").await;
    eventually(&b, "b sees a's card", move |s| {
        s.local().card(card).is_some()
    })
    .await;
}
