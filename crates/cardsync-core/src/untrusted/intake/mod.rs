//! Integrating untrusted updates into a yrs document without walking into yrs' panics.
//!
//! **Why.** The [screen] makes *decoding* safe. Integrating is the other half:
//! yrs 0.28.1 accepts an update whose predecessors are missing, integrates blocks past the
//! hole as "skips", and keeps the rest as pending structs and a pending delete set. From then
//! on the document is fragile in every build profile:
//! - its v2 encoder writes a skip's length into the wrong column (`BlockSlice::encode`, yrs
//!   `slice.rs:80`, `write_len` where the decoder uses `read_var`), so its own v2 snapshot
//!   does not decode;
//! - `encode_state_as_update_v1/v2` re-encode the pending parts, merge them with that snapshot
//!   and `unwrap` the result (`merge_pending_v1/v2`, yrs `transaction.rs:390/408`), which
//!   panics on the bytes above.
//!
//! In a native build the core's `catch_unwind` turns such a panic into
//! [`DecodeError::Panicked`]; in wasm32 a panic aborts the whole
//! module. So the fix has to be preventive, and the intake is where it happens: for each
//! update it plans ([`plan`]) what can be integrated *completely* now (gap-free and with every
//! dependency present), hands only that to yrs, and keeps the rest itself ([`pending`]) until
//! a later update brings what it waits for. yrs therefore never holds a skip or anything
//! pending, and never reaches those paths. Snapshots include what waits, merged in by the
//! intake ([`snapshot`]), so persisting one never drops anything.
//!
//! Planning is also where the document-dependent checks run, before anything is integrated:
//! a formatting mark that would land on a map key is refused ([`map_entries`]), because yrs
//! panics reporting that key to map observers, and so is an insert whose neighbours are out
//! of order ([`origins`]), because yrs places it differently in different replicas, or whose
//! neighbours lie in different parents ([`places`]), because a reload of the snapshot links it
//! otherwise, and so
//! is a block that overlaps what the document holds yet waits for a dependency ([`plan`]),
//! because no snapshot can hold it as it waits.
//!
//! `catch_unwind` stays around every call into yrs as a native second line of defence.

mod concat;
mod deletes;
mod map_entries;
mod origins;
mod pending;
mod places;
mod plan;
mod runs;
mod snapshot;
mod v1;
mod view;

pub use concat::concat_updates_v1;

use std::borrow::Cow;

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, Transact, TransactionMut, Update};

use crate::untrusted::decode::{Encoding, contain, decode};
use crate::untrusted::error::{DecodeError, IntegrateError};
use crate::untrusted::screen;
use crate::untrusted::structure::Structure;
use pending::Pending;
use plan::Plan;
use runs::RunIndex;
use view::View;

fn integrate_error(e: yrs::error::UpdateError) -> DecodeError {
    DecodeError::Integrate(IntegrateError::Yrs(e))
}

/// The updates a document holds outside yrs, and the way in for new ones.
#[derive(Debug, Default)]
pub(crate) struct Intake {
    pending: Pending,
    /// The typing runs of what the document holds, for the origins check.
    runs: RunIndex,
}

impl Intake {
    /// Whether some blocks or deletions wait for predecessors the document lacks.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// `doc`'s whole state as one update, with what waits for predecessors merged in
    /// ([`snapshot`]).
    pub fn encode_state(&self, doc: &Doc, encoding: Encoding) -> Vec<u8> {
        snapshot::encode_state(doc, &self.pending, encoding)
    }

    /// Records the blocks of a transaction this replica wrote itself (its v1 update), so
    /// that the origins of later remote inserts among them are checked from the record.
    pub fn record_local(&mut self, update: &[u8]) {
        if let Ok(structure) = screen::update_v1(update) {
            for blocks in &structure.clients {
                for block in &blocks.blocks {
                    // One client, in clock order: every neighbour is recorded first.
                    self.runs.record(blocks.client, block, |runs| {
                        places::resolve(block, |id| runs.place_of(id))
                    });
                }
            }
        }
    }

    /// Integrates untrusted updates into `doc`, in one transaction (with `origin`, if any),
    /// stopping at the first error; what came before it stays. An update is screened and
    /// decoded before anything of it is integrated, so one that does not decode changes
    /// nothing, and neither does one the plan refuses. Only when yrs itself stops half-way
    /// (an item whose parent in the document is not a shared type, where the intake has no
    /// record of that parent's content: see [`runs`]) does what it integrated so far stay,
    /// as yrs cannot roll back.
    pub fn apply(
        &mut self,
        doc: &Doc,
        updates: &[&[u8]],
        encoding: Encoding,
        origin: Option<&'static str>,
    ) -> Result<(), DecodeError> {
        let Some((first, rest)) = updates.split_first() else {
            return Ok(());
        };
        // Decoded before the transaction opens, so bytes that do not decode never open one.
        let first = decode(first, encoding)?;
        contain(|| {
            let mut txn = match origin {
                Some(origin) => doc.transact_mut_with(origin),
                None => doc.transact_mut(),
            };
            let mut result = self.integrate(&mut txn, updates[0], first, encoding);
            for bytes in rest {
                if result.is_err() {
                    break;
                }
                result = decode(bytes, encoding)
                    .and_then(|decoded| self.integrate(&mut txn, bytes, decoded, encoding));
            }
            // Even after yrs gave up half-way (it cannot roll back), integrate what now can
            // be: the document must hold what a reload of its own snapshot would.
            self.retry(&mut txn);
            result
        })
    }

    /// Integrates what of one update can be, and keeps the rest.
    fn integrate(
        &mut self,
        txn: &mut TransactionMut<'_>,
        bytes: &[u8],
        (structure, update): (Structure, Update),
        encoding: Encoding,
    ) -> Result<(), DecodeError> {
        let plan =
            plan::plan(&structure, &View::new(txn), &self.runs).map_err(DecodeError::Integrate)?;
        if plan.is_complete() {
            let result = txn.apply_update(update).map_err(integrate_error);
            plan.record(&structure, &mut self.runs, result.is_ok());
            return result;
        }
        // Cutting needs each block's bytes, which only v1 keeps together: re-encode a v2
        // update as v1 (yrs' v1 encoder writes what it decoded faithfully) and plan again.
        let (bytes, structure, plan) = match encoding {
            Encoding::V1 => (Cow::Borrowed(bytes), structure, plan),
            Encoding::V2 => {
                let v1 = update.encode_v1();
                let structure = screen::update_v1(&v1)?;
                let plan = plan::plan(&structure, &View::new(txn), &self.runs)
                    .map_err(DecodeError::Integrate)?;
                (Cow::Owned(v1), structure, plan)
            }
        };
        self.split(txn, &bytes, &structure, &plan)
    }

    /// Integrates the part of a v1 update `plan` accepts and keeps the part that waits.
    fn split(
        &mut self,
        txn: &mut TransactionMut<'_>,
        bytes: &[u8],
        structure: &Structure,
        plan: &Plan,
    ) -> Result<(), DecodeError> {
        if plan.adds_blocks() || !plan.deletes_now.is_empty() {
            let now = v1::update(bytes, structure, &plan.now, &plan.deletes_now);
            let now = Update::decode_v1(&now).map_err(DecodeError::Update)?;
            let result = txn.apply_update(now).map_err(integrate_error);
            plan.record(structure, &mut self.runs, result.is_ok());
            result?;
        }
        if plan.later.iter().any(|r| !r.is_empty()) {
            let empty = deletes::DeleteSet::default();
            let later = v1::update(bytes, structure, &plan.later, &empty);
            // The same update delivered twice while it waits is kept once.
            if !self.pending.pieces.contains(&later) {
                self.pending.pieces.push(later);
            }
        }
        self.pending.deletes.extend(&plan.deletes_later);
        Ok(())
    }

    /// Integrates whatever waits and can now be, until nothing more can. What fails now is
    /// dropped: it belongs to an update accepted earlier, whose caller was told `Ok` then, and
    /// the document stays what a reload of its snapshot would read.
    fn retry(&mut self, txn: &mut TransactionMut<'_>) {
        if self.pending.is_empty() {
            return;
        }
        loop {
            let mut progress = false;
            for piece in std::mem::take(&mut self.pending.pieces) {
                // The intake's own cut of screened bytes: it passes the screen.
                let Ok(structure) = screen::update_v1(&piece) else {
                    continue;
                };
                match plan::plan(&structure, &View::new(txn), &self.runs) {
                    Ok(plan) if plan.adds_blocks() => {
                        progress = true;
                        // On an error yrs keeps what it integrated before it; the rest of
                        // the piece is dropped, as the whole update would have been had it
                        // arrived after its predecessors.
                        let _ = self.split(txn, &piece, &structure, &plan);
                    }
                    // Everything in it arrived another way meanwhile.
                    Ok(plan) if plan.is_complete() => {}
                    Ok(_) => self.pending.pieces.push(piece),
                    // Refused now that its neighbours are known: dropped, as the whole update
                    // would have been had they been known when it arrived.
                    Err(_) => {}
                }
            }
            if !progress {
                break;
            }
        }
        let view = View::new(txn);
        let now = self.pending.deletes.take_below(|client| view.clock(client));
        if !now.is_empty() {
            // A delete set of held items: yrs applies it without an error path.
            if let Ok(update) = Update::decode_v1(&now.update_v1()) {
                let _ = txn.apply_update(update);
            }
        }
    }
}
