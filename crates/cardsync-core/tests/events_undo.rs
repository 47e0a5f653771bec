//! Typed events with origins, and undo/redo scoped to local changes.

mod common;

use cardsync_core::{ChangeBatch, ChangeEvent, FieldValue, Origin, SequenceId};
use common::*;

fn drain(doc: &mut cardsync_core::CardDoc) -> Vec<ChangeBatch> {
    std::iter::from_fn(|| doc.poll_changes()).collect()
}

#[test]
fn local_remote_and_undo_events() {
    let (mut a, mut b) = (doc(1), doc(2));
    a.buffer_changes(true);
    b.buffer_changes(true);
    let card = task(&mut a, 1);
    a.increment(&stamp(2), card, "votes", 1).unwrap();
    a.insert_text(&stamp(2), card, "body", 0, "hi").unwrap();
    a.create_sequence(&stamp(3), SequenceId::from_u128(9))
        .unwrap();
    sync(&mut a, &mut b);
    a.delete_card(&stamp(4), card).unwrap();
    assert!(a.undo());

    let a_batches = drain(&mut a);
    assert_eq!(a_batches[0].origin, Origin::Local);
    assert_eq!(
        a_batches[0].events,
        [ChangeEvent::CardCreated {
            card,
            kind: "task".into()
        }]
    );
    assert_eq!(
        a_batches[1].events,
        [ChangeEvent::FieldChanged {
            card,
            field: "votes".into()
        }]
    );
    assert_eq!(
        a_batches[2].events,
        [ChangeEvent::FieldChanged {
            card,
            field: "body".into()
        }]
    );
    let last = a_batches.last().unwrap();
    assert_eq!(last.origin, Origin::Undo);
    assert_eq!(last.events, [ChangeEvent::CardRestored { card }]);

    let b_batches = drain(&mut b);
    assert_eq!(b_batches.len(), 1, "one remote transaction, one batch");
    assert_eq!(b_batches[0].origin, Origin::Remote);
    assert!(b_batches[0].events.contains(&ChangeEvent::CardCreated {
        card,
        kind: "task".into()
    }));
    assert!(b_batches[0].events.contains(&ChangeEvent::SequenceChanged {
        sequence: SequenceId::from_u128(9)
    }));
}

#[test]
fn undo_reverts_only_local_changes() {
    let (mut a, mut b) = (doc(1), doc(2));
    let card = task(&mut a, 1);
    sync(&mut a, &mut b);
    a.increment(&stamp(2), card, "votes", 1).unwrap();
    b.increment(&stamp(2), card, "votes", 10).unwrap();
    sync(&mut a, &mut b);
    assert!(a.undo());
    assert_eq!(
        a.card(card).unwrap().fields["votes"],
        FieldValue::Counter(10)
    );
    assert!(a.redo());
    assert_eq!(
        a.card(card).unwrap().fields["votes"],
        FieldValue::Counter(11)
    );
    assert!(a.can_undo());
    a.clear_undo_history();
    assert!(!a.can_undo() && !a.undo());
    a.increment(&stamp(3), card, "votes", 1).unwrap();
    a.set_undo_enabled(false);
    assert!(!a.undo(), "no history without an undo manager");
    a.set_undo_enabled(true);
    a.increment(&stamp(4), card, "votes", 1).unwrap();
    assert!(a.undo() && !a.undo());
}

#[test]
fn changes_are_kept_only_while_buffering() {
    let mut doc = doc(1);
    task(&mut doc, 1);
    assert!(doc.poll_changes().is_none(), "off by default: nothing kept");
    doc.buffer_changes(true);
    task(&mut doc, 2);
    task(&mut doc, 3);
    assert_eq!(
        drain(&mut doc).len(),
        2,
        "one batch per transaction, in order"
    );
    task(&mut doc, 4);
    doc.buffer_changes(false);
    assert!(
        doc.poll_changes().is_none(),
        "turning it off drops what waited"
    );
}

#[test]
fn the_document_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<cardsync_core::CardDoc>();
}
