//! Every op `cardsync_core` can make, and an undo, passes validation: the validator must
//! not refuse what honest clients write.

use cardsync_core::{Attributes, Op, SequenceId};

use super::batches::{rejects, two_peers};
use super::*;

#[test]
fn every_legitimate_op_passes() {
    let (mut d, mut alice) = two_peers();
    let (c1, c2, seq) = (card(1), card(2), SequenceId::from_u128(5));
    let text = |index, text: &str| Op::InsertText {
        card: c1,
        field: "body".into(),
        index,
        text: text.into(),
        attributes: Attributes::new(),
    };
    let steps: Vec<Vec<Op>> = vec![
        vec![create_task(1, "todo"), create_task(2, "todo")],
        vec![
            set(1, "status", "doing"),
            set(1, "priority", 2.5),
            set(1, "title", cardsync_core::Value::Null),
        ],
        vec![text(0, "hello 😀"), text(5, ",")],
        vec![Op::DeleteText {
            card: c1,
            field: "body".into(),
            index: 0,
            len: 2,
        }],
        vec![Op::FormatText {
            card: c1,
            field: "body".into(),
            index: 0,
            len: 2,
            attributes: [("bold".to_owned(), true.into())].into_iter().collect(),
        }],
        vec![Op::Increment {
            card: c1,
            field: "votes".into(),
            by: 3,
        }],
        vec![Op::Increment {
            card: c1,
            field: "votes".into(),
            by: -1,
        }],
        vec![Op::RaiseMax {
            card: c1,
            field: "best".into(),
            value: 4.0,
        }],
        vec![Op::RaiseMax {
            card: c1,
            field: "best".into(),
            value: 9.0,
        }],
        vec![Op::AddToSet {
            card: c1,
            field: "tags".into(),
            item: "a@b".into(),
        }],
        vec![Op::RemoveFromSet {
            card: c1,
            field: "tags".into(),
            item: "a@b".into(),
        }],
        vec![Op::Link {
            from: c1,
            kind: "blocks".into(),
            to: c2,
            properties: [("why".to_owned(), "x".into())].into_iter().collect(),
        }],
        vec![Op::Unlink {
            from: c1,
            kind: "blocks".into(),
            to: c2,
        }],
        vec![Op::Link {
            from: c1,
            kind: "blocks".into(),
            to: c2,
            properties: Attributes::new(),
        }],
        vec![Op::CreateSequence { sequence: seq }],
        vec![
            Op::InsertIntoSequence {
                sequence: seq,
                card: c1,
                index: 0,
            },
            Op::InsertIntoSequence {
                sequence: seq,
                card: c2,
                index: 0,
            },
        ],
        vec![Op::MoveInSequence {
            sequence: seq,
            card: c1,
            index: 0,
        }],
        vec![Op::RemoveFromSequence {
            sequence: seq,
            card: c2,
        }],
        vec![Op::DeleteCard { card: c2 }],
        vec![Op::RestoreCard { card: c2 }],
    ];
    for ops in &steps {
        let (msg, batch, _) = alice.batch(ops);
        let actions = d.send(PeerId(1), &msg);
        assert!(
            rejects(&actions, PeerId(1)).is_empty(),
            "{ops:?}: {:?}",
            to(&actions, PeerId(1))
        );
        let acked = to(&d.persist_all(), PeerId(1));
        assert!(
            matches!(acked[..], [Message::Ack { batch: b, .. }] if b == batch),
            "{ops:?}"
        );
    }
    // Undo produces inverse changes; undoing the last action (a restore) is a legal write too.
    let sv = alice.doc.state_vector();
    assert!(alice.doc.undo());
    let update = alice.doc.diff_v1(&sv).unwrap();
    let batch = BatchId {
        client: 7,
        seq: alice.seq,
    };
    let actions = d.send(PeerId(1), &Message::SubmitBatch { batch, update });
    assert!(
        rejects(&actions, PeerId(1)).is_empty(),
        "{:?}",
        to(&actions, PeerId(1))
    );
    d.persist_all();
    assert_eq!(d.room.doc().export(), alice.doc.export());
}
