//! Remote updates that arrive before their predecessors, or that no honest peer writes: what
//! waits stays outside yrs (and in snapshots), and the shapes yrs 0.28.1 mishandles are refused
//! with typed errors before anything changes.

mod common;

use cardsync_core::untrusted::ScreenError;
use cardsync_core::{
    CardDoc, DecodeError, FieldValue, IntegrateError, Value, merge_updates_v1, merge_updates_v2,
};
use common::*;
use yrs::{GetString, Map, ReadTxn, Text, Transact};

/// Whether yrs itself holds nothing pending (the intake keeps it).
fn yrs_holds_nothing_pending(doc: &CardDoc) -> bool {
    let txn = doc.yrs_doc().transact();
    txn.store().pending_update().is_none() && txn.store().pending_ds().is_none()
}

/// A snapshot (v1 and v2) reloads and reads the same.
fn reloads(doc: &CardDoc) -> CardDoc {
    let v1 = CardDoc::load_v1(doc.schema().clone(), 77, &doc.snapshot_v1()).unwrap();
    let v2 = CardDoc::load_v2(doc.schema().clone(), 78, &doc.snapshot_v2()).unwrap();
    assert_eq!(v1.export(), doc.export());
    assert_eq!(v2.export(), doc.export());
    assert_eq!(v1.has_pending_updates(), doc.has_pending_updates());
    v1
}

#[test]
fn updates_that_arrive_early_wait_outside_yrs_and_in_snapshots() {
    let mut alice = doc(1);
    let card = task(&mut alice, 1);
    let first = alice.snapshot_v1();
    let sv = alice.state_vector();
    alice
        .insert_text(&stamp(2), card, "body", 0, "hello")
        .unwrap();
    alice.increment(&stamp(2), card, "votes", 3).unwrap();
    let second = alice.diff_v1(&sv).unwrap();
    let sv = alice.state_vector();
    alice.delete_text(&stamp(3), card, "body", 0, 2).unwrap();
    let third = alice.diff_v1(&sv).unwrap();

    let mut bob = doc(2);
    bob.apply_update_v1(&third).unwrap();
    bob.apply_update_v1(&second).unwrap();
    assert!(bob.has_pending_updates());
    assert!(yrs_holds_nothing_pending(&bob));
    assert!(bob.card(card).is_none());
    // Persisted and reopened, what waits is still there.
    let mut reopened = reloads(&bob);
    assert!(reopened.has_pending_updates());
    for replica in [&mut bob, &mut reopened] {
        replica.apply_update_v1(&first).unwrap();
        assert!(!replica.has_pending_updates());
        assert_eq!(replica.export(), alice.export());
    }
    assert_eq!(
        bob.card(card).unwrap().fields["body"],
        FieldValue::Text("llo".into())
    );
    reloads(&bob);
}

#[test]
fn deletions_of_items_not_yet_received_wait_for_them() {
    let mut alice = doc(1);
    let card = task(&mut alice, 1);
    let mut bob = CardDoc::load_v1(alice.schema().clone(), 2, &alice.snapshot_v1()).unwrap();
    let sv = alice.state_vector();
    alice
        .insert_text(&stamp(2), card, "body", 0, "abc")
        .unwrap();
    let insert = alice.diff_v1(&sv).unwrap();
    // Carol got the insert and deletes a character of it; Bob hears from Carol first.
    let mut carol = CardDoc::load_v1(alice.schema().clone(), 3, &alice.snapshot_v1()).unwrap();
    let sv = carol.state_vector();
    carol.delete_text(&stamp(3), card, "body", 1, 1).unwrap();
    let delete = carol.diff_v1(&sv).unwrap();

    bob.apply_update_v1(&delete).unwrap();
    assert!(bob.has_pending_updates());
    assert!(yrs_holds_nothing_pending(&bob));
    reloads(&bob);
    bob.apply_update_v1(&insert).unwrap();
    assert!(!bob.has_pending_updates());
    assert_eq!(
        bob.card(card).unwrap().fields["body"],
        FieldValue::Text("ac".into())
    );
}

#[test]
fn merging_keeps_what_waits() {
    let mut alice = doc(1);
    task(&mut alice, 1);
    let (first_v1, first_v2) = (alice.snapshot_v1(), alice.snapshot_v2());
    let sv = alice.state_vector();
    task(&mut alice, 2);
    let (second_v1, second_v2) = (alice.diff_v1(&sv).unwrap(), alice.diff_v2(&sv).unwrap());

    let merged = merge_updates_v1(&[&second_v1]).unwrap();
    let waiting = CardDoc::load_v1(alice.schema().clone(), 5, &merged).unwrap();
    assert!(waiting.has_pending_updates());
    let mut both = CardDoc::load_v1(alice.schema().clone(), 6, &first_v1).unwrap();
    both.apply_update_v1(&merged).unwrap();
    assert_eq!(both.export(), alice.export());
    // Out of order within one merge, in v2.
    let merged = merge_updates_v2(&[&second_v2, &first_v2]).unwrap();
    let loaded = CardDoc::load_v2(alice.schema().clone(), 7, &merged).unwrap();
    assert!(!loaded.has_pending_updates());
    assert_eq!(loaded.export(), alice.export());
}

/// A v1 update of client 1: a map entry `k` in root `root`, then (if `mark`) a formatting
/// mark whose left origin is that entry, which would make yrs copy its key.
fn mark_after_map_entry(root: &str, mark: bool) -> Vec<u8> {
    let mut bytes = vec![1, 1 + u8::from(mark), 1, 0];
    // 1#0: info "has key, Any content", named parent, key "k", one string "v".
    bytes.extend([0x28, 1, root.len() as u8]);
    bytes.extend(root.as_bytes());
    bytes.extend([1, b'k', 1, 0x77, 1, b'v']);
    if mark {
        // 1#1: info "has left origin, Format content", origin 1#0, key "bold", value true.
        bytes.extend([0x86, 1, 0, 4]);
        bytes.extend(b"bold");
        bytes.extend([4]);
        bytes.extend(b"true");
    }
    bytes.push(0);
    bytes
}

#[test]
fn formatting_marks_on_map_keys_are_refused() {
    // In one update: yrs would panic reporting key "k" to the cards observer.
    let mut doc = doc(1);
    let before = doc.export();
    let result = doc.apply_update_v1(&mark_after_map_entry("cards", true));
    assert!(
        matches!(
            result,
            Err(DecodeError::Integrate(IntegrateError::FormatOnMapKey {
                client: 1,
                clock: 1
            }))
        ),
        "{result:?}"
    );
    assert_eq!(doc.export(), before);
    assert!(doc.state_vector() == CardDoc::new(schema(), 2).unwrap().state_vector());
    // With the entry already in the document.
    doc.apply_update_v1(&mark_after_map_entry("cards", false))
        .unwrap();
    let mark = {
        let full = mark_after_map_entry("cards", true);
        let entry = mark_after_map_entry("cards", false);
        // The mark alone: client 1 from clock 1.
        let mut bytes = vec![1, 1, 1, 1];
        bytes.extend(&full[entry.len() - 1..full.len() - 1]);
        bytes.push(0);
        bytes
    };
    assert!(matches!(
        doc.apply_update_v1(&mark),
        Err(DecodeError::Integrate(
            IntegrateError::FormatOnMapKey { .. }
        ))
    ));
    // A merge refuses what loading would.
    assert!(merge_updates_v1(&[&mark_after_map_entry("cards", true)]).is_err());
}

/// Client 1's "abcd" in root text "t" as a v1 update, client 2's "X" between the given
/// clocks of client 1 as another, and both in one update.
fn text_and_insert(left: u8, right: u8) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let abcd = [4, 1, 1, b't', 4, b'a', b'b', b'c', b'd'];
    let x = [0xc4, 1, left, 1, right, 1, b'X'];
    let base = [&[1, 1, 1, 0][..], &abcd, &[0]].concat();
    let insert = [&[1, 1, 2, 0][..], &x, &[0]].concat();
    let both = [&[2, 1, 1, 0][..], &abcd, &[1, 2, 0], &x, &[0]].concat();
    (base, insert, both)
}

fn text(doc: &CardDoc) -> String {
    let t = doc.yrs_doc().get_or_insert_text("t");
    t.get_string(&doc.yrs_doc().transact())
}

#[test]
fn inserts_with_origins_out_of_order_are_refused() {
    // The same character twice: the screen sees it in the bytes.
    let (base, insert, _) = text_and_insert(2, 2);
    let mut doc = doc(9);
    doc.apply_update_v1(&base).unwrap();
    assert!(matches!(
        doc.apply_update_v1(&insert),
        Err(DecodeError::Screen(ScreenError::Origins {
            client: 2,
            clock: 0
        }))
    ));
    // Right origin "b" before left origin "d": read from the document...
    let (base, insert, both) = text_and_insert(3, 1);
    let mut doc = self::doc(9);
    doc.apply_update_v1(&base).unwrap();
    let refused = |result| {
        matches!(
            result,
            Err(DecodeError::Integrate(IntegrateError::OriginsOutOfOrder {
                client: 2,
                clock: 0
            }))
        )
    };
    assert!(refused(doc.apply_update_v1(&insert)));
    assert_eq!(text(&doc), "abcd");
    // ...or from one typing run of the same update, which is refused whole.
    let mut doc = self::doc(9);
    assert!(refused(doc.apply_update_v1(&both)));
    assert_eq!(text(&doc), "");
    // Waiting for a predecessor, it is accepted; dropped when it could be integrated.
    let mut doc = self::doc(9);
    doc.apply_update_v1(&insert).unwrap();
    assert!(doc.has_pending_updates());
    reloads(&doc);
    doc.apply_update_v1(&base).unwrap();
    assert_eq!(text(&doc), "abcd");
    assert!(!doc.has_pending_updates());
}

#[test]
fn out_of_order_origins_are_found_in_local_runs_and_without_a_record() {
    let insert = |left: u32, right: u32| {
        let (left, right) = (left as u8, right as u8);
        vec![1, 1, 2, 0, 0xc4, 1, left, 1, right, 1, b'X', 0]
    };
    // Typed here (client 1), recorded from the local transaction.
    let mut doc = doc(1);
    let card = task(&mut doc, 1);
    let op = cardsync_core::Op::InsertText {
        card,
        field: "body".into(),
        index: 0,
        text: "abcd".into(),
        attributes: Default::default(),
    };
    // A second after the creation: the write rewrites `$modified` first.
    let typed = doc.apply_with_origin(&stamp(5_000), &[op], cardsync_core::Origin::Local);
    let start = typed.unwrap().clock.start + 1; // after the `$modified` write
    assert!(matches!(
        doc.apply_update_v1(&insert(start + 3, start + 1)),
        Err(DecodeError::Integrate(
            IntegrateError::OriginsOutOfOrder { .. }
        ))
    ));
    doc.apply_update_v1(&insert(start + 1, start + 2)).unwrap();
    assert_eq!(
        doc.card(card).unwrap().fields["body"],
        FieldValue::Text("abXcd".into())
    );
    // Written straight into yrs, unseen by the intake: positions are read instead.
    let mut doc = self::doc(1);
    let t = doc.yrs_doc().get_or_insert_text("t");
    t.insert(&mut doc.yrs_doc().transact_mut(), 0, "abcd");
    assert!(matches!(
        doc.apply_update_v1(&insert(3, 1)),
        Err(DecodeError::Integrate(
            IntegrateError::OriginsOutOfOrder { .. }
        ))
    ));
    doc.apply_update_v1(&insert(1, 2)).unwrap();
    assert_eq!(text(&doc), "abXcd");
}

#[test]
fn honest_inserts_after_later_typed_characters_are_accepted() {
    // Client 1 types "ac", then "b" between them: "b" (1#2) was typed after "c" (1#1). Client 2
    // then types "X" after "b": its right origin 1#1 precedes its left origin 1#2 in clock
    // order, but not in the text.
    let author = yrs::Doc::with_client_id(1);
    let t = author.get_or_insert_text("t");
    t.insert(&mut author.transact_mut(), 0, "ac");
    t.insert(&mut author.transact_mut(), 1, "b");
    let typed = author
        .transact()
        .encode_state_as_update_v1(&yrs::StateVector::default());
    let other = yrs::Doc::with_client_id(2);
    let t2 = other.get_or_insert_text("t");
    {
        let mut txn = other.transact_mut();
        txn.apply_update(yrs::updates::decoder::Decode::decode_v1(&typed).unwrap())
            .unwrap();
    }
    let sv = other.transact().state_vector();
    t2.insert(&mut other.transact_mut(), 2, "X");
    let insert = other.transact().encode_diff_v1(&sv);

    let mut doc = doc(9);
    doc.apply_update_v1(&typed).unwrap();
    doc.apply_update_v1(&insert).unwrap();
    assert_eq!(text(&doc), "abXc");
    // In one update too.
    let merged = merge_updates_v1(&[&typed, &insert]).unwrap();
    let mut doc = self::doc(9);
    doc.apply_update_v1(&merged).unwrap();
    assert_eq!(text(&doc), "abXc");
    assert_eq!(reloads(&doc).export(), doc.export());
}

#[test]
fn binary_content_is_refused() {
    // A Yjs peer's `map.set("k", new Uint8Array([1]))` in root "cards": yrs writes it back in
    // v2 with its length twice.
    let bytes = [
        1, 1, 1, 0, 0x23, 1, 5, b'c', b'a', b'r', b'd', b's', 1, b'k', 1, 1, 0,
    ];
    assert_eq!(
        cardsync_core::untrusted::screen_update_v1(&bytes),
        Err(ScreenError::Content(3))
    );
    assert!(matches!(
        doc(1).apply_update_v1(&bytes),
        Err(DecodeError::Screen(ScreenError::Content(3)))
    ));
}

#[test]
fn non_finite_numbers_read_as_null() {
    let mut alice = doc(1);
    let card = task(&mut alice, 1);
    // A peer without a validating server stores NaN in a register and a max entry.
    let peer = yrs::Doc::with_client_id(2);
    {
        let mut txn = peer.transact_mut();
        txn.apply_update(yrs::updates::decoder::Decode::decode_v1(&alice.snapshot_v1()).unwrap())
            .unwrap();
    }
    let sv = peer.transact().state_vector();
    {
        use yrs::Map;
        let cards = peer.get_or_insert_map("cards");
        let mut txn = peer.transact_mut();
        let Some(yrs::Out::YMap(map)) = cards.get(&txn, &card.to_string()) else {
            panic!("no card map");
        };
        map.insert(&mut txn, "estimate", f64::NAN);
        let progress = map.insert(&mut txn, "progress", yrs::MapPrelim::default());
        progress.insert(&mut txn, "2", f64::INFINITY);
    }
    let update = peer.transact().encode_diff_v1(&sv);
    alice.apply_update_v1(&update).unwrap();
    let read = alice.card(card).unwrap();
    assert_eq!(read.fields["estimate"], FieldValue::Register(Value::Null));
    assert_eq!(read.fields["progress"], FieldValue::Max(None));
    assert_eq!(alice.export(), alice.export());
}

/// A v1 update of one block of deleted content from client 1, clocks `start..start + len`,
/// whose parent is the item `parent` (client, clock) or, with `None`, the root map "cards".
fn deleted_run(start: u8, len: u32, parent: Option<(u8, u8)>) -> Vec<u8> {
    // One client, one block: client 1 from `start`; info 0x01 = deleted content, no origins.
    let mut bytes = vec![1, 1, 1, start, 0x01];
    match parent {
        Some((client, clock)) => bytes.extend([0, client, clock]),
        None => {
            bytes.extend([1, 5]);
            bytes.extend(b"cards");
        }
    }
    let mut len_var = Vec::new();
    let mut rest = len;
    while rest >= 0x80 {
        len_var.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    len_var.push(rest as u8);
    bytes.extend(len_var);
    bytes.push(0); // no deletions
    bytes
}

#[test]
fn a_block_overlapping_held_clocks_that_waits_is_refused() {
    // Fuzz finding update_v1/reload-revives-deleted-card: a block that runs past the clocks
    // the document holds and waits for a missing parent was kept waiting, but its snapshot
    // merged the tail in as the next value of the last map key ($deleted): the reload showed
    // the deleted card alive.
    let mut alice = doc(1);
    let card = task(&mut alice, 1);
    alice.delete_card(&stamp(2), card).unwrap();
    let held = {
        let txn = alice.yrs_doc().transact();
        txn.state_vector().get(&yrs::block::ClientID::new(1))
    };
    let mut bob = CardDoc::load_v1(alice.schema().clone(), 2, &alice.snapshot_v1()).unwrap();
    let before = bob.export();
    let forged = deleted_run(0, held + 40, Some((9, 9)));
    assert!(
        matches!(
            bob.apply_update_v1(&forged),
            Err(DecodeError::Integrate(
                IntegrateError::PartlyHeldBlockWaits {
                    client: 1,
                    clock: 0
                }
            ))
        ),
        "the overlapping block that waits is refused"
    );
    assert_eq!(bob.export(), before);
    assert!(!bob.has_pending_updates());
    assert!(bob.card(card).unwrap().deleted);
    reloads(&bob);
    // The same block under the parent of the item it continues (the card's map: the last
    // item is the card's `$deleted` entry) integrates now, and live and reloaded agree.
    let card_map = {
        let txn = alice.yrs_doc().transact();
        let cards = txn.get_map("cards").unwrap();
        match cards.get(&txn, &card.to_string()) {
            Some(yrs::Out::YMap(map)) => match map.as_ref().id() {
                yrs::branch::BranchID::Nested(id) => id.clock,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    };
    let mut carol = CardDoc::load_v1(alice.schema().clone(), 3, &alice.snapshot_v1()).unwrap();
    let card_map = u8::try_from(card_map).unwrap();
    // From just below the held clock (after the map: an item cannot name itself as parent).
    let start = u8::try_from(held - 2).unwrap();
    assert!(start > card_map);
    carol
        .apply_update_v1(&deleted_run(start, 40, Some((1, card_map))))
        .unwrap();
    reloads(&carol);
}

#[test]
fn a_block_continuing_a_held_item_under_another_parent_is_refused() {
    // Fuzz finding update_v2/use-after-free-foreign-continuation: a block overlapping the held
    // clocks, naming another parent than the held item it continues. yrs linked its tail
    // after that item (in the card's map) but filed it under the named parent; freeing it
    // with that parent later left a dangling entry (AddressSanitizer: heap-use-after-free).
    let mut alice = doc(1);
    let card = task(&mut alice, 1);
    alice.delete_card(&stamp(2), card).unwrap();
    let held = {
        let txn = alice.yrs_doc().transact();
        txn.state_vector().get(&yrs::block::ClientID::new(1))
    };
    let mut bob = CardDoc::load_v1(alice.schema().clone(), 2, &alice.snapshot_v1()).unwrap();
    let (before, sv) = (bob.export(), bob.state_vector());
    // Named parent: the root "cards", while the held item is a field of the card's map.
    let result = bob.apply_update_v1(&deleted_run(0, held + 40, None));
    assert!(
        matches!(
            result,
            Err(DecodeError::Integrate(
                IntegrateError::ForeignContinuation {
                    client: 1,
                    clock: 0
                }
            ))
        ),
        "{result:?}"
    );
    assert_eq!((bob.export(), bob.state_vector()), (before, sv));
    reloads(&bob);
}

#[test]
fn an_item_whose_parent_in_the_document_is_a_value_is_refused_whole() {
    // Fuzz finding update_v1/half-applied-invalid-parent: yrs refuses an item whose parent is
    // a value (not a shared type) only when it reaches it, with the blocks before it already
    // integrated; the refused update changed the document.
    let entry = |client: u8, key: u8, value: u8| {
        // info 0x28: has key, Any content; named parent "cards"; key; one string.
        let mut bytes = vec![0x28, 1, 5];
        bytes.extend(b"cards");
        bytes.extend([1, key, 1, 0x77, 1, value]);
        let mut update = vec![1, 1, client, 0];
        update.extend(bytes);
        update.push(0);
        update
    };
    let mut doc = doc(1);
    doc.apply_update_v1(&entry(5, b'k', b'v')).unwrap();
    let (before, sv) = (doc.export(), doc.state_vector());
    // Client 6: an entry of its own, then an item whose parent is 5#0, the value "v".
    let mut update = entry(6, b'j', b'w');
    update.pop(); // no deletions yet
    update[1] = 2; // two blocks
    update.extend([0x08, 0, 5, 0, 1, 0x77, 1, b'x', 0]);
    let result = doc.apply_update_v1(&update);
    assert!(
        matches!(
            result,
            Err(DecodeError::Integrate(IntegrateError::InvalidParent {
                client: 6,
                clock: 1
            }))
        ),
        "{result:?}"
    );
    assert_eq!(
        doc.state_vector(),
        sv,
        "nothing of the update was integrated"
    );
    assert_eq!(doc.export(), before);
    reloads(&doc);
}

#[test]
fn an_insert_whose_origins_lie_in_different_parents_is_refused() {
    // Fuzz finding update_v1/origins-in-different-parents: an item between the last character
    // of one text and a character of another. yrs took its parent from the left origin and
    // linked it there, but a reload of the document's own snapshot integrated the blocks in
    // another order and lost the text around it.
    let mut alice = doc(1);
    let (one, two) = (task(&mut alice, 1), task(&mut alice, 2));
    let clock = |doc: &CardDoc| {
        let txn = doc.yrs_doc().transact();
        u8::try_from(txn.state_vector().get(&yrs::block::ClientID::new(1))).unwrap()
    };
    let hello = clock(&alice);
    alice
        .insert_text(&stamp(3), one, "body", 0, "hello")
        .unwrap();
    let other = clock(&alice);
    alice.insert_text(&stamp(4), two, "body", 0, "x").unwrap();
    let mut bob = CardDoc::load_v1(alice.schema().clone(), 2, &alice.snapshot_v1()).unwrap();
    let (before, sv) = (bob.export(), bob.state_vector());
    // Client 13, one block: info 0xc1 (left and right origin, deleted content), left origin
    // 1#(hello + 4) ("o" in card 1's body), right origin 1#other ("x" in card 2's), length 1;
    // no deletions.
    let insert = |left: u8, right: u8| vec![1, 1, 13, 0, 0xc1, 1, left, 1, right, 1, 0];
    let result = bob.apply_update_v1(&insert(hello + 4, other));
    assert!(
        matches!(
            result,
            Err(DecodeError::Integrate(
                IntegrateError::OriginsInDifferentParents {
                    client: 13,
                    clock: 0
                }
            ))
        ),
        "{result:?}"
    );
    assert_eq!((bob.export(), bob.state_vector()), (before, sv));
    // Between "l" and "o" of card 1's body, the same shape is an honest insert.
    bob.apply_update_v1(&insert(hello + 3, hello + 4)).unwrap();
    reloads(&bob);
}

#[test]
fn a_tail_continuing_a_held_item_next_to_another_parent_is_refused() {
    // Fuzz finding update_v1/continued-tail-in-another-parent: a block overlapping the held
    // clocks whose right origin lies in another parent. yrs integrated only its tail, after
    // the last held item (a snapshot then encodes that item as the tail's left origin), while
    // taking its parent from the right origin; the document's own snapshot did not load.
    let mut alice = doc(1);
    let (one, two) = (task(&mut alice, 1), task(&mut alice, 2));
    alice.insert_text(&stamp(3), two, "body", 0, "x").unwrap();
    let x = {
        let txn = alice.yrs_doc().transact();
        u8::try_from(txn.state_vector().get(&yrs::block::ClientID::new(1))).unwrap() - 1
    };
    alice.insert_text(&stamp(4), one, "body", 0, "hi").unwrap();
    let held = x + 3; // "h" and "i" after "x"
    let mut bob = CardDoc::load_v1(alice.schema().clone(), 2, &alice.snapshot_v1()).unwrap();
    let (before, sv) = (bob.export(), bob.state_vector());
    // Client 1 from its last held clock ("i"), two clocks of deleted content: with info
    // 0x41 its right origin is "x" in card 2's body; with 0x81 its left origin is "h".
    let tail = |info: u8, origin: u8| vec![1, 1, 1, held - 1, info, 1, origin, 2, 0];
    let result = bob.apply_update_v1(&tail(0x41, x));
    assert!(
        matches!(
            result,
            Err(DecodeError::Integrate(
                IntegrateError::OriginsInDifferentParents { client: 1, clock }
            )) if clock == u32::from(held - 1)
        ),
        "{result:?}"
    );
    assert_eq!((bob.export(), bob.state_vector()), (before, sv));
    // Continuing "hi" after its own "h", the tail is honest in shape and is taken.
    bob.apply_update_v1(&tail(0x81, held - 2)).unwrap();
    reloads(&bob);
}
