//! Encoding a document's whole state, including what waits outside yrs.
//!
//! The state is encoded with `ReadTxn::encode_state_as_update`, never with
//! `encode_state_as_update_v1/v2`: those also merge yrs' own pending structs through a path
//! that unwraps (yrs `transaction.rs:390/408`). yrs holds nothing pending here, so nothing is
//! lost by skipping it; what waits lives in the intake and is merged in by `Update`'s own
//! merge, whose holes it encodes correctly in both encodings (unlike the store's encoder).
//! A document that was loaded from such a snapshot plans the same parts as waiting again.

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::{Encode, Encoder, EncoderV1, EncoderV2};
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use super::pending::Pending;
use crate::untrusted::decode::Encoding;

/// `doc`'s whole state as one update, with `pending` merged in.
pub(super) fn encode_state(doc: &Doc, pending: &Pending, encoding: Encoding) -> Vec<u8> {
    let txn = doc.transact();
    let all = StateVector::default();
    if pending.is_empty() {
        return match encoding {
            Encoding::V1 => {
                let mut encoder = EncoderV1::new();
                txn.encode_state_as_update(&all, &mut encoder);
                encoder.to_vec()
            }
            Encoding::V2 => {
                let mut encoder = EncoderV2::new();
                txn.encode_state_as_update(&all, &mut encoder);
                encoder.to_vec()
            }
        };
    }
    let mut encoder = EncoderV1::new();
    txn.encode_state_as_update(&all, &mut encoder);
    let state = encoder.to_vec();
    let deletes = pending.deletes_v1();
    // Every part is yrs' own encoding or the intake's cut of screened bytes: they decode.
    let parts = [&state]
        .into_iter()
        .chain(&pending.pieces)
        .chain([&deletes])
        .filter_map(|bytes| Update::decode_v1(bytes).ok());
    let merged = merge_pairwise(parts.collect());
    match encoding {
        Encoding::V1 => merged.encode_v1(),
        Encoding::V2 => merged.encode_v2(),
    }
}

/// Merges updates two at a time, level by level.
///
/// `Update::merge_updates` re-sorts all of its inputs at every block it writes, so merging
/// `n` updates at once costs O(n² log n): 32 s for the 50k pieces of an outbox compacted
/// into a scratch document (benchmark K6). Merging is associative, and a merge of two
/// inputs sorts two, so pairwise levels cost O(total · log n) for the same result.
fn merge_pairwise(mut parts: Vec<Update>) -> Update {
    while parts.len() > 1 {
        let mut next = Vec::with_capacity(parts.len().div_ceil(2));
        let mut level = parts.into_iter();
        while let Some(first) = level.next() {
            next.push(match level.next() {
                Some(second) => Update::merge_updates([first, second]),
                None => first,
            });
        }
        parts = next;
    }
    parts.pop().unwrap_or_default()
}
