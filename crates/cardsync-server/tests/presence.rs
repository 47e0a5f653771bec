//! Presence through the real server (docs/design.md §6, "Presence"): a peer whose socket just
//! stops answering loses its entry for everyone within the idle timeout; awareness over the
//! size limit or a peer's rate is dropped and counted in `/metrics`, and the peer stays; the
//! native client publishes and reads presence, in the encoding raw y-protocols peers read,
//! sends it again after a reconnect and withdraws it on close.
//!
//! The silent peer is a WebSocket this test stops polling: its library answers pings only
//! while it is read, so the server hears nothing from it, exactly as from a tab that died
//! without a close frame (its TCP connection still open).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cardsync_client::{
    ClientEvent, ClientEvents, Cursor, MuxClient, PresenceChange, PresenceState,
};
use cardsync_core::lib0::write_var;
use cardsync_sync::protocol::Message;
use cardsync_sync::room::Role;
use common::*;

/// An awareness update with one entry: `client`, `clock`, the state's JSON text.
fn awareness(client: u64, clock: u64, json: &str) -> Message {
    let mut update = Vec::new();
    write_var(&mut update, 1);
    write_var(&mut update, client);
    write_var(&mut update, clock);
    write_var(&mut update, json.len() as u64);
    update.extend_from_slice(json.as_bytes());
    Message::Awareness { update }
}

/// The JSON state of `client` in an awareness message, if it names that client.
fn state_of(message: &Message, client: u64) -> Option<String> {
    let Message::Awareness { update } = message else {
        return None;
    };
    let mut bytes = update.as_slice();
    let count = cardsync_core::lib0::read_var(&mut bytes).ok()?;
    for _ in 0..count {
        let id = cardsync_core::lib0::read_var(&mut bytes).ok()?;
        let _clock = cardsync_core::lib0::read_var(&mut bytes).ok()?;
        let len = usize::try_from(cardsync_core::lib0::read_var(&mut bytes).ok()?).ok()?;
        let (json, rest) = bytes.split_at_checked(len)?;
        bytes = rest;
        if id == client {
            return Some(String::from_utf8_lossy(json).into_owned());
        }
    }
    None
}

/// A raw peer of `doc` that said hello as an editor.
async fn peer(server: &TestServer, doc: &str, client: u64) -> Raw {
    let mut raw = raw(&server.url(doc)).await;
    send(&mut raw, &hello_from(&token(doc, Role::Editor), client)).await;
    expect_message(&mut raw, |m| {
        matches!(m, Message::Welcome { .. }).then_some(())
    })
    .await;
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_loses_its_presence_within_the_idle_timeout() {
    const IDLE_MS: u64 = 1_500;
    let dir = tempfile::tempdir().unwrap();
    let config = format!("[limits]\nidle_timeout_ms = {IDLE_MS}\n");
    let server = TestServer::start(dir.path(), &config, 0);
    let mut watcher = peer(&server, "board", 1).await;
    let mut ghost = peer(&server, "board", 2).await;
    send(
        &mut ghost,
        &awareness(22, 1, r#"{"user":"ghost","card":"c1"}"#),
    )
    .await;
    let seen = expect_message(&mut watcher, |m| state_of(&m, 22)).await;
    assert_eq!(seen, r#"{"user":"ghost","card":"c1"}"#);

    // From now on the ghost neither reads nor writes: no pong, no close frame, TCP open.
    let went_silent = Instant::now();
    let removal = expect_message(&mut watcher, |m| state_of(&m, 22)).await;
    let took = went_silent.elapsed();
    eprintln!("the silent peer's entry was removed {took:?} after its last frame");
    assert_eq!(
        removal, "null",
        "the others are told the ghost's entry is gone"
    );
    // The bound: the idle timeout after its last frame (plus the server's timer and this
    // machine's scheduling), never the 30 s a client's own expiry would take.
    assert!(
        took <= Duration::from_millis(IDLE_MS + 1_500),
        "removed after {took:?}, over the idle timeout of {IDLE_MS} ms"
    );
    drop(ghost);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awareness_over_the_size_or_the_rate_is_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        "[room]\nmax_awareness_bytes = 200\nawareness_rate = { burst = 2, refill_ms = 60000 }\n";
    let server = TestServer::start(dir.path(), config, 0);
    let mut watcher = peer(&server, "board", 1).await;
    let mut fast = peer(&server, "board", 2).await;

    let big = format!(r#"{{"user":"{}"}}"#, "x".repeat(300));
    send(&mut fast, &awareness(22, 1, &big)).await;
    send(&mut fast, &awareness(22, 2, r#"{"user":"one"}"#)).await;
    send(&mut fast, &awareness(22, 3, r#"{"user":"two"}"#)).await;
    send(&mut fast, &awareness(22, 4, r#"{"user":"three"}"#)).await;
    // The peer stays: a ping is answered after the dropped messages.
    send(&mut fast, &Message::Ping { nonce: 9 }).await;
    expect_message(&mut fast, |m| {
        matches!(m, Message::Pong { nonce: 9 }).then_some(())
    })
    .await;
    // The watcher got the two within the rate, in order, and nothing else of client 22.
    assert_eq!(
        expect_message(&mut watcher, |m| state_of(&m, 22)).await,
        r#"{"user":"one"}"#
    );
    assert_eq!(
        expect_message(&mut watcher, |m| state_of(&m, 22)).await,
        r#"{"user":"two"}"#
    );
    let metrics = server.metrics().await;
    assert_eq!(metrics["awareness_dropped"]["too_large"], 1, "{metrics}");
    assert_eq!(metrics["awareness_dropped"]["rate_limited"], 1, "{metrics}");
    let text = http_get(server.addr, "/metrics").await;
    assert!(
        text.contains("cardsync_awareness_dropped_total{reason=\"rate_limited\"} 1"),
        "{text}"
    );
    // A newcomer gets the last state relayed, not the dropped one.
    let mut late = raw(&server.url("board")).await;
    send(&mut late, &hello_from(&token("board", Role::Viewer), 3)).await;
    assert_eq!(
        expect_message(&mut late, |m| state_of(&m, 22)).await,
        r#"{"user":"two"}"#
    );
}

/// Waits for a client's next presence change.
async fn presence_change(events: &mut ClientEvents, what: &str) -> PresenceChange {
    next_event(events, what, |e| match e {
        ClientEvent::Presence(change) => Some(change),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_clients_publish_and_read_presence_in_the_y_protocols_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let url = server.url("board");
    let (ada, _ada_events) = client(&url, "board", Role::Editor, None).await;
    let (bob, mut bob_events) = client(&url, "board", Role::Viewer, None).await;
    let mut raw_peer = peer(&server, "board", 3).await;
    settled(&ada, "ada online").await;
    settled(&bob, "bob online").await;

    let state = PresenceState {
        user: "ada".into(),
        color: Some("#e91e63".into()),
        card: Some("c1".into()),
        field: Some("title".into()),
        cursor: Some(Cursor { anchor: 2, head: 5 }),
    };
    ada.set_presence(&state).unwrap();
    let change = presence_change(&mut bob_events, "bob to see ada").await;
    assert_eq!(change.added, [ada.presence_client_id()]);
    let [seen] = bob.presence_others().try_into().unwrap();
    assert_eq!(seen.user.as_deref(), Some("ada"));
    assert_eq!(seen.card.as_deref(), Some("c1"));
    assert_eq!(seen.cursor, Some(Cursor { anchor: 2, head: 5 }));
    // A raw peer reads the same JSON the npm client would have sent.
    let json = expect_message(&mut raw_peer, |m| state_of(&m, ada.presence_client_id())).await;
    assert_eq!(
        json,
        r##"{"user":"ada","color":"#e91e63","card":"c1","field":"title","cursor":{"anchor":2,"head":5}}"##
    );
    // A raw y-protocols peer's state (a stock app's `user: { name }`) reaches both clients.
    send(
        &mut raw_peer,
        &awareness(77, 1, r#"{"user":{"name":"stock"}}"#),
    )
    .await;
    presence_change(&mut bob_events, "bob to see the raw peer").await;
    assert!(
        bob.presence_others()
            .iter()
            .any(|p| p.user.as_deref() == Some("stock"))
    );

    // A bad state is refused with the npm client's code, and nothing is sent.
    let empty = PresenceState::default();
    let error = ada.set_presence(&empty).unwrap_err();
    assert!(
        matches!(&error, cardsync_client::ClientError::Presence(e) if e.code() == "invalid_argument")
    );

    // Offline and back: bob drops every entry, and gets them back from the server's snapshot
    // with nothing set again.
    bob.set_online(false).unwrap();
    let change = presence_change(&mut bob_events, "bob's entries dropped").await;
    assert_eq!(change.removed.len(), 2);
    bob.set_online(true).unwrap();
    within("bob to see both again", async {
        while bob.presence_others().len() < 2 {
            presence_change(&mut bob_events, "a change").await;
        }
    })
    .await;

    // Cleared, then set again, then withdrawn by close.
    ada.clear_presence().unwrap();
    let change = presence_change(&mut bob_events, "ada cleared").await;
    assert_eq!(change.removed, [ada.presence_client_id()]);
    ada.set_presence(&state).unwrap();
    presence_change(&mut bob_events, "ada back").await;
    let id = ada.presence_client_id();
    ada.close().await.unwrap();
    let change = presence_change(&mut bob_events, "ada gone on close").await;
    assert_eq!(change.removed, [id]);
    bob.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_document_of_a_multiplexed_connection_has_its_own_presence() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let url = format!("ws://{}/ws", server.addr);
    let (one, two) = (
        MuxClient::new(url.clone(), Arc::new(schema())),
        MuxClient::new(url, Arc::new(schema())),
    );
    let (a1, _) = one.open("one", token("one", Role::Editor)).await.unwrap();
    let (a2, _) = one.open("two", token("two", Role::Editor)).await.unwrap();
    let (b1, mut b1_events) = two.open("one", token("one", Role::Editor)).await.unwrap();
    let (b2, mut b2_events) = two.open("two", token("two", Role::Editor)).await.unwrap();
    for c in [&a1, &a2, &b1, &b2] {
        settled(c, "every document online").await;
    }
    let on = |card: &str| PresenceState {
        user: "ada".into(),
        card: Some(card.into()),
        ..PresenceState::default()
    };
    a1.set_presence(&on("on-one")).unwrap();
    a2.set_presence(&on("on-two")).unwrap();
    presence_change(&mut b1_events, "ada on document one").await;
    presence_change(&mut b2_events, "ada on document two").await;
    assert_eq!(b1.presence_others()[0].card.as_deref(), Some("on-one"));
    assert_eq!(b2.presence_others()[0].card.as_deref(), Some("on-two"));
    // Closing one document's client withdraws its entry there only.
    a1.close().await.unwrap();
    let change = presence_change(&mut b1_events, "ada gone from document one").await;
    assert_eq!(change.removed.len(), 1);
    assert_eq!(b2.presence_others().len(), 1, "still on document two");
}
