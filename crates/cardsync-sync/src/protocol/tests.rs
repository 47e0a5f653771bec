//! The wire codec against itself and against stock yrs: every message round-trips, every
//! truncation and random input is a typed error, and yrs reads our frames as we read its own.

use proptest::prelude::*;
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

use super::*;

const MAX: usize = 1 << 20;

fn batch() -> impl Strategy<Value = BatchId> {
    (any::<u64>(), any::<u64>()).prop_map(|(client, seq)| BatchId { client, seq })
}

fn message() -> impl Strategy<Value = Message> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..64);
    let code = proptest::sample::select(RejectCode::ALL.to_vec());
    prop_oneof![
        bytes().prop_map(|state_vector| Message::SyncStep1 { state_vector }),
        bytes().prop_map(|update| Message::SyncStep2 { update }),
        bytes().prop_map(|update| Message::Update { update }),
        bytes().prop_map(|update| Message::Awareness { update }),
        ".*".prop_map(|reason| Message::AuthDenied { reason }),
        Just(Message::QueryAwareness),
        (any::<u32>(), ".*", any::<u64>()).prop_map(|(version, token, client)| Message::Hello {
            version,
            token,
            client
        }),
        (any::<u32>(), ".*", any::<Option<u64>>()).prop_map(|(version, role, max_update_bytes)| {
            Message::Welcome {
                version,
                role,
                max_update_bytes,
            }
        }),
        (batch(), bytes()).prop_map(|(batch, update)| Message::SubmitBatch { batch, update }),
        (batch(), any::<u32>()).prop_map(|(batch, clock)| Message::Ack { batch, clock }),
        (batch(), code, ".*").prop_map(|(batch, code, reason)| Message::Reject {
            batch,
            code,
            reason
        }),
        any::<u64>().prop_map(|nonce| Message::Ping { nonce }),
        any::<u64>().prop_map(|nonce| Message::Pong { nonce }),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(m in message()) {
        prop_assert_eq!(Message::decode(&m.encode(), MAX), Ok(m));
    }

    #[test]
    fn borrowed_frames_decode_as_their_messages(
        batch in batch(),
        update in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let submit = submit_batch_frame(batch, &update);
        prop_assert_eq!(
            Message::decode(&submit, MAX),
            Ok(Message::SubmitBatch { batch, update: update.clone() })
        );
        prop_assert_eq!(Message::decode(&update_frame(&update), MAX), Ok(Message::Update { update }));
    }

    /// The room's in-place read of an update agrees with the full decode on every frame: the
    /// same batch and update for the three messages that carry one, nothing for the rest, and
    /// nothing for a frame the full decode refuses.
    #[test]
    fn a_borrowed_update_is_the_decoded_one(m in message(), cut in any::<prop::sample::Index>()) {
        let frame = m.encode();
        let expected = match &m {
            Message::SubmitBatch { batch, update } => Some((Some(*batch), update.as_slice())),
            Message::SyncStep2 { update } | Message::Update { update } => Some((None, update.as_slice())),
            _ => None,
        };
        prop_assert_eq!(borrow_update(&frame), expected);
        let prefix = &frame[..cut.index(frame.len().max(1))];
        if Message::decode(prefix, MAX).is_err() {
            prop_assert_eq!(borrow_update(prefix), None);
        }
    }

    #[test]
    fn random_bytes_read_as_an_update_only_if_they_decode_as_one(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        if let Some((batch, update)) = borrow_update(&bytes) {
            let decoded = Message::decode(&bytes, MAX).unwrap();
            match decoded {
                Message::SubmitBatch { batch: b, update: u } => prop_assert_eq!((Some(b), u.as_slice()), (batch, update)),
                Message::SyncStep2 { update: u } | Message::Update { update: u } => prop_assert_eq!((None, u.as_slice()), (batch, update)),
                other => prop_assert!(false, "read an update from {:?}", other),
            }
        }
    }

    #[test]
    fn every_truncation_is_an_error(m in message()) {
        let frame = m.encode();
        for len in 0..frame.len() {
            prop_assert!(Message::decode(&frame[..len], MAX).is_err(), "prefix {} of {:?}", len, m);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Message::decode(&bytes, MAX);
    }

    #[test]
    fn stock_yrs_reads_our_frames(m in message()) {
        // yrs's y-protocols decoder (what a stock yrs or Yjs peer runs) reads every frame:
        // standard ones as themselves, ours as an opaque custom message it can skip. Random
        // bytes are no valid state vector or awareness update, and yrs (a debug_assert on
        // client ids) panics on some, so those two carry no random payload here.
        if matches!(m, Message::SyncStep1 { .. } | Message::Awareness { .. }) {
            return Ok(());
        }
        let decoded = YMessage::decode_v1(&m.encode());
        match (&m, decoded) {
            (Message::SyncStep2 { update }, Ok(YMessage::Sync(SyncMessage::SyncStep2(u)))) => prop_assert_eq!(update, &u),
            (Message::Update { update }, Ok(YMessage::Sync(SyncMessage::Update(u)))) => prop_assert_eq!(update, &u),
            (Message::AuthDenied { reason }, Ok(YMessage::Auth(Some(r)))) => prop_assert_eq!(reason, &r),
            (Message::QueryAwareness, Ok(YMessage::AwarenessQuery)) => {}
            (_, Ok(YMessage::Custom(tag, _))) => prop_assert_eq!(u64::from(tag), MSG_CARDSYNC),
            (m, other) => prop_assert!(false, "{:?} read by yrs as {:?}", m, other),
        }
    }
}

#[test]
fn yrs_frames_decode_here() {
    let doc = yrs::Doc::new();
    let sv = yrs::ReadTxn::state_vector(&yrs::Transact::transact(&doc));
    let frame = YMessage::Sync(SyncMessage::SyncStep1(sv.clone())).encode_v1();
    assert_eq!(
        Message::decode(&frame, MAX),
        Ok(Message::SyncStep1 {
            state_vector: sv.encode_v1()
        })
    );
}

#[test]
fn limits_and_unknowns_are_typed() {
    assert_eq!(
        Message::decode(&[0; 10], 4),
        Err(ProtocolError::TooLarge { len: 10, max: 4 })
    );
    assert_eq!(
        Message::decode(&[7], MAX),
        Err(ProtocolError::UnknownType(7))
    );
    assert_eq!(
        Message::decode(&[0, 9, 0], MAX),
        Err(ProtocolError::UnknownSync(9))
    );
    assert_eq!(
        Message::decode(&[99, 1, 42], MAX),
        Err(ProtocolError::UnknownExtension(42))
    );
    assert_eq!(
        Message::decode(&[99, 2, 2, 1], MAX),
        Err(ProtocolError::Truncated)
    );
    assert_eq!(
        Message::decode(&[3, 0], MAX),
        Err(ProtocolError::TrailingBytes(1))
    );
    assert_eq!(
        Message::decode(&[0xff; 11], MAX),
        Err(ProtocolError::VarIntOverflow)
    );
    // A hostile length prefix fails without allocating.
    assert_eq!(
        Message::decode(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f], MAX),
        Err(ProtocolError::Truncated)
    );
    let reject = Message::Reject {
        batch: BatchId { client: 1, seq: 2 },
        code: RejectCode::Forbidden,
        reason: String::new(),
    };
    let mut frame = reject.encode();
    let at = frame.len() - 2; // the code sits before the empty reason's length byte
    frame[at] = 77;
    assert_eq!(
        Message::decode(&frame, MAX),
        Err(ProtocolError::UnknownRejectCode(77))
    );
}

#[test]
fn an_ack_is_small() {
    let ack = Message::Ack {
        batch: BatchId {
            client: cardsync_core::MAX_CLIENT_ID,
            seq: 1_000,
        },
        clock: 1 << 20,
    };
    assert!(ack.encode().len() <= 16, "{} bytes", ack.encode().len());
}

#[test]
fn the_validator_code_is_appended_to_the_table() {
    // Wire numbers never move: the first seven are version 1's, the validators' code is 7.
    assert_eq!(RejectCode::RateLimited.wire(), 6);
    assert_eq!(RejectCode::RejectedByValidator.wire(), 7);
    assert_eq!(
        RejectCode::from_wire(7),
        Ok(RejectCode::RejectedByValidator)
    );
    assert_eq!(
        RejectCode::RejectedByValidator.as_str(),
        "rejected_by_validator"
    );
    assert!(!RejectCode::RejectedByValidator.is_retryable());
    let json = serde_json::to_string(&RejectCode::RejectedByValidator).unwrap();
    assert_eq!(json, "\"rejected_by_validator\"");
}
