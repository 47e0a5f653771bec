//! Untrusted bytes never panic the room, and never change the document unless valid.

use proptest::prelude::*;

use super::*;

fn driver_with_content() -> (Driver, Vec<u8>) {
    let config = RoomConfig {
        rejection_rate: crate::room::RateLimit {
            burst: 0,
            refill_ms: 0,
        },
        batch_rate: crate::room::RateLimit {
            burst: 0,
            refill_ms: 0,
        },
        ..RoomConfig::default()
    };
    let mut d = Driver::new(config);
    d.join(1, "edit", 7);
    let mut alice = Client::new(7);
    let (msg, _, applied) = alice.batch(&[create_task(1, "todo"), set(1, "priority", 2)]);
    d.send(PeerId(1), &msg);
    d.persist_all();
    (d, applied.update)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_frames_never_panic(frame in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (mut d, _) = driver_with_content();
        let before = d.room.doc().export();
        let _ = d.room.handle_message(d.now, PeerId(1), &frame);
        d.drain();
        prop_assert_eq!(d.room.doc().export(), before);
    }

    #[test]
    fn random_updates_never_panic(
        update in proptest::collection::vec(any::<u8>(), 0..200),
        seq in any::<u64>(),
        stock in any::<bool>(),
    ) {
        let (mut d, _) = driver_with_content();
        let msg = if stock {
            Message::Update { update }
        } else {
            Message::SubmitBatch { batch: BatchId { client: 9, seq }, update }
        };
        d.room.handle_message(d.now, PeerId(1), &msg.encode()).unwrap();
        d.persist_all();
    }

    #[test]
    fn mutated_real_updates_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let (mut d, real) = driver_with_content();
        let mut client = Client::new(12);
        client.doc.apply_update_v1(&real).unwrap();
        let (_, _, applied) = client.batch(&[set(1, "title", "x"), set(1, "status", "doing")]);
        let mut update = applied.update;
        for (at, byte) in flips {
            let len = update.len();
            update[at % len] ^= byte;
        }
        let msg = Message::SubmitBatch { batch: BatchId { client: 12, seq: 0 }, update };
        d.room.handle_message(d.now, PeerId(1), &msg.encode()).unwrap();
        d.persist_all();
        // Whatever happened, the room still accepts a valid batch from someone else.
        let mut bob = Client::new(13);
        bob.doc.apply_update_v1(&d.room.doc().snapshot_v1()).unwrap();
        let (msg, batch, _) = bob.batch(&[create_task(2, "todo")]);
        d.room.handle_message(d.now, PeerId(1), &msg.encode()).unwrap();
        let actions = d.persist_all();
        let acked = to(&actions, PeerId(1)).iter().any(|m| matches!(m, Message::Ack { batch: b, .. } if *b == batch));
        prop_assert!(acked);
    }
}
