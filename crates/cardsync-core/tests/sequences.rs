//! Sequences: insert, move, remove, hidden cards, concurrent moves without duplicates.

mod common;

use cardsync_core::{CardDoc, CardId, CardKind, Op, Schema, SequenceId, WriteError};
use common::*;

fn seq() -> SequenceId {
    SequenceId::from_u128(100)
}

fn column(doc: &mut CardDoc, n: u128) -> Vec<CardId> {
    doc.create_sequence(&stamp(0), seq()).unwrap();
    (1..=n)
        .map(|i| {
            let card = task(doc, i);
            doc.insert_into_sequence(&stamp(0), seq(), card, i as u32)
                .unwrap();
            card
        })
        .collect()
}

#[test]
fn insert_move_remove() {
    let mut doc = doc(1);
    let cards = column(&mut doc, 4);
    assert_eq!(doc.sequence(seq()).unwrap(), cards);
    doc.move_in_sequence(&stamp(1), seq(), cards[3], 0).unwrap();
    assert_eq!(
        doc.sequence(seq()).unwrap(),
        [cards[3], cards[0], cards[1], cards[2]]
    );
    doc.move_in_sequence(&stamp(1), seq(), cards[3], 2).unwrap();
    assert_eq!(
        doc.sequence(seq()).unwrap(),
        [cards[0], cards[1], cards[3], cards[2]]
    );
    doc.move_in_sequence(&stamp(1), seq(), cards[0], 99)
        .unwrap();
    assert_eq!(
        doc.sequence(seq()).unwrap(),
        [cards[1], cards[3], cards[2], cards[0]]
    );
    doc.remove_from_sequence(&stamp(1), seq(), cards[3])
        .unwrap();
    assert_eq!(doc.sequence(seq()).unwrap(), [cards[1], cards[2], cards[0]]);

    let errs = [
        (
            Op::InsertIntoSequence {
                sequence: seq(),
                card: cards[0],
                index: 0,
            },
            "already_in_sequence",
        ),
        (
            Op::MoveInSequence {
                sequence: seq(),
                card: cards[3],
                index: 0,
            },
            "not_in_sequence",
        ),
        (
            Op::RemoveFromSequence {
                sequence: SequenceId::from_u128(5),
                card: cards[0],
            },
            "unknown_sequence",
        ),
        (Op::CreateSequence { sequence: seq() }, "sequence_exists"),
    ];
    for (op, code) in errs {
        assert_eq!(doc.apply(&stamp(2), &[op]).unwrap_err().code(), code);
    }
}

#[test]
fn deleted_cards_are_hidden_and_come_back_in_place() {
    let mut doc = doc(1);
    let cards = column(&mut doc, 3);
    doc.delete_card(&stamp(1), cards[1]).unwrap();
    assert_eq!(doc.sequence(seq()).unwrap(), [cards[0], cards[2]]);
    // Indexes count visible cards only.
    doc.move_in_sequence(&stamp(2), seq(), cards[0], 1).unwrap();
    assert_eq!(doc.sequence(seq()).unwrap(), [cards[2], cards[0]]);
    doc.restore_card(&stamp(3), cards[1]).unwrap();
    assert_eq!(doc.sequence(seq()).unwrap().len(), 3);
}

#[test]
fn concurrent_moves_of_one_card_leave_it_once() {
    let (mut a, mut b) = (doc(1), doc(2));
    let cards = column(&mut a, 5);
    sync(&mut a, &mut b);
    a.move_in_sequence(&stamp(1), seq(), cards[2], 0).unwrap();
    b.move_in_sequence(&stamp(1), seq(), cards[2], 4).unwrap();
    // and concurrent inserts at the same place
    let (x, y) = (task(&mut a, 50), task(&mut b, 60));
    a.insert_into_sequence(&stamp(2), seq(), x, 1).unwrap();
    b.insert_into_sequence(&stamp(2), seq(), y, 1).unwrap();
    sync(&mut a, &mut b);
    let order = a.sequence(seq()).unwrap();
    assert_eq!(order, b.sequence(seq()).unwrap());
    assert_eq!(order.len(), 7);
    assert_eq!(order.iter().filter(|c| **c == cards[2]).count(), 1);
    // Something always fits between the two concurrent inserts.
    let at = order
        .iter()
        .position(|c| *c == x)
        .unwrap()
        .min(order.iter().position(|c| *c == y).unwrap());
    let z = task(&mut a, 70);
    a.insert_into_sequence(&stamp(3), seq(), z, at as u32 + 1)
        .unwrap();
    assert_eq!(a.sequence(seq()).unwrap()[at + 1], z);
}

#[test]
fn many_appends_and_moves_keep_a_consistent_order() {
    let mut doc = CardDoc::new(Schema::new(1).card("c", CardKind::default()), 9).unwrap();
    doc.create_sequence(&stamp(0), seq()).unwrap();
    let mut model: Vec<CardId> = Vec::new();
    for i in 0..600u128 {
        let card = CardId::from_u128(i);
        doc.create_card(&stamp(0), card, "c", []).unwrap();
        let at = (i * 7919 % (model.len() as u128 + 1)) as usize;
        doc.insert_into_sequence(&stamp(0), seq(), card, at as u32)
            .unwrap();
        model.insert(at, card);
    }
    for i in 0..600usize {
        let card = model[i * 31 % model.len()];
        let to = i * 17 % model.len();
        doc.move_in_sequence(&stamp(0), seq(), card, to as u32)
            .unwrap();
        model.retain(|c| *c != card);
        model.insert(to, card);
    }
    assert_eq!(doc.sequence(seq()).unwrap(), model);
    // A fresh replica loading the snapshot draws the same order.
    let copy = CardDoc::load_v1(doc.schema().clone(), 10, &doc.snapshot_v1()).unwrap();
    assert_eq!(copy.sequence(seq()).unwrap(), model);
    assert!(matches!(
        doc.insert_into_sequence(&stamp(0), SequenceId::from_u128(1), model[0], 0),
        Err(WriteError::UnknownSequence(_))
    ));
}
