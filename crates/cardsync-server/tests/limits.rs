//! Limits refuse one connection clearly and leave everyone else alone: malformed, oversize
//! and text frames; the room and connection limits of the process.

mod common;

use cardsync_client::ClientEvent;
use cardsync_core::{CardId, Op, Stamp, Value};
use cardsync_sync::SyncEvent;
use cardsync_sync::protocol::{Message, RejectCode, close_code};
use cardsync_sync::room::Role;
use common::*;
use futures_util::SinkExt as _;
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn welcomed(url: &str, doc: &str) -> Raw {
    let mut ws = raw(url).await;
    let hello = hello_from(&token(doc, Role::Editor), 5);
    send(&mut ws, &hello).await;
    expect_message(&mut ws, |m| {
        matches!(m, Message::Welcome { .. }).then_some(())
    })
    .await;
    ws
}

/// Both clients still write and see each other's writes.
async fn still_working(a: &cardsync_client::Client, b: &cardsync_client::Client, n: u128) {
    let card = CardId::from_u128(n);
    let create = Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    };
    a.apply(Stamp::new(n as u64, "a"), vec![create])
        .await
        .unwrap();
    settled(a, "a acked").await;
    eventually(b, "b sees a's card", move |s| {
        s.local().card(card).is_some()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversize_and_text_frames_close_only_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "[room]\nmax_update_bytes = 16320\n", 0);
    let url = server.url("board");
    let (a, _) = client(&url, "board", Role::Editor, None).await;
    let (b, _) = client(&url, "board", Role::Editor, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    still_working(&a, &b, 1).await;

    // A sync message of an unknown sub-type: a protocol error.
    let mut ws = welcomed(&url, "board").await;
    ws.send(WsMessage::Binary(vec![0, 9, 1, 0].into()))
        .await
        .unwrap();
    assert_eq!(
        expect_close(&mut ws).await,
        (close_code::PROTOCOL_ERROR, "malformed".into())
    );
    still_working(&a, &b, 2).await;

    // A frame over the frame limit (16,384 = the update limit plus framing): refused unread.
    let mut ws = welcomed(&url, "board").await;
    ws.send(WsMessage::Binary(vec![0; 20_000].into()))
        .await
        .unwrap();
    assert_eq!(
        expect_close(&mut ws).await,
        (close_code::MESSAGE_TOO_BIG, "frame_too_large".into())
    );
    still_working(&a, &b, 3).await;

    // A frame far over the limit: cut off by the socket layer, still with a close code.
    let mut ws = welcomed(&url, "board").await;
    let _ = ws.send(WsMessage::Binary(vec![0; 1 << 20].into())).await;
    let (code, _) = expect_close(&mut ws).await;
    assert_eq!(code, close_code::MESSAGE_TOO_BIG);
    still_working(&a, &b, 4).await;

    // Text frames are not part of the protocol.
    let mut ws = welcomed(&url, "board").await;
    ws.send(WsMessage::Text("hello".into())).await.unwrap();
    assert_eq!(
        expect_close(&mut ws).await,
        (close_code::UNSUPPORTED_DATA, "binary frames only".into())
    );
    still_working(&a, &b, 5).await;

    // A submit batch whose update is the yrs decode bomb: rejected, connection kept.
    let mut ws = welcomed(&url, "board").await;
    let batch = cardsync_sync::protocol::BatchId { client: 5, seq: 0 };
    send(
        &mut ws,
        &Message::SubmitBatch {
            batch,
            update: vec![0xab, 0x8e, 0xc5, 0x73, 0x76],
        },
    )
    .await;
    let code = expect_message(&mut ws, |m| match m {
        Message::Reject { code, .. } => Some(code),
        _ => None,
    })
    .await;
    assert_eq!(code, cardsync_sync::protocol::RejectCode::Malformed);
    send(&mut ws, &Message::Ping { nonce: 9 }).await;
    expect_message(&mut ws, |m| (m == Message::Pong { nonce: 9 }).then_some(())).await;
    still_working(&a, &b, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_and_connection_limits_refuse_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "[limits]\nmax_rooms = 1\nmax_connections = 3\n";
    let server = TestServer::start(dir.path(), extra, 0);
    let (a, _) = client(&server.url("one"), "one", Role::Editor, None).await;
    let (b, _) = client(&server.url("one"), "one", Role::Editor, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;

    let mut ws = raw(&server.url("two")).await;
    let (code, reason) = expect_close(&mut ws).await;
    assert_eq!(code, close_code::TRY_AGAIN_LATER);
    assert!(reason.contains("room limit"), "{reason}");
    drop(ws);
    // A refused connection holds its slot until the server has seen it close, which races
    // the next connection on a busy machine.
    server.connections_settle_at(2).await;
    still_working(&a, &b, 1).await;

    // The third connection fits; the fourth does not.
    let _third = welcomed(&server.url("one"), "one").await;
    let mut fourth = raw(&server.url("one")).await;
    let (code, reason) = expect_close(&mut fourth).await;
    assert_eq!(code, close_code::TRY_AGAIN_LATER);
    assert!(reason.contains("connection limit (3)"), "{reason}");
    still_working(&a, &b, 2).await;
}

/// A batch far past the room's limit (here 200 KB against 16 KB, past what the socket layer
/// reads at all): the client knows the limit from its welcome, refuses the batch itself as
/// `too_large` and rolls it back. Before, the server closed the socket with 1009 and the
/// client sent the batch again after every reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_past_the_frame_limit_is_refused_by_its_client_without_a_reconnect() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "[room]\nmax_update_bytes = 16320\n", 0);
    let url = server.url("board");
    let (a, mut events) = client(&url, "board", Role::Editor, None).await;
    let (b, _) = client(&url, "board", Role::Editor, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;
    let socket = a.status().connection.socket;
    let card = CardId::from_u128(7);
    let create = Op::CreateCard {
        card,
        kind: "task".into(),
        fields: [("title".to_owned(), Value::from("x".repeat(200_000)))].into(),
    };
    let batch = a
        .apply(Stamp::new(1, "a"), vec![create])
        .await
        .unwrap()
        .unwrap();
    let (rejected, code) = next_event(&mut events, "the rejection", |e| match e {
        ClientEvent::Sync(SyncEvent::Rejected { rejection, .. }) => {
            Some((rejection.batch, rejection.code))
        }
        _ => None,
    })
    .await;
    assert_eq!((rejected, code), (batch, RejectCode::TooLarge));
    assert!(
        !a.read(move |s| s.local().card(card).is_some())
            .await
            .unwrap()
    );
    still_working(&a, &b, 8).await;
    let status = a.status();
    assert_eq!(status.connection.socket, socket, "no reconnect");
    assert_eq!(status.connection.last_failure, None);
}
