//! The wiring, against a real [`Room`] in one thread: what a driver sees for a sync, a batch,
//! a heartbeat, a bad frame and a stale socket.

use std::sync::Arc;

use cardsync_core::{CardId, CardKind, FieldDef, Op, Schema, Stamp, ValueType};

use super::{SyncAction, SyncEvent, SyncMachine};
use crate::connection::{
    CloseCause, Connection, ConnectionConfig, Failure, Instant, SocketId, SplitMix64, State,
};
use crate::outbox::Persisted;
use crate::protocol::Message;
use crate::room::{PeerId, Role, Room, RoomAction, RoomConfig, RoomError, StaticTokens};
use crate::session::{ClientSession, SessionConfig};

fn schema() -> Schema {
    Schema::new(1).card(
        "task",
        CardKind::default().field("title", FieldDef::register(ValueType::String)),
    )
}

fn machine() -> SyncMachine {
    let config = SessionConfig {
        token: "alice".into(),
        ..SessionConfig::default()
    };
    let session = ClientSession::new(
        Arc::new(schema()),
        config,
        Persisted::default(),
        Box::new(SplitMix64::new(7)),
    )
    .unwrap();
    let conn = Connection::new(ConnectionConfig::default(), SplitMix64::new(8)).unwrap();
    SyncMachine::new(session, conn)
}

fn room() -> Room<StaticTokens> {
    let tokens = StaticTokens::default().with("alice", Role::Editor);
    Room::new(
        RoomConfig::default(),
        schema(),
        tokens,
        Vec::<Vec<u8>>::new(),
    )
    .unwrap()
}

/// A driver: persists at once, carries frames both ways until nothing moves, and returns the
/// sockets the machine asked to open and to close, and the events it reported.
#[derive(Default)]
struct Seen {
    opened: Vec<SocketId>,
    closed: Vec<(SocketId, CloseCause)>,
    events: Vec<SyncEvent>,
    pings: usize,
}

fn drive(now: Instant, c: &mut SyncMachine, room: &mut Room<StaticTokens>, seen: &mut Seen) {
    loop {
        let mut moved = false;
        while let Some(action) = c.poll_action() {
            moved = true;
            match action {
                SyncAction::OpenSocket { socket } => seen.opened.push(socket),
                SyncAction::CloseSocket { socket, reason } => {
                    room.handle_disconnect(now, PeerId(socket.0));
                    seen.closed.push((socket, reason));
                }
                SyncAction::Persist { seq, .. } => c.handle_persisted(now, seq),
                SyncAction::Send { socket, frame } => {
                    if matches!(Message::decode(&frame, 1 << 20), Ok(Message::Ping { .. })) {
                        seen.pings += 1;
                    }
                    // A peer the room closed (a refused token) has its later frames refused.
                    if let Err(e) = room.handle_message(now, PeerId(socket.0), &frame) {
                        assert!(matches!(e, RoomError::UnknownPeer(_)), "{e}");
                    }
                }
            }
        }
        while let Some(action) = room.poll_action() {
            moved = true;
            match action {
                RoomAction::Persist { token, .. } => room.handle_persisted(now, token).unwrap(),
                RoomAction::Send { peer, frame } => {
                    let _ = c.handle_frame(now, SocketId(peer.0), &frame);
                }
                RoomAction::Close { .. }
                | RoomAction::Audit(_)
                | RoomAction::Judged(_)
                | RoomAction::Pause { .. } => {}
            }
        }
        while let Some(event) = c.poll_event() {
            moved = true;
            seen.events.push(event);
        }
        if !moved {
            break;
        }
    }
}

/// Starts the machine and opens the socket it asks for; returns that socket.
fn connect(
    now: Instant,
    c: &mut SyncMachine,
    room: &mut Room<StaticTokens>,
    seen: &mut Seen,
) -> SocketId {
    c.handle_start(now);
    drive(now, c, room, seen);
    let socket = *seen.opened.last().expect("start opens a socket");
    room.handle_connect(now, PeerId(socket.0)).unwrap();
    c.handle_socket_opened(now, socket).unwrap();
    drive(now, c, room, seen);
    socket
}

fn create(card: u128) -> Op {
    Op::CreateCard {
        card: CardId::from_u128(card),
        kind: "task".into(),
        fields: Default::default(),
    }
}

#[test]
fn a_sync_step_2_puts_the_connection_online_and_a_batch_is_acked() {
    let (mut c, mut room, mut seen) = (machine(), room(), Seen::default());
    let now = Instant(0);
    connect(now, &mut c, &mut room, &mut seen);
    assert_eq!(c.status(now).connection.state, State::Online);
    assert!(c.status(now).session.server_acks);

    c.apply(now, &Stamp::new(1, "alice"), &[create(1)]).unwrap();
    drive(now, &mut c, &mut room, &mut seen);
    assert_eq!(c.status(now).session.pending, 0);
    assert!(seen.events.iter().any(|e| matches!(e, SyncEvent::Acked(_))));
    assert_eq!(room.doc().export(), c.local().export());
}

#[test]
fn edits_made_offline_are_sent_once_the_socket_opens() {
    let (mut c, mut room, mut seen) = (machine(), room(), Seen::default());
    let now = Instant(0);
    c.apply(now, &Stamp::new(1, "alice"), &[create(1)]).unwrap();
    c.apply(now, &Stamp::new(2, "alice"), &[create(2)]).unwrap();
    drive(now, &mut c, &mut room, &mut seen);
    assert_eq!(c.status(now).session.pending, 2);
    assert!(seen.opened.is_empty(), "not started: no socket");

    connect(now, &mut c, &mut room, &mut seen);
    assert_eq!(c.status(now).session.pending, 0);
    assert_eq!(room.doc().export(), c.local().export());
}

#[test]
fn heartbeats_ping_the_current_socket_and_pongs_feed_the_rtt() {
    let (mut c, mut room, mut seen) = (machine(), room(), Seen::default());
    connect(Instant(0), &mut c, &mut room, &mut seen);
    let due = c.poll_timeout().expect("online: a heartbeat is scheduled");
    c.handle_timeout(due);
    drive(due, &mut c, &mut room, &mut seen);
    assert_eq!(seen.pings, 1);
    assert!(
        c.status(due).connection.rtt.is_some(),
        "the room's pong reached the connection"
    );
    assert_eq!(c.status(due).connection.state, State::Online);
}

#[test]
fn a_frame_that_does_not_decode_drops_the_socket_and_backs_off() {
    let (mut c, mut room, mut seen) = (machine(), room(), Seen::default());
    let now = Instant(0);
    let socket = connect(now, &mut c, &mut room, &mut seen);
    assert!(c.handle_frame(now, socket, &[0xff, 0xff, 0xff]).is_err());
    drive(now, &mut c, &mut room, &mut seen);
    assert!(matches!(
        c.status(now).connection.state,
        State::Backoff { .. }
    ));
    assert_eq!(
        c.status(now).connection.last_failure,
        Some(Failure::SocketError)
    );
    assert_eq!(seen.closed.last().map(|(s, _)| *s), Some(socket));

    // Edits made meanwhile wait, and go out on the next socket.
    c.apply(now, &Stamp::new(1, "alice"), &[create(1)]).unwrap();
    let retry = c.poll_timeout().expect("a retry is scheduled");
    c.handle_timeout(retry);
    drive(retry, &mut c, &mut room, &mut seen);
    let next = *seen.opened.last().unwrap();
    assert_ne!(next, socket);
    room.handle_connect(retry, PeerId(next.0)).unwrap();
    c.handle_socket_opened(retry, next).unwrap();
    drive(retry, &mut c, &mut room, &mut seen);
    assert_eq!(c.status(retry).session.pending, 0);
    assert_eq!(room.doc().export(), c.local().export());
}

#[test]
fn a_stale_socket_that_opens_late_is_closed_and_its_frames_ignored() {
    let (mut c, mut room, mut seen) = (machine(), room(), Seen::default());
    let now = Instant(0);
    c.handle_start(now);
    drive(now, &mut c, &mut room, &mut seen);
    let first = seen.opened[0];
    c.handle_stop(now);
    drive(now, &mut c, &mut room, &mut seen);
    assert!(c.handle_socket_opened(now, first).is_err());
    drive(now, &mut c, &mut room, &mut seen);
    assert_eq!(seen.closed.last().map(|(s, _)| *s), Some(first));
    let hello = Message::Ping { nonce: 1 }.encode();
    assert!(c.handle_frame(now, first, &hello).is_ok());
    assert!(c.poll_action().is_none(), "nothing answers a stale socket");
    assert_eq!(c.status(now).connection.state, State::Offline);
}

#[test]
fn a_refused_token_stops_reconnecting_until_a_new_one_comes_and_loses_no_edit() {
    let (mut c, mut room, mut seen) = (machine(), room(), Seen::default());
    c.set_token(Instant(0), "mallory".into());
    let now = Instant(0);
    connect(now, &mut c, &mut room, &mut seen);
    assert!(
        seen.events
            .iter()
            .any(|e| matches!(e, SyncEvent::AuthDenied(_)))
    );
    let status = c.status(now);
    assert!(status.unauthorized.is_some(), "{status:?}");
    assert_eq!(status.connection.state, State::Offline);
    // An edit made meanwhile waits in the outbox; no timer reopens a socket.
    c.apply(now, &Stamp::new(1, "alice"), &[create(1)]).unwrap();
    drive(now, &mut c, &mut room, &mut seen);
    let opened = seen.opened.len();
    for t in [1_000, 60_000, 600_000] {
        c.handle_timeout(Instant(t));
        drive(Instant(t), &mut c, &mut room, &mut seen);
    }
    assert_eq!(seen.opened.len(), opened, "no reconnect loop");
    assert_eq!(c.status(Instant(600_000)).session.pending, 1);

    // A new token: connects at once, and the edit is acked.
    let now = Instant(600_000);
    c.set_token(now, "alice".into());
    drive(now, &mut c, &mut room, &mut seen);
    assert_eq!(seen.opened.len(), opened + 1);
    let socket = *seen.opened.last().unwrap();
    room.handle_connect(now, PeerId(socket.0)).unwrap();
    c.handle_socket_opened(now, socket).unwrap();
    drive(now, &mut c, &mut room, &mut seen);
    let status = c.status(now);
    assert_eq!(status.unauthorized, None);
    assert_eq!(status.session.pending, 0);
    assert_eq!(room.doc().export(), c.local().export());
}

#[test]
fn a_token_the_app_cannot_supply_shows_unauthorized_and_stays_offline() {
    let (mut c, mut room, mut seen) = (machine(), room(), Seen::default());
    let now = Instant(0);
    c.handle_start(now);
    drive(now, &mut c, &mut room, &mut seen);
    assert_eq!(seen.opened.len(), 1);
    c.handle_token_refused(now, "signed out".into());
    drive(now, &mut c, &mut room, &mut seen);
    assert_eq!(c.status(now).unauthorized.as_deref(), Some("signed out"));
    c.handle_timeout(Instant(60_000));
    drive(Instant(60_000), &mut c, &mut room, &mut seen);
    assert_eq!(seen.opened.len(), 1, "no reconnect loop");
    // Starting again by hand clears it.
    c.handle_start(Instant(60_000));
    drive(Instant(60_000), &mut c, &mut room, &mut seen);
    assert_eq!(c.status(Instant(60_000)).unauthorized, None);
    assert_eq!(seen.opened.len(), 2);
}
