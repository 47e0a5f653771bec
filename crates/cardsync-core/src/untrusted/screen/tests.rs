//! The screen against the bytes that hurt yrs: decode bombs, clocks past what v2 can encode,
//! duplicate delete-set clients and random input are refused before yrs decodes them, and every
//! update a real document makes passes.

use proptest::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

use super::format::*;
use super::*;
use crate::{CardDoc, CardId, CardKind, FieldDef, FieldKind, Schema, SequenceId, Stamp, Value};

/// docs/design.md §8: these 5 bytes make yrs 0.28.1 allocate ~0.5 GB.
const BOMB: [u8; 5] = [0xab, 0x8e, 0xc5, 0x73, 0x76];

/// A v2 header with nine empty columns (the string column holds one empty string).
const V2_EMPTY_COLUMNS: [u8; 11] = [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];

/// The bomb behind a v2 header: the same declared counts, read from v2's "rest" stream.
pub(crate) fn v2_bomb() -> Vec<u8> {
    [&V2_EMPTY_COLUMNS[..], &BOMB].concat()
}

/// A document that has been through every kind of write, and the updates along the way.
fn busy_doc() -> (CardDoc, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let schema = Schema::new(1).card(
        "note",
        CardKind::default()
            .field("title", FieldDef::new(FieldKind::Register))
            .field("body", FieldDef::new(FieldKind::Text))
            .field("votes", FieldDef::new(FieldKind::Counter))
            .field("best", FieldDef::new(FieldKind::Max))
            .field("tags", FieldDef::new(FieldKind::Set)),
    );
    let schema = schema.relationship("links", Default::default());
    let mut doc = CardDoc::new(schema, 42).unwrap();
    let s = Stamp::new(1, "a");
    let (card, other, seq) = (
        CardId::from_u128(1),
        CardId::from_u128(2),
        SequenceId::from_u128(3),
    );
    let (mut v1, mut v2) = (Vec::new(), Vec::new());
    let mut step = |doc: &mut CardDoc, f: &dyn Fn(&mut CardDoc)| {
        let sv = doc.state_vector();
        f(doc);
        v1.push(doc.diff_v1(&sv).unwrap());
        v2.push(doc.diff_v2(&sv).unwrap());
    };
    step(&mut doc, &|d| {
        d.create_card(&s, card, "note", [("title", Value::from("hi"))])
            .unwrap();
        d.create_card(&s, other, "note", []).unwrap();
    });
    step(&mut doc, &|d| {
        d.insert_text(&s, card, "body", 0, "hello 😀 world")
            .unwrap();
        d.format_text(
            &s,
            card,
            "body",
            0,
            5,
            [("bold".into(), true.into())].into(),
        )
        .unwrap();
    });
    step(&mut doc, &|d| {
        d.delete_text(&s, card, "body", 0, 3).unwrap();
        d.increment(&s, card, "votes", 3).unwrap();
        d.raise_max(&s, card, "best", 2.5).unwrap();
        d.add_to_set(&s, card, "tags", "x").unwrap();
        d.set_field(&s, card, "title", Value::Number(1.5)).unwrap();
    });
    step(&mut doc, &|d| {
        d.link(&s, card, "links", other, [("w".into(), 2.into())].into())
            .unwrap();
        d.create_sequence(&s, seq).unwrap();
        d.insert_into_sequence(&s, seq, card, 0).unwrap();
        d.insert_into_sequence(&s, seq, other, 0).unwrap();
        d.move_in_sequence(&s, seq, card, 0).unwrap();
    });
    step(&mut doc, &|d| {
        d.unlink(&s, card, "links", other).unwrap();
        d.remove_from_set(&s, card, "tags", "x").unwrap();
        d.delete_card(&s, other).unwrap();
        assert!(d.undo());
    });
    (doc, v1, v2)
}

#[test]
fn real_updates_pass() {
    let (doc, v1, v2) = busy_doc();
    for update in v1.iter().chain([&doc.snapshot_v1()]) {
        screen_update_v1(update).unwrap();
    }
    for update in v2.iter().chain([&doc.snapshot_v2()]) {
        screen_update_v2(update).unwrap();
    }
    screen_state_vector_v1(&doc.state_vector()).unwrap();
    screen_update_v1(&yrs::Update::new().encode_v1()).unwrap();
    screen_update_v2(&yrs::Update::new().encode_v2()).unwrap();
    screen_update_v2(&[&V2_EMPTY_COLUMNS[..], &[0, 0]].concat()).unwrap();
}

#[test]
fn decode_bomb_is_refused_fast() {
    assert!(matches!(
        screen_update_v1(&BOMB),
        Err(ScreenError::Count { .. })
    ));
    assert!(matches!(
        screen_update_v2(&v2_bomb()),
        Err(ScreenError::Count { .. })
    ));
    assert!(screen_state_vector_v1(&BOMB).is_err());
}

#[test]
fn deep_nesting_and_big_client_ids_are_refused() {
    // One client, one block at clock 0 of client 1: an Any item in root "m" holding
    // 40 nested arrays.
    let mut bytes = vec![1, 1, 1, 0, 8, 1, 1, b'm', 1];
    bytes.extend(std::iter::repeat_n([117, 1], 40).flatten());
    bytes.extend([126, 0]);
    assert_eq!(screen_update_v1(&bytes), Err(ScreenError::TooDeep));
    let sv = [1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0];
    assert!(matches!(
        screen_state_vector_v1(&sv),
        Err(ScreenError::ClientId(_))
    ));
}

#[test]
fn clocks_that_reach_past_2_pow_30_are_refused() {
    // No blocks; a delete set of client 5 with one range of length 1 starting at `start`.
    let v1 = |start: &[u8]| [&[0, 1, 5, 1][..], start, &[1]].concat();
    // v2 stores the length minus one: 0 is a range of 1.
    let v2 = |start: &[u8]| [&V2_EMPTY_COLUMNS[..], &[0, 1, 5, 1], start, &[0]].concat();
    let last = [0xff, 0xff, 0xff, 0xff, 0x03]; // 2^30 - 1: the range ends at 2^30
    assert_eq!(screen_update_v1(&v1(&last)), Ok(()));
    assert_eq!(screen_update_v2(&v2(&last)), Ok(()));
    let past = [0x80, 0x80, 0x80, 0x80, 0x04]; // 2^30
    assert_eq!(
        screen_update_v1(&v1(&past)),
        Err(ScreenError::Clock(1 << 30))
    );
    // v2 writes the start as a gap from the last end, so the refusal names the range's end.
    assert_eq!(
        screen_update_v2(&v2(&past)),
        Err(ScreenError::Clock((1 << 30) + 1))
    );
    let u32_max = [0xff, 0xff, 0xff, 0xff, 0x0f];
    assert_eq!(
        screen_update_v1(&v1(&u32_max)),
        Err(ScreenError::Clock(u64::from(u32::MAX)))
    );
    // An origin clock of 2^30: client 2 writes, at clock 0, one deleted item after 1#2^30.
    let origin = |clock: &[u8]| [&[1, 1, 2, 0, 0x81, 1][..], clock, &[1, 0]].concat();
    assert_eq!(screen_update_v1(&origin(&last)), Ok(()));
    assert_eq!(
        screen_update_v1(&origin(&past)),
        Err(ScreenError::Clock(1 << 30))
    );
    // The same item as yrs writes it in v2: the delta 2^30 loses its top bit there (the fuzz
    // finding), and the origin column reads back 3 * 2^30.
    let v2_origin = yrs::Update::decode_v1(&origin(&past)).unwrap().encode_v2();
    assert_eq!(
        screen_update_v2(&v2_origin),
        Err(ScreenError::Clock(3 << 30))
    );
    // State vectors only ask for a diff: any 32-bit clock is fine there.
    assert_eq!(
        screen_state_vector_v1(&[&[1, 5][..], &u32_max].concat()),
        Ok(())
    );
}

/// A hand-made v2 update: client 1 writes, at clock 0, a string item in root "m" whose text
/// is "😀" (UTF-16 length 2); `len` is the length the string column declares for it.
fn v2_string_item(len: u8) -> Vec<u8> {
    let mut bytes = vec![0, 0]; // feature flag, no key clocks
    bytes.extend([1, 1]); // clients: 1
    bytes.extend([0, 0]); // no left or right clocks
    bytes.extend([1, CONTENT_STRING]); // infos: one string item without origins
    bytes.extend([8, 5, b'm', 0xf0, 0x9f, 0x98, 0x80, 1, len]); // "m😀", lengths 1 and `len`
    bytes.extend([1, 1]); // parent infos: a named root
    bytes.extend([0, 0]); // no type refs or lengths
    bytes.extend([1, 1, 0, 0]); // rest: 1 client with 1 block from clock 0; no deletions
    bytes
}

#[test]
fn v2_string_lengths_must_match_whole_characters() {
    let valid = v2_string_item(2);
    screen_update_v2(&valid).unwrap();
    let update = yrs::Update::decode_v2(&valid).unwrap();
    assert_eq!(update.state_vector().get(&yrs::block::ClientID::new(1)), 2);
    // Ending inside the surrogate pair underflows yrs' count (a debug-build panic)...
    assert_eq!(
        screen_update_v2(&v2_string_item(1)),
        Err(ScreenError::StringLength)
    );
    // ...and running past the data makes yrs read a shorter string than declared.
    assert_eq!(
        screen_update_v2(&v2_string_item(3)),
        Err(ScreenError::StringLength)
    );
}

#[test]
fn foreign_content_is_refused() {
    // A v1 Y.Array root item (type ref 0) and a JSON content item.
    let array = [1, 1, 1, 0, CONTENT_TYPE, 1, 1, b'm', 0, 0];
    assert_eq!(screen_update_v1(&array), Err(ScreenError::SharedType(0)));
    let json = [1, 1, 1, 0, 2, 1, 1, b'm', 0, 0];
    assert_eq!(screen_update_v1(&json), Err(ScreenError::Content(2)));
}

#[test]
fn structural_contradictions_are_refused() {
    // Client 1 listed twice, one string item in root "t" each time.
    let item = [4, 1, 1, b't', 1, b'a'];
    let twice = [&[2, 1, 1, 0][..], &item, &[1, 1, 1], &item, &[0]].concat();
    assert_eq!(
        screen_update_v1(&twice),
        Err(ScreenError::DuplicateClient(1))
    );
    // Client 1's clock 0 after its own clock 0 (left origin).
    let own = [1, 1, 1, 0, 0x84, 1, 0, 1, b'a', 0];
    let causality = ScreenError::Causality {
        client: 1,
        clock: 0,
    };
    assert_eq!(screen_update_v1(&own), Err(causality));
    // Client 2 inserts between client 1's clock 2 and itself.
    let same = [1, 1, 2, 0, 0xc4, 1, 2, 1, 2, 1, b'x', 0];
    let origins = ScreenError::Origins {
        client: 2,
        clock: 0,
    };
    assert_eq!(screen_update_v1(&same), Err(origins.clone()));
    // The same in v2, through yrs' own encoder.
    let v2 = yrs::Update::decode_v1(&same).unwrap().encode_v2();
    assert_eq!(screen_update_v2(&v2), Err(origins));
    // Binary content (a Yjs `Uint8Array` map value) in root "m" under key "k".
    let binary = [1, 1, 1, 0, 0x23, 1, 1, b'm', 1, b'k', 1, 7, 0];
    assert_eq!(screen_update_v1(&binary), Err(ScreenError::Content(3)));
}

/// A delete set that lists client 1 twice: yrs keeps the last list alone (its delete set is a
/// map), while the intake's cuts and the outbox's join take every listed range, so the same
/// bytes deleted more through one path than through another. Found by the `update_v1` fuzz
/// target (`tests/fuzz-regressions/update_v1/delete-set-lists-a-client-twice`).
#[test]
fn a_delete_set_listing_a_client_twice_is_refused() {
    // No blocks; client 1 deletes 28..45, then client 1 again deletes 2..3.
    let twice = [0, 2, 1, 1, 28, 17, 1, 1, 2, 1];
    let decoded = yrs::Update::decode_v1(&twice).unwrap();
    let kept = decoded.delete_set().encode_v1();
    let last_only = [1, 1, 1, 2, 1];
    assert_eq!(kept, last_only, "yrs keeps only the last list of client 1");
    assert_eq!(
        screen_update_v1(&twice),
        Err(ScreenError::DuplicateClient(1))
    );
    // Each list on its own passes.
    assert_eq!(screen_update_v1(&[0, 1, 1, 1, 28, 17]), Ok(()));
}

fn mutations() -> impl Strategy<Value = (bool, Vec<u8>)> {
    let (doc, v1, v2) = busy_doc();
    let mut seeds: Vec<(bool, Vec<u8>)> = v1.into_iter().map(|u| (true, u)).collect();
    seeds.extend(v2.into_iter().map(|u| (false, u)));
    seeds.push((true, doc.snapshot_v1()));
    seeds.push((false, doc.snapshot_v2()));
    (
        proptest::sample::select(seeds),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    )
        .prop_map(|((v1, mut bytes), edits)| {
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            (v1, bytes)
        })
}

proptest! {
    /// The screen itself never panics, and what it passes, yrs decodes without panicking.
    #[test]
    fn mutated_updates_never_panic((v1, bytes) in mutations()) {
        if v1 {
            if screen_update_v1(&bytes).is_ok() {
                let _ = yrs::Update::decode_v1(&bytes);
            }
        } else if screen_update_v2(&bytes).is_ok() {
            let _ = yrs::Update::decode_v2(&bytes);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = screen_update_v1(&bytes);
        let _ = screen_update_v2(&bytes);
        if screen_state_vector_v1(&bytes).is_ok() {
            yrs::StateVector::decode_v1(&bytes).unwrap();
        }
    }
}
