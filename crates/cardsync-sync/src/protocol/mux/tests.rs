//! The multiplexed framing round-trips, refuses what is malformed without panicking, and
//! fragments and reassembles large messages.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::protocol::{BatchId, Message};

fn round_trip(frame: MuxFrame) {
    let bytes = Bytes::from(frame.encode());
    assert_eq!(MuxFrame::decode(&bytes, usize::MAX).unwrap(), frame);
}

#[test]
fn every_kind_round_trips() {
    let ack = Message::Ack {
        batch: BatchId { client: 7, seq: 3 },
        clock: 9,
    }
    .encode();
    round_trip(MuxFrame::Message {
        room: RoomId(1),
        body: Bytes::from(ack),
    });
    round_trip(MuxFrame::Fragment {
        room: RoomId(300),
        body: Bytes::from_static(b"piece"),
    });
    round_trip(MuxFrame::Join {
        room: RoomId(2),
        doc: "board-1".into(),
    });
    round_trip(MuxFrame::Leave { room: RoomId(2) });
    for code in MuxErrorCode::ALL {
        round_trip(MuxFrame::Error {
            room: RoomId(5),
            error: MuxError {
                code,
                close_code: 1008,
                reason: "token expired".into(),
            },
        });
    }
}

#[test]
fn a_message_body_is_a_slice_of_the_frame() {
    let frame = Bytes::from(message_frame(RoomId(4), b"inner"));
    let MuxFrame::Message { body, .. } = MuxFrame::decode(&frame, usize::MAX).unwrap() else {
        panic!("not a message");
    };
    assert_eq!(&body[..], b"inner");
    // The same allocation: no copy of the message.
    assert_eq!(body.as_ptr(), frame[frame.len() - 5..].as_ptr());
}

#[test]
fn malformed_frames_are_typed_errors() {
    let decode = |bytes: &[u8]| MuxFrame::decode(&Bytes::copy_from_slice(bytes), usize::MAX);
    assert_eq!(decode(&[]), Err(ProtocolError::Truncated));
    assert_eq!(decode(&[0]), Err(ProtocolError::Truncated));
    assert_eq!(decode(&[9, 1]), Err(ProtocolError::UnknownMuxKind(9)));
    assert_eq!(decode(&[2, 1, 5, b'a']), Err(ProtocolError::Truncated));
    assert_eq!(decode(&[3, 1, 0]), Err(ProtocolError::TrailingBytes(1)));
    assert_eq!(
        decode(&[4, 1, 99, 0, 0]),
        Err(ProtocolError::UnknownMuxError(99))
    );
    assert_eq!(
        MuxFrame::decode(&Bytes::from(leave_frame(RoomId(1))), 1),
        Err(ProtocolError::TooLarge { len: 2, max: 1 })
    );
}

#[test]
fn large_messages_go_in_pieces_and_come_back_whole() {
    let message: Vec<u8> = (0..(FRAGMENT_BYTES * 2 + 10)).map(|i| i as u8).collect();
    let room = RoomId(3);
    let mut reassembly = Reassembly::default();
    let (mut offset, mut pieces, mut whole) = (0, 0, None);
    while offset < message.len() {
        let (frame, next) = next_piece(room, &message, offset);
        assert!(frame.len() <= FRAGMENT_BYTES + MUX_OVERHEAD);
        offset = next;
        pieces += 1;
        match MuxFrame::decode(&Bytes::from(frame), usize::MAX).unwrap() {
            MuxFrame::Fragment { room: r, body } => {
                reassembly.fragment(r, &body, usize::MAX).unwrap();
            }
            MuxFrame::Message { room: r, body } => {
                whole = Some(reassembly.finish(r, body, usize::MAX).unwrap());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(pieces, 3);
    assert_eq!(whole.as_deref(), Some(&message[..]));
    // A small message is one frame, handed on as it is.
    let (frame, end) = next_piece(room, b"ack", 0);
    assert_eq!(end, 3);
    assert_eq!(frame, message_frame(room, b"ack"));
}

#[test]
fn reassembly_is_bounded_and_per_room() {
    let mut reassembly = Reassembly::default();
    reassembly.fragment(RoomId(1), b"abc", 5).unwrap();
    reassembly.fragment(RoomId(2), b"xy", 5).unwrap();
    assert!(matches!(
        reassembly.fragment(RoomId(1), b"def", 5),
        Err(ProtocolError::TooLarge { len: 6, max: 5 })
    ));
    // Room 1's partial message is gone; room 2's is untouched.
    let one = reassembly
        .finish(RoomId(1), Bytes::from_static(b"z"), 5)
        .unwrap();
    assert_eq!(&one[..], b"z");
    let two = reassembly
        .finish(RoomId(2), Bytes::from_static(b"z"), 5)
        .unwrap();
    assert_eq!(&two[..], b"xyz");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes never panic the decoder.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = MuxFrame::decode(&Bytes::from(bytes), usize::MAX);
    }
}
