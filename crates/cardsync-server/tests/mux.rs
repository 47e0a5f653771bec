//! Many rooms over one socket (`/ws`, docs/design.md §6): one connection carries a hundred
//! documents with acks, a rejection in one that leaves the others alone, and a leave; every
//! error names its room and leaves the others untouched; a large snapshot in one room does not
//! hold up another room's ack; a flood in one room spends that room's rate budget only.
//!
//! The server is the real binary on 127.0.0.1; the native `MuxClient` drives the hundred
//! documents, and raw sockets speak the framing byte for byte where a test needs a frame no
//! client would send.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use cardsync_client::{ClientConfig, ClientEvent, MuxClient};
use cardsync_core::{CardDoc, CardId, Op, Origin, Stamp, Value};
use cardsync_sync::SyncEvent;
use cardsync_sync::connection::State;
use cardsync_sync::protocol::mux::{self, MuxError, MuxErrorCode, MuxFrame, RoomId};
use cardsync_sync::protocol::{BatchId, Message, RejectCode, close_code};
use cardsync_sync::room::Role;
use common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn mux_url(server: &TestServer) -> String {
    format!("ws://{}/ws", server.addr)
}

async fn write(ws: &mut Raw, frame: Vec<u8>) {
    ws.send(WsMessage::Binary(frame.into())).await.unwrap();
}

async fn join(ws: &mut Raw, room: u64, doc: &str) {
    write(ws, mux::join_frame(RoomId(room), doc)).await;
}

async fn send_in(ws: &mut Raw, room: u64, message: &Message) {
    write(ws, mux::message_frame(RoomId(room), &message.encode())).await;
}

/// Reads frames until `pick` returns something for one (pieces reassembled per room).
async fn read_until<T>(
    ws: &mut Raw,
    mut pick: impl FnMut(RoomId, Result<Message, MuxError>) -> Option<T>,
) -> T {
    let mut reassembly = mux::Reassembly::default();
    within("a multiplexed frame", async {
        loop {
            let bytes: Bytes = match ws.next().await {
                Some(Ok(WsMessage::Binary(bytes))) => bytes,
                Some(Ok(_)) => continue,
                other => panic!("socket ended: {other:?}"),
            };
            let found = match MuxFrame::decode(&bytes, usize::MAX).unwrap() {
                MuxFrame::Message { room, body } => {
                    let whole = reassembly.finish(room, body, usize::MAX).unwrap();
                    pick(room, Ok(Message::decode(&whole, usize::MAX).unwrap()))
                }
                MuxFrame::Fragment { room, body } => {
                    reassembly.fragment(room, &body, usize::MAX).unwrap();
                    None
                }
                MuxFrame::Error { room, error } => pick(room, Err(error)),
                other => panic!("the server sent {other:?}"),
            };
            if let Some(found) = found {
                return found;
            }
        }
    })
    .await
}

async fn expect_error(ws: &mut Raw, room: u64) -> MuxError {
    read_until(ws, |r, m| match m {
        Err(error) if r == RoomId(room) => Some(error),
        Err(error) => panic!("unexpected error for {r}: {error:?}"),
        Ok(_) => None,
    })
    .await
}

/// Joins `doc` as `room` with a hello, and waits for the welcome.
async fn join_welcomed(ws: &mut Raw, room: u64, doc: &str, client: u64) {
    join(ws, room, doc).await;
    send_in(ws, room, &hello_from(&token(doc, Role::Editor), client)).await;
    read_until(ws, |r, m| match m {
        Ok(Message::Welcome { .. }) if r == RoomId(room) => Some(()),
        Err(error) => panic!("{r} refused: {error:?}"),
        _ => None,
    })
    .await;
}

/// Updates from client `client`, each creating a card with a title of `title_len` bytes.
fn updates(client: u64, n: u128, title_len: usize) -> Vec<Vec<u8>> {
    let mut doc = CardDoc::new(schema(), client).unwrap();
    (0..n)
        .map(|i| {
            let create = Op::CreateCard {
                card: CardId::from_u128(u128::from(client) << 64 | i),
                kind: "task".into(),
                fields: [("title".to_owned(), "t".repeat(title_len).into())].into(),
            };
            doc.apply_with_origin(&Stamp::new(1, "t"), &[create], Origin::Local)
                .unwrap()
                .update
        })
        .collect()
}

fn create(card: u128) -> Vec<Op> {
    vec![Op::CreateCard {
        card: CardId::from_u128(card),
        kind: "task".into(),
        fields: [("title".to_owned(), Value::from("hello"))].into(),
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_socket_carries_a_hundred_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let mux = MuxClient::new(mux_url(&server), Arc::new(schema()));
    const VIEWER: usize = 42;
    let mut docs = Vec::new();
    for i in 0..100 {
        let doc = format!("board-{i}");
        let role = if i == VIEWER {
            Role::Viewer
        } else {
            Role::Editor
        };
        let mut config = ClientConfig::new(String::new(), token(&doc, role));
        config.connection = fast_connection();
        docs.push(mux.open_with(&doc, config).await.unwrap());
    }
    for (client, _) in &docs {
        within(
            "every room online",
            client.wait_for(|s| s.connection.state == State::Online),
        )
        .await;
    }
    // A hundred documents, one WebSocket.
    server.connections_settle_at(1).await;
    assert_eq!(server.metrics().await["rooms"], 100);

    for (i, (client, _)) in docs.iter().enumerate() {
        client
            .apply(Stamp::new(1, "me"), create(i as u128 + 1))
            .await
            .unwrap();
    }
    for (i, (client, events)) in docs.iter_mut().enumerate() {
        if i == VIEWER {
            let code = next_event(events, "the viewer's rejection", |e| match e {
                ClientEvent::Sync(SyncEvent::Rejected { rejection, .. }) => Some(rejection.code),
                _ => None,
            })
            .await;
            assert_eq!(code, RejectCode::Forbidden);
            // Rolled back in its room only.
            let gone = client.read(|s| s.local().card(CardId::from_u128(43)).is_none());
            assert!(gone.await.unwrap());
        } else {
            settled(client, "every other room acked").await;
            assert!(client.status().session.last_ack.is_some(), "room {i}");
            assert!(client.status().session.last_rejection.is_none(), "room {i}");
        }
    }
    // The rejection left every room connected, the viewer's too.
    for (client, _) in &docs {
        assert_eq!(client.status().connection.state, State::Online);
    }

    // Leave one room: the others carry on over the same socket.
    let (left, _) = docs.remove(7);
    left.close().await.unwrap();
    let (next, _) = &docs[7];
    next.apply(Stamp::new(2, "me"), create(1_000))
        .await
        .unwrap();
    settled(next, "a write after another room left").await;
    server.connections_settle_at(1).await;
    // Joined again, the room that was left holds what it wrote before.
    let (again, _) = mux
        .open("board-7", token("board-7", Role::Editor))
        .await
        .unwrap();
    eventually(&again, "the rejoined room's card", |s| {
        s.local().card(CardId::from_u128(8)).is_some()
    })
    .await;
    assert_eq!(server.metrics().await["connections"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_their_room_and_leave_the_others_alone() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[limits]\nmax_rooms_per_connection = 4\n[room]\nmax_update_bytes = 65536\n";
    let server = TestServer::start(dir.path(), config, 0);
    let mut ws = raw(&mux_url(&server)).await;
    join_welcomed(&mut ws, 1, "calm", 11).await;

    // A frame for a room never joined.
    send_in(&mut ws, 9, &Message::Ping { nonce: 1 }).await;
    let e = expect_error(&mut ws, 9).await;
    assert_eq!(e.code, MuxErrorCode::UnknownRoom);

    // A join whose hello brings a bad token: the auth message, then the room's error.
    join(&mut ws, 2, "other").await;
    send_in(&mut ws, 2, &hello_from("not-a-token", 12)).await;
    let e = expect_error(&mut ws, 2).await;
    assert_eq!(
        (e.code, e.reason.as_str()),
        (MuxErrorCode::BadToken, "invalid token")
    );
    assert_eq!(e.close_code, close_code::POLICY_VIOLATION);

    // A frame whose header does not decode, and a message that does not.
    write(&mut ws, vec![9, 5]).await;
    let e = expect_error(&mut ws, 5).await;
    assert_eq!(e.code, MuxErrorCode::Malformed);
    join_welcomed(&mut ws, 3, "third", 13).await;
    write(&mut ws, mux::message_frame(RoomId(3), &[0, 1, 5])).await;
    let e = expect_error(&mut ws, 3).await;
    assert_eq!(
        (e.code, e.close_code),
        (MuxErrorCode::Malformed, close_code::PROTOCOL_ERROR)
    );

    // A message over the room's frame limit.
    join_welcomed(&mut ws, 4, "fourth", 14).await;
    let huge = Message::Update {
        update: vec![0; 100_000],
    };
    send_in(&mut ws, 4, &huge).await;
    let e = expect_error(&mut ws, 4).await;
    assert_eq!(
        (e.code, e.close_code),
        (MuxErrorCode::TooLarge, close_code::MESSAGE_TOO_BIG)
    );

    // A room must begin with a hello.
    join(&mut ws, 6, "sixth").await;
    send_in(
        &mut ws,
        6,
        &Message::SyncStep1 {
            state_vector: vec![0],
        },
    )
    .await;
    assert_eq!(expect_error(&mut ws, 6).await.code, MuxErrorCode::Malformed);

    // The cap on rooms: room 1 plus three more, then a refusal.
    for room in 10..13 {
        join_welcomed(&mut ws, room, &format!("cap-{room}"), 100 + room).await;
    }
    join(&mut ws, 13, "one-too-many").await;
    assert_eq!(
        expect_error(&mut ws, 13).await.code,
        MuxErrorCode::TooManyRooms
    );
    // A room id is never reused.
    join(&mut ws, 10, "again").await;
    assert_eq!(
        expect_error(&mut ws, 10).await.code,
        MuxErrorCode::RoomIdInUse
    );

    // Through all that, room 1 still answers, on the same socket.
    send_in(&mut ws, 1, &Message::Ping { nonce: 7 }).await;
    let nonce = read_until(&mut ws, |r, m| match m {
        Ok(Message::Pong { nonce }) if r == RoomId(1) => Some(nonce),
        Err(error) => panic!("{r}: {error:?}"),
        _ => None,
    })
    .await;
    assert_eq!(nonce, 7);
    assert_eq!(server.metrics().await["connections"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_snapshot_does_not_hold_up_another_rooms_ack() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    // A document of 24 MB: 8 cards with 3 MB titles, written over a socket of its own.
    let mut writer = raw(&server.url("big")).await;
    send(&mut writer, &hello_from(&token("big", Role::Editor), 30)).await;
    for (seq, update) in updates(30, 8, 3 << 20).into_iter().enumerate() {
        let batch = BatchId {
            client: 30,
            seq: seq as u64,
        };
        send(&mut writer, &Message::SubmitBatch { batch, update }).await;
        expect_message(&mut writer, |m| {
            matches!(m, Message::Ack { .. }).then_some(())
        })
        .await;
    }
    drop(writer);

    let mut ws = raw(&mux_url(&server)).await;
    join_welcomed(&mut ws, 2, "small", 31).await;
    join_welcomed(&mut ws, 1, "big", 32).await;
    send_in(
        &mut ws,
        1,
        &Message::SyncStep1 {
            state_vector: vec![0],
        },
    )
    .await;
    // Once the snapshot has begun to arrive, submit a batch in the other room, and stop
    // reading a while: the server is blocked on the socket with most of the snapshot unsent.
    within("the snapshot's first piece", async {
        loop {
            if let Some(Ok(WsMessage::Binary(bytes))) = ws.next().await
                && let Ok(MuxFrame::Fragment {
                    room: RoomId(1), ..
                }) = MuxFrame::decode(&bytes, usize::MAX)
            {
                return;
            }
        }
    })
    .await;
    let update = updates(31, 1, 5).remove(0);
    let batch = BatchId { client: 31, seq: 0 };
    send_in(&mut ws, 2, &Message::SubmitBatch { batch, update }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (mut pieces, mut acked_before_end) = (1, None);
    within("the snapshot's end", async {
        loop {
            let Some(Ok(WsMessage::Binary(bytes))) = ws.next().await else {
                continue;
            };
            match MuxFrame::decode(&bytes, usize::MAX).unwrap() {
                MuxFrame::Fragment {
                    room: RoomId(1), ..
                } => pieces += 1,
                MuxFrame::Message {
                    room: RoomId(1), ..
                } => {
                    pieces += 1;
                    acked_before_end.get_or_insert(false);
                    return;
                }
                MuxFrame::Message {
                    room: RoomId(2),
                    body,
                } => {
                    if let Ok(Message::Ack { .. }) = Message::decode(&body, usize::MAX) {
                        acked_before_end.get_or_insert(true);
                    }
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(pieces >= 90, "24 MB in 256 KiB pieces, got {pieces}");
    assert_eq!(
        acked_before_end,
        Some(true),
        "the ack waited for the whole snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_in_one_room_spends_that_rooms_budget_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let mut ws = raw(&mux_url(&server)).await;
    join_welcomed(&mut ws, 1, "flood", 41).await;
    join_welcomed(&mut ws, 2, "calm", 42).await;
    // 400 batches at once in room 1: past its burst of 100, `rate_limited`.
    for (seq, update) in updates(41, 400, 5).into_iter().enumerate() {
        let batch = BatchId {
            client: 41,
            seq: seq as u64,
        };
        send_in(&mut ws, 1, &Message::SubmitBatch { batch, update }).await;
    }
    let update = updates(42, 1, 5).remove(0);
    send_in(
        &mut ws,
        2,
        &Message::SubmitBatch {
            batch: BatchId { client: 42, seq: 0 },
            update,
        },
    )
    .await;
    let (mut limited, mut answered, mut calm) = (0, 0, None);
    read_until(&mut ws, |room, m| {
        match (room, m) {
            (RoomId(1), Ok(Message::Reject { code, .. })) => {
                assert_eq!(code, RejectCode::RateLimited);
                limited += 1;
                answered += 1;
            }
            (RoomId(1), Ok(Message::Ack { .. })) => answered += 1,
            (RoomId(2), Ok(Message::Ack { batch, .. })) => calm = Some(Ok(batch)),
            (RoomId(2), Ok(Message::Reject { code, .. })) => calm = Some(Err(code)),
            (room, Err(error)) => panic!("{room}: {error:?}"),
            _ => {}
        }
        (answered == 400 && calm.is_some()).then_some(())
    })
    .await;
    // Room 1 spent its budget; room 2's batch is acked all the same: budgets are per room.
    assert!(limited >= 200, "only {limited} of 400 refused");
    assert_eq!(calm, Some(Ok(BatchId { client: 42, seq: 0 })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_leaves_the_room_unauthorized_until_a_new_one_comes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let mux = MuxClient::new(mux_url(&server), Arc::new(schema()));
    let secret = cardsync_server::auth::Secret::new(SECRET.to_vec()).unwrap();
    let claims = cardsync_server::auth::Claims {
        doc: "expiring".into(),
        role: Role::Editor,
        exp: cardsync_server::auth::unix_now(),
        sub: None,
    };
    let expired = cardsync_server::auth::mint(&secret, &claims);
    let mut config = ClientConfig::new(String::new(), expired);
    config.connection = fast_connection();
    let (client, _events) = mux.open_with("expiring", config).await.unwrap();
    let (calm, _) = mux.open("calm", token("calm", Role::Editor)).await.unwrap();
    let status = within(
        "unauthorized",
        client.wait_for(|s| s.unauthorized.is_some()),
    )
    .await;
    assert_eq!(status.unauthorized.as_deref(), Some("token expired"));
    // An edit made meanwhile waits; the other document on the socket is unaffected.
    client.apply(Stamp::new(1, "me"), create(1)).await.unwrap();
    calm.apply(Stamp::new(1, "me"), create(2)).await.unwrap();
    settled(&calm, "the other document").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = client.status();
    assert_eq!(status.connection.state, State::Offline, "no reconnect loop");
    assert_eq!(status.session.pending, 1);
    // A fresh token: the client rejoins and the edit lands.
    client.set_token(token("expiring", Role::Editor)).unwrap();
    settled(&client, "the edit after the new token").await;
    assert_eq!(client.status().unauthorized, None);
}

/// A token `exp` seconds from now (0: already expired).
fn token_expiring(doc: &str, exp: u64) -> String {
    use cardsync_server::auth::{Claims, Secret, mint, unix_now};
    let claims = Claims {
        doc: doc.into(),
        role: Role::Editor,
        exp: unix_now() + exp,
        sub: None,
    };
    mint(&Secret::new(SECRET.to_vec()).unwrap(), &claims)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_source_refreshes_an_expired_token_and_a_refusal_does_not_loop() {
    use cardsync_client::TokenSource;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let mux = MuxClient::new(mux_url(&server), Arc::new(schema()));

    // Asked on connect (expired), then after the refusal (fresh): two asks, the edit lands.
    let calls = Arc::new(AtomicUsize::new(0));
    let (expired, fresh) = (
        token_expiring("renewed", 0),
        token_expiring("renewed", 3600),
    );
    let source = {
        let calls = Arc::clone(&calls);
        TokenSource::new(move || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let token = if n == 0 {
                expired.clone()
            } else {
                fresh.clone()
            };
            async move { Some(token) }
        })
    };
    let mut config = ClientConfig::new(String::new(), String::new());
    config.connection = fast_connection();
    config.token_source = Some(source);
    config.online = false;
    let (client, _events) = mux.open_with("renewed", config).await.unwrap();
    client.apply(Stamp::new(1, "me"), create(1)).await.unwrap();
    client.set_online(true).unwrap();
    settled(&client, "the edit after the refresh").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(client.status().unauthorized, None);

    // A source that gives up: unauthorized with the reason, one ask after the refusal, no loop.
    let calls = Arc::new(AtomicUsize::new(0));
    let expired = token_expiring("refused", 0);
    let source = {
        let calls = Arc::clone(&calls);
        TokenSource::new(move || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let token = (n == 0).then(|| expired.clone());
            async move { token }
        })
    };
    let mut config = ClientConfig::new(String::new(), String::new());
    config.connection = fast_connection();
    config.token_source = Some(source);
    let (client, _events) = mux.open_with("refused", config).await.unwrap();
    let status = within(
        "unauthorized",
        client.wait_for(|s| s.unauthorized.is_some()),
    )
    .await;
    assert_eq!(status.unauthorized.as_deref(), Some("token expired"));
    client.apply(Stamp::new(1, "me"), create(2)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "no reconnect loop");
    assert_eq!(client.status().session.pending, 1);
    client.set_token(token_expiring("refused", 3600)).unwrap();
    settled(&client, "the edit after set_token").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
