//! Admission and the sync handshake, for native and stock peers; presence relay.

use cardsync_core::CardDoc;

use super::*;
use crate::room::PeerCloseReason;
use crate::time::Instant;
use std::time::Duration;

#[test]
fn hello_gets_welcome_then_step1_and_step1_gets_step2() {
    let mut d = Driver::new(RoomConfig::default());
    let out = d.join(1, "edit", 7);
    assert_eq!(
        out[0],
        Message::Welcome {
            version: PROTOCOL_VERSION,
            role: "editor".into(),
            max_update_bytes: Some(RoomConfig::default().max_update_bytes as u64),
        }
    );
    assert!(matches!(out[1], Message::SyncStep1 { .. }));
    let client = CardDoc::new(schema(), 7).unwrap();
    let actions = d.send(
        PeerId(1),
        &Message::SyncStep1 {
            state_vector: client.state_vector(),
        },
    );
    assert!(matches!(
        to(&actions, PeerId(1))[..],
        [Message::SyncStep2 { .. }]
    ));
}

/// A session counts its own batches found in a step 2 as acked, so a step 2 must not show
/// what a crash could still lose: asked for while a persist is in flight, it is sent once
/// that persist completes (docs/design.md §5: persist before ack).
#[test]
fn a_step2_waits_for_the_persists_in_flight() {
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "edit", 7);
    let mut alice = Client::new(7);
    let (msg, ..) = alice.batch(&[create_task(1, "todo")]);
    assert_eq!(persists(&d.send(PeerId(1), &msg)), 1);
    // The same client reconnects (its ack not in yet) and asks what the room holds.
    d.room.handle_disconnect(d.now, PeerId(1));
    d.drain();
    d.join(2, "edit", 7);
    let step1 = Message::SyncStep1 {
        state_vector: CardDoc::new(schema(), 7).unwrap().state_vector(),
    };
    assert!(
        to(&d.send(PeerId(2), &step1), PeerId(2)).is_empty(),
        "nothing before the disk has it"
    );
    // Once durable: the batch's broadcast (its sender is gone), then the step 2.
    let out = to(&d.persist_all(), PeerId(2));
    let [Message::Update { .. }, Message::SyncStep2 { update }] = out.as_slice() else {
        panic!("{out:?}")
    };
    let mut replica = CardDoc::new(schema(), 9).unwrap();
    replica.apply_update_v1(update).unwrap();
    assert!(
        replica.card(card(1)).is_some(),
        "the step 2 holds the batch"
    );
    // With nothing in flight, a step 2 goes out at once.
    let out = to(&d.send(PeerId(2), &step1), PeerId(2));
    assert!(matches!(out[..], [Message::SyncStep2 { .. }]));
}

#[test]
fn version_is_the_lower_of_both() {
    let mut d = Driver::new(RoomConfig::default());
    d.room.handle_connect(d.now, PeerId(1)).unwrap();
    let hello = |version| Message::Hello {
        version,
        token: "view".into(),
        client: 1,
    };
    let out = to(&d.send(PeerId(1), &hello(PROTOCOL_VERSION + 5)), PeerId(1));
    assert!(
        matches!(&out[0], Message::Welcome { version, role, .. } if *version == PROTOCOL_VERSION && role == "viewer")
    );
    d.room.handle_connect(d.now, PeerId(2)).unwrap();
    let actions = d.send(PeerId(2), &hello(0));
    assert!(matches!(
        to(&actions, PeerId(2))[..],
        [Message::AuthDenied { .. }]
    ));
}

#[test]
fn bad_token_is_denied_and_closed() {
    let mut d = Driver::new(RoomConfig::default());
    d.room.handle_connect(d.now, PeerId(1)).unwrap();
    let hello = Message::Hello {
        version: 1,
        token: "nope".into(),
        client: 1,
    };
    let actions = d.send(PeerId(1), &hello);
    assert_eq!(
        to(&actions, PeerId(1)),
        [Message::AuthDenied {
            reason: "invalid token".into()
        }]
    );
    assert!(actions.contains(&RoomAction::Close {
        peer: PeerId(1),
        reason: PeerCloseReason::AuthDenied
    }));
    assert_eq!(d.room.peers().count(), 0);
}

#[test]
fn stock_client_is_admitted_with_the_hello_less_role() {
    let mut d = Driver::new(RoomConfig::default());
    d.room.handle_connect(d.now, PeerId(1)).unwrap();
    let stock = CardDoc::new(schema(), 9).unwrap();
    let actions = d.send(
        PeerId(1),
        &Message::SyncStep1 {
            state_vector: stock.state_vector(),
        },
    );
    let out = to(&actions, PeerId(1));
    assert!(matches!(
        out[..],
        [Message::SyncStep1 { .. }, Message::SyncStep2 { .. }]
    ));
    assert_eq!(d.room.peers().next(), Some((PeerId(1), Some(Role::Viewer))));
}

#[test]
fn hello_less_peers_can_be_refused() {
    let config = RoomConfig {
        hello_less_role: None,
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.room.handle_connect(d.now, PeerId(1)).unwrap();
    let actions = d.send(
        PeerId(1),
        &Message::SyncStep1 {
            state_vector: vec![0],
        },
    );
    // A peer with no token at all is told what is missing, not that it should be something
    // else: a stock client can bring a token in the URL.
    let [Message::AuthDenied { reason }] = &to(&actions, PeerId(1))[..] else {
        panic!("{actions:?}");
    };
    assert!(reason.starts_with("token missing"), "{reason}");
    assert!(reason.contains("?token="), "{reason}");
    assert!(matches!(actions.last(), Some(RoomAction::Close { .. })));
}

#[test]
fn connect_with_token_admits_at_once() {
    let mut d = Driver::new(RoomConfig::default());
    d.room
        .handle_connect_with_token(d.now, PeerId(1), "edit")
        .unwrap();
    let out = to(&d.drain(), PeerId(1));
    assert!(matches!(out[..], [Message::SyncStep1 { .. }]));
    assert_eq!(d.room.peers().next(), Some((PeerId(1), Some(Role::Editor))));
    d.room
        .handle_connect_with_token(d.now, PeerId(2), "bad")
        .unwrap();
    assert!(matches!(d.drain().last(), Some(RoomAction::Close { .. })));
}

#[test]
fn silent_peers_time_out() {
    let mut d = Driver::new(RoomConfig::default());
    d.room.handle_connect(d.now, PeerId(1)).unwrap();
    let deadline = d.room.poll_timeout().unwrap();
    let hello_timeout = Duration::from_millis(RoomConfig::default().hello_timeout_ms);
    assert_eq!(deadline, d.now + hello_timeout);
    d.room.handle_timeout(Instant(deadline.as_millis() - 1));
    assert!(d.drain().is_empty());
    d.room.handle_timeout(deadline);
    assert_eq!(
        d.drain(),
        [RoomAction::Close {
            peer: PeerId(1),
            reason: PeerCloseReason::HelloTimeout
        }]
    );
    assert_eq!(d.room.poll_timeout(), None);
    // Frames still in flight from it are refused without effect.
    assert!(d.room.handle_message(d.now, PeerId(1), &[0]).is_err());
    d.room.handle_disconnect(d.now, PeerId(1));
}

#[test]
fn awareness_is_relayed_unchanged_greets_newcomers_and_is_removed_on_leave() {
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "edit", 1);
    d.join(2, "view", 2);
    let frame = Message::Awareness {
        update: awareness(11, 3, r#"{"user":"ada"}"#),
    }
    .encode();
    d.room.handle_message(d.now, PeerId(1), &frame).unwrap();
    let actions = d.drain();
    assert_eq!(
        actions,
        [RoomAction::Send {
            peer: PeerId(2),
            frame: frame.clone().into()
        }]
    );
    // A newcomer gets the current presence right after the handshake.
    let out = d.join(3, "view", 3);
    assert!(out.contains(&Message::Awareness {
        update: awareness(11, 3, r#"{"user":"ada"}"#)
    }));
    // Peer 1 drops: the others learn its state is gone.
    d.room.handle_disconnect(d.now, PeerId(1));
    let removal = Message::Awareness {
        update: awareness(11, 4, "null"),
    };
    let actions = d.drain();
    assert_eq!(to(&actions, PeerId(2)), std::slice::from_ref(&removal));
    assert_eq!(to(&actions, PeerId(3)), [removal]);
}

#[test]
fn ping_gets_pong() {
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "view", 1);
    let actions = d.send(PeerId(1), &Message::Ping { nonce: 42 });
    assert_eq!(to(&actions, PeerId(1)), [Message::Pong { nonce: 42 }]);
}
