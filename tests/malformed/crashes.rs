//! Crashes found by the loops of the other modules, kept and replayed by name (docs/design.md §7).
//! Each was minimized by hand or by byte removal; all are panics (or, for one, a divergence)
//! inside yrs 0.28.1 reached through the core's public API with untrusted bytes.

use std::sync::Arc;

use yrs::{GetString, Transact};

use cardsync_core::{CardDoc, DecodeError, OpenError, merge_updates_v1, merge_updates_v2};

use super::corpus::schema;

// minimized by hand or by byte removal; all are panics inside yrs 0.28.1 reached through the
// core's public API with untrusted bytes.

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn empty_doc() -> CardDoc {
    CardDoc::new(schema(), 1).unwrap()
}

/// A state vector naming client 2^53 (beyond Yjs's 53-bit ids): `ClientID::new`'s
/// `debug_assert!` fires inside `StateVector::decode_v1` (builds with debug assertions).
#[test]
fn crash_state_vector_client_id_over_53_bits() {
    let doc = empty_doc();
    assert!(doc.diff_v1(&unhex("0180808080808080801000")).is_err());
    assert!(doc.diff_v2(&unhex("0180808080808080801000")).is_err());
}

/// The same in an update's client field: panics in `Update::decode_v1` (debug assertions).
#[test]
fn crash_update_client_id_over_53_bits() {
    let mut doc = empty_doc();
    assert!(
        doc.apply_update_v1(&unhex("0100808080808080801000"))
            .is_err()
    );
    assert!(merge_updates_v1(&[&unhex("0100808080808080801000")]).is_err());
}

/// A delete-set range whose `clock + len` overflows u32: `attempt to add with overflow` in
/// yrs `id_set.rs` (overflow checks; release builds wrap silently).
#[test]
fn crash_delete_set_range_overflow() {
    let mut doc = empty_doc();
    assert!(doc.apply_update_v1(&unhex("00010501ffffffff0f01")).is_err());
}

/// A v2 string whose UTF-16 length ends inside a surrogate pair: `attempt to subtract with
/// overflow` in yrs `StringDecoder::read_str` (overflow checks; release builds wrap and read on).
#[test]
fn crash_v2_string_length_inside_surrogate_pair() {
    let bytes =
        unhex("00000302410001020104032800c40a076df09f98805a01020101010001010102007701780101010100");
    let mut doc = empty_doc();
    let _ = doc.apply_update_v2(&bytes);
    let _ = doc.snapshot_v2();
}

/// Accepted as pending, then `snapshot_v1` panics in every build profile:
/// `merge_updates_v1(..).unwrap()` on `EndOfBuffer` in yrs `transaction.rs:390`
/// (`merge_pending_v1`), because the pending update re-encodes to bytes yrs cannot decode.
#[test]
fn crash_pending_update_breaks_snapshot_v1() {
    let bytes = unhex(
        "020202002801016d04f09f9880017701784201010102015a0301002801016d016b017d01010101740184\
         01010562f09f98800101010101",
    );
    let mut doc = empty_doc();
    if doc.apply_update_v1(&bytes).is_ok() {
        let snapshot = doc.snapshot_v1();
        CardDoc::load_v1(doc.schema().clone(), 2, &snapshot).unwrap();
    }
    let _ = merge_updates_v1(&[&bytes]);
}

/// Accepted as pending, then `snapshot_v2` (and `merge_updates_v2`) panic in every build
/// profile: `merge_updates_v2(..).unwrap()` on `UnexpectedValue` in yrs `transaction.rs:408`
/// (`merge_pending_v2`).
#[test]
fn crash_pending_update_breaks_snapshot_v2() {
    let v1 = unhex("010202012801016d04f09f988001770178c401010102015a0101010101");
    let mut doc = empty_doc();
    if doc.apply_update_v1(&v1).is_ok() {
        let snapshot = doc.snapshot_v2();
        CardDoc::load_v2(doc.schema().clone(), 2, &snapshot).unwrap();
    }
    let v2 =
        unhex("00000302410001020104032800c40a066df09f98805a01020101010001010102017701780101010100");
    let _ = merge_updates_v2(&[&v2]);
}

/// Not a panic, a divergence: an insert whose left and right origins are the same character
/// (which no honest peer writes) integrates as "abXcd" in a live document but as "abcdX" when
/// the document is reopened from its own snapshot, so a replica and its persisted state (or
/// two replicas that received it at different times) disagree forever.
#[test]
fn inconsistent_origins_read_the_same_after_reopening() {
    // Client 1 writes "abcd" in a root text "t"; client 2 inserts "X" with origins 1#2 / 1#2.
    let base = unhex("0101010004010174046162636400");
    let insert = unhex("01010200c401020102015800");
    let mut doc = empty_doc();
    doc.apply_update_v1(&base).unwrap();
    let accepted = doc.apply_update_v1(&insert).is_ok();
    let reopened = CardDoc::load_v1(doc.schema().clone(), 2, &doc.snapshot_v1()).unwrap();
    let text = |d: &CardDoc| {
        let t = d.yrs_doc().get_or_insert_text("t");
        t.get_string(&d.yrs_doc().transact())
    };
    assert!(
        !accepted || text(&doc) == text(&reopened),
        "live {:?}, reopened {:?}",
        text(&doc),
        text(&reopened)
    );
}

/// Passes the screen, then yrs panics while the core's `cards` observer reads the event:
/// `item.content.get_last().unwrap()` on `None` in `MapEvent::keys` (yrs `types/mod.rs:806`).
/// The core contains it as `DecodeError::Panicked`, but in wasm32 it aborts. A mutated v2
/// snapshot of this file's corpus, not minimized (v2 columns resist byte removal).
#[test]
fn crash_map_event_keys_on_empty_content() {
    let bytes = unhex(
        "0002000206164b00164b2e31980108e001ba03d001e80201030c0854010194010105100a5a0094010108064601\
         04e2020ea803f002b602fe038204f60202100855a1002800a80128012700280027002802270004008400270028\
         00270028002700210028012702280027000100840028012701280027000400280127002800270021002800a800\
         4600c600a8002800a8002800a800289006d30532322464656c657465646d657461736368656d615f7665727369\
         6f6e63617264733030303030303030303030303030303030303030303030303031657374696d61746570726f67\
         72657373246d6f6469666965647469746c65737461747573626f6479536f6d6520746578742c20c3bc6ec3af63\
         c3b864c3a920616e6420f09f988020656d6f6a69766f746573246b696e64746167732463726561746564636172\
         64733030303030303030303030303030303030303030303030303032246d6f646966696564657374696d617465\
         246b696e6474616773766f74657370726f67726573737469746c65626f6479746578742c20c3bc6ec3af63c3b8\
         64c3a920616e6420f09f988020656d6f6a69246372656174656473746174757363617264733030303030303030\
         303030303030303030303030303030303033766f7465732463726561746564626f6479536f6d6520746578742c\
         20c3bc6ec3af63c3b864c3a920616e6420f09f988020656d6f6a69737461747573246b696e6470726f67726573\
         737469746c6574616773246d6f646966696564657374696d617465626f6c64626f6c6431313131784031317265\
         6c6174696f6e736869707330303030303030303030303030303030303030303030303030313a626c6f636b733a\
         303030303030303030303030303030303030303030303030303273657175656e63657330303030303030303030\
         3030303030303030303030303031663073657175656e6365733030303030303030303030303030303030303030\
         3030303166303a303030303030303030303030303030303030303030303030303173657175656e636573303030\
         30303030303030303030303030303030303030303166303a303030303030303030303030303030303030303030\
         303030303273657175656e63657330303030303030303030303030303030303030303030303166303a30303030\
         303030303030303030303030303030303030303030330208040e051a480009050644001b45000408051a090805\
         04050805041a0806051a0508041f0605080504090844004200040d3c091a0935093509350f00010101000a0100\
         000a0100000d010b410002410402410002410005410e0541120205007d4276020261747b4278bcfe5680000002\
         6279770361646176020261747b4278bcfe5680000002627977036164617835007c3f8000007c3fc00000760202\
         627977036164610261747b4278bcfe5680000077065461736b20317704746f646f77047461736b760202627977\
         036164610261747b4278bcfe568000007d0377047461736b77065461736b203276020261747b4278bcfe568000\
         0002627977036164617704746f646f760202627977036164610261747b4278bcfe568000007704746f646f7704\
         7461736b77065461736b20337c4090000076020261747b4278bcfe568000000262797703616461787e76020262\
         7977036164610261747b4278bcfe568000007d0776020261747b4278bcfe5680000002627977036164617c3f00\
         000076020261747b4278bcfe56800000026279770361646178760402746f771a30303030303030303030303030\
         303030303030303030303030320466726f6d771a30303030303030303030303030303030303030303030303030\
         31046b696e647706626c6f636b730772656d6f766564797877056130597675770561304c4f4a77056130326757\
         020b0727000704440001000200010016010000",
    );
    let result = CardDoc::load_v2(Arc::new(schema()), 1, &bytes);
    assert!(
        !matches!(result, Err(OpenError::Decode(DecodeError::Panicked))),
        "yrs panicked"
    );
}

/// Accepted (pending), after which yrs encodes a v2 snapshot that neither it nor the screen can
/// decode again: the document cannot be persisted and reopened in v2.
#[test]
fn snapshot_v2_of_an_accepted_update_loads_back() {
    let bytes = unhex(
        "010a01002801046d6574610e736368656d615f76657273696f6e017c3f80000027010563617264731a30303030\
         30303030303030303030303030303030303030303031012800010109246d6f646966696564017d012800010108\
         2463726561746564017601026279770161270001010162020300010407a9f09f98802700010101730128000101\
         05246b696e6401770174280001010172017d00010101760100",
    );
    let mut doc = empty_doc();
    if doc.apply_update_v1(&bytes).is_ok() {
        let snapshot = doc.snapshot_v2();
        let reopened = CardDoc::load_v2(doc.schema().clone(), 2, &snapshot);
        assert!(reopened.is_ok(), "{:?}", reopened.err());
    }
}
