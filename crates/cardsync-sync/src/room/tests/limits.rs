//! Limits: each refusal hits only the peer past the limit.

use super::*;
use crate::protocol::{RejectCode, close_code};
use crate::room::{PeerCloseReason, RateLimit};
use std::time::Duration;

fn codes(actions: &[RoomAction], peer: PeerId) -> Vec<RejectCode> {
    to(actions, peer)
        .into_iter()
        .filter_map(|m| match m {
            Message::Reject { code, .. } => Some(code),
            _ => None,
        })
        .collect()
}

#[test]
fn oversize_frame_closes_only_its_peer() {
    let config = RoomConfig {
        max_update_bytes: 1_000,
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(1, "edit", 7);
    d.join(2, "edit", 8);
    let big = Message::Awareness {
        update: vec![0; 2_000],
    };
    let actions = d.send(PeerId(1), &big);
    assert_eq!(
        actions,
        [RoomAction::Close {
            peer: PeerId(1),
            reason: PeerCloseReason::FrameTooLarge
        }]
    );
    assert_eq!(
        PeerCloseReason::FrameTooLarge.ws_code(),
        close_code::MESSAGE_TOO_BIG
    );
    // The other peer carries on.
    let mut bob = Client::new(8);
    let (msg, ..) = bob.batch(&[create_task(1, "todo")]);
    d.send(PeerId(2), &msg);
    let actions = d.persist_all();
    assert!(matches!(to(&actions, PeerId(2))[..], [Message::Ack { .. }]));
}

#[test]
fn oversize_update_is_rejected_too_large() {
    let config = RoomConfig {
        max_update_bytes: 50,
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(1, "edit", 7);
    let mut alice = Client::new(7);
    let (msg, ..) = alice.batch(&[create_task(1, "todo")]);
    // The frame exceeds the frame limit too (the update limit plus framing): the room reads
    // the batch id from its header alone and gives the verdict, so the client rolls the batch
    // back instead of reconnecting to send it again. The peer stays.
    assert!(msg.encode().len() > d.room.config().max_frame_bytes());
    let actions = d.send(PeerId(1), &msg);
    assert_eq!(codes(&actions, PeerId(1)), [RejectCode::TooLarge]);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, RoomAction::Close { .. }))
    );
    let ping = d.send(PeerId(1), &Message::Ping { nonce: 3 });
    assert_eq!(to(&ping, PeerId(1)), [Message::Pong { nonce: 3 }]);
}

#[test]
fn batches_past_the_rate_are_rate_limited() {
    let config = RoomConfig {
        batch_rate: RateLimit {
            burst: 2,
            refill_ms: 1_000,
        },
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(1, "edit", 7);
    d.join(2, "edit", 8);
    let mut alice = Client::new(7);
    let (a, ..) = alice.batch(&[create_task(1, "todo")]);
    let (b, ..) = alice.batch(&[set(1, "title", "b")]);
    let (c, ..) = alice.batch(&[set(1, "title", "c")]);
    assert!(codes(&d.send(PeerId(1), &a), PeerId(1)).is_empty());
    assert!(codes(&d.send(PeerId(1), &b), PeerId(1)).is_empty());
    assert_eq!(
        codes(&d.send(PeerId(1), &c), PeerId(1)),
        [RejectCode::RateLimited]
    );
    // Another peer has its own budget.
    let mut bob = Client::new(8);
    let (msg, ..) = bob.batch(&[create_task(2, "todo")]);
    assert!(codes(&d.send(PeerId(2), &msg), PeerId(2)).is_empty());
    // Retryable: later, the same batch goes through.
    d.now = d.now + Duration::from_secs(1);
    assert!(codes(&d.send(PeerId(1), &c), PeerId(1)).is_empty());
    let fields = d.room.doc().card(card(1)).unwrap().fields;
    assert_eq!(
        fields["title"],
        cardsync_core::FieldValue::Register("c".into())
    );
}

#[test]
fn too_many_rejections_close_the_peer() {
    let config = RoomConfig {
        rejection_rate: RateLimit {
            burst: 2,
            refill_ms: 60_000,
        },
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(2, "view", 8);
    let mut viewer = Client::new(8);
    for i in 0..3 {
        let (msg, ..) = viewer.batch(&[create_task(i, "todo")]);
        let actions = d.send(PeerId(2), &msg);
        assert_eq!(codes(&actions, PeerId(2)).len(), 1);
        let closed = actions.contains(&RoomAction::Close {
            peer: PeerId(2),
            reason: PeerCloseReason::TooManyRejections,
        });
        assert_eq!(closed, i == 2);
    }
}

/// The decode bomb (5 bytes that make unguarded yrs allocate about 0.5 GB, docs/design.md §8)
/// is refused as malformed by the screen before yrs sees it, every time. That it is refused
/// before decoding, and so cheaply, is the screen's own test (`tests/malformed/updates.rs`);
/// no timing is asserted here.
#[test]
fn decode_bomb_is_malformed() {
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "edit", 7);
    for seq in 0..5 {
        let msg = Message::SubmitBatch {
            batch: BatchId { client: 7, seq },
            update: vec![0xab, 0x8e, 0xc5, 0x73, 0x76],
        };
        let actions = d.send(PeerId(1), &msg);
        assert_eq!(codes(&actions, PeerId(1)), [RejectCode::Malformed]);
    }
}

/// A batch that arrives behind a rate-limited one of its client id misses the clocks of its
/// predecessor. That hole is the rate limit's doing: it is refused `RateLimited` (retryable,
/// no cost to the rejection budget), not `DependsOnRejected` (which the client would roll
/// back), and the pair goes through once resent in order.
#[test]
fn a_hole_behind_a_rate_limited_batch_is_rate_limited_too() {
    let config = RoomConfig {
        batch_rate: RateLimit {
            burst: 1,
            refill_ms: 1_000,
        },
        rejection_rate: RateLimit {
            burst: 1,
            refill_ms: 60_000,
        },
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(1, "edit", 7);
    let mut alice = Client::new(7);
    let (a, ..) = alice.batch(&[create_task(1, "todo")]);
    let (b, ..) = alice.batch(&[set(1, "title", "b")]);
    let (c, ..) = alice.batch(&[set(1, "title", "c")]);
    assert!(codes(&d.send(PeerId(1), &a), PeerId(1)).is_empty());
    assert_eq!(
        codes(&d.send(PeerId(1), &b), PeerId(1)),
        [RejectCode::RateLimited]
    );
    for _ in 0..3 {
        // Tokens refilled: `c` is judged, and misses `b`'s clocks.
        d.now = d.now + Duration::from_secs(1);
        let actions = d.send(PeerId(1), &c);
        assert_eq!(codes(&actions, PeerId(1)), [RejectCode::RateLimited]);
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, RoomAction::Close { .. })),
            "no rejection budget spent"
        );
    }
    for msg in [&b, &c] {
        d.now = d.now + Duration::from_secs(1);
        assert!(codes(&d.send(PeerId(1), msg), PeerId(1)).is_empty());
    }
    let fields = d.room.doc().card(card(1)).unwrap().fields;
    assert_eq!(
        fields["title"],
        cardsync_core::FieldValue::Register("c".into())
    );
}

/// Without a rate limit on this connection, a hole is what it always was: a dependent of a
/// batch the room lacks.
#[test]
fn a_hole_without_a_rate_limit_depends_on_rejected() {
    let mut d = Driver::new(RoomConfig::default());
    d.join(1, "edit", 7);
    let mut alice = Client::new(7);
    let (_never_sent, ..) = alice.batch(&[create_task(1, "todo")]);
    let (b, ..) = alice.batch(&[set(1, "title", "b")]);
    assert_eq!(
        codes(&d.send(PeerId(1), &b), PeerId(1)),
        [RejectCode::DependsOnRejected]
    );
}

/// A stock client (no hello) cannot resend a refused update, so past its rate it is never
/// refused: every update is judged and applied, and the room asks the driver to stop reading
/// it until the bucket has a token again, later the more it owes. A cardsync client of the
/// same room is still refused `RateLimited` and resends (the test above).
#[test]
fn a_stock_client_past_the_rate_is_paused_not_refused() {
    let config = RoomConfig {
        batch_rate: RateLimit {
            burst: 2,
            refill_ms: 1_000,
        },
        hello_less_role: Some(Role::Editor),
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    let stock = PeerId(3);
    d.room.handle_connect(d.now, stock).unwrap();
    let mut writer = Client::new(9);
    let pauses = |actions: &[RoomAction]| -> Vec<Instant> {
        actions
            .iter()
            .filter_map(|a| match a {
                RoomAction::Pause { peer, until } if *peer == stock => Some(*until),
                _ => None,
            })
            .collect()
    };
    let mut seen = Vec::new();
    for i in 0..4 {
        let (_, _, applied) = writer.batch(&[create_task(i, "todo")]);
        let update = Message::Update {
            update: applied.update,
        };
        let actions = d.send(stock, &update);
        assert!(codes(&actions, stock).is_empty(), "update {i}: {actions:?}");
        assert_eq!(persists(&actions), 1, "update {i} is applied");
        seen.push(pauses(&actions));
    }
    let start = d.now.as_millis();
    let at = |ms: u64| vec![Instant(start + ms)];
    // The first update leaves a token; the second takes the last one; the next two are owed.
    assert_eq!(seen, [vec![], at(1_000), at(2_000), at(3_000)]);
    for i in 0..4 {
        assert!(d.room.doc().card(card(i)).is_some(), "card {i} arrived");
    }
    // Once the debt is paid, the stock client has its rate again.
    d.now = d.now + Duration::from_secs(3);
    let (_, _, applied) = writer.batch(&[create_task(9, "todo")]);
    let actions = d.send(
        stock,
        &Message::Update {
            update: applied.update,
        },
    );
    assert_eq!(pauses(&actions), at(4_000));
    assert_eq!(persists(&actions), 1);
}

#[test]
fn awareness_over_the_size_or_rate_is_dropped_and_counted_and_the_peer_stays() {
    let config = RoomConfig {
        awareness_rate: RateLimit {
            burst: 3,
            refill_ms: 1_000,
        },
        max_awareness_bytes: 100,
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(1, "edit", 7);
    d.join(2, "view", 8);
    let presence = |clock: u64, json: &str| Message::Awareness {
        update: awareness(11, clock, json),
    };
    // Too large: dropped (not relayed, not remembered), counted; the peer is not closed.
    let big = format!(r#"{{"user":"{}"}}"#, "x".repeat(100));
    assert_eq!(d.send(PeerId(1), &presence(1, &big)), []);
    assert_eq!(d.room.verdicts().awareness_too_large, 1);
    // Within the burst: relayed.
    for clock in 2..5 {
        let actions = d.send(PeerId(1), &presence(clock, r#"{"user":"ada"}"#));
        assert_eq!(
            to(&actions, PeerId(2)),
            [presence(clock, r#"{"user":"ada"}"#)]
        );
    }
    // Past the rate: dropped and counted; the last relayed state is what a newcomer gets.
    assert_eq!(d.send(PeerId(1), &presence(5, r#"{"user":"fast"}"#)), []);
    assert_eq!(d.room.verdicts().awareness_rate_limited, 1);
    let newcomer = d.join(3, "view", 9);
    assert!(newcomer.contains(&presence(4, r#"{"user":"ada"}"#)));
    // A token later it is relayed again, and the peer was never closed.
    d.now = d.now + Duration::from_secs(1);
    let actions = d.send(PeerId(1), &presence(6, r#"{"user":"ada"}"#));
    assert_eq!(to(&actions, PeerId(2)), [presence(6, r#"{"user":"ada"}"#)]);
    let ping = d.send(PeerId(1), &Message::Ping { nonce: 1 });
    assert_eq!(to(&ping, PeerId(1)), [Message::Pong { nonce: 1 }]);
    // Another peer's budget is its own.
    let actions = d.send(
        PeerId(2),
        &Message::Awareness {
            update: awareness(12, 1, r#"{"user":"bob"}"#),
        },
    );
    assert_eq!(to(&actions, PeerId(1)).len(), 1);
}
