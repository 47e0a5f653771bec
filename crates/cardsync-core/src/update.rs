//! The update API: state vectors, diffs, snapshots, apply and merge, in Yjs's v1 and v2
//! encodings, byte-compatible with `Y.encodeStateVector`, `Y.encodeStateAsUpdate(V2)` and
//! `Y.applyUpdate(V2)`.
//!
//! Everything that decodes bytes treats them as untrusted and returns a [`DecodeError`]:
//! - the [screen] walks them first, so yrs never sees the decode bomb, over-deep values,
//!   client ids above 2^53, structurally contradictory items or anything else that makes its
//!   decoding costly or panicky ([`DecodeError::Screen`]);
//! - the [`intake`] then decides what yrs integrates: only what is gap-free and has all its
//!   dependencies, so yrs never holds the skips and pending structs its encoders break on;
//!   what waits for predecessors is kept outside yrs (and in every snapshot), and updates
//!   the document cannot take are refused before anything changes
//!   ([`DecodeError::Integrate`]);
//! - yrs runs under `catch_unwind` ([`DecodeError::Panicked`]). The screen and the intake
//!   close every panic we know of, but yrs integrates in place and cannot roll back: a panic
//!   there would otherwise unwind through the caller with the document half-changed, and in
//!   a server take down every room on the thread. Caught, it is an error like any other, and
//!   the caller discards the document (the sync room's validation replica is built for
//!   exactly that). In wasm32 a panic aborts anyway; there prevention is all there is.
//!
//! Merging does not use `yrs::merge_updates_v1`, which is super-linear (16 s for 50k small
//! updates, docs/design.md §4): updates are applied into a scratch document and encoded once.
//!
//! [`intake`]: crate::untrusted
//! [screen]: crate::untrusted::screen

use std::sync::Arc;

use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::doc::CardDoc;
use crate::error::OpenError;
use crate::events::Origin;
use crate::layout::ROOTS;
use crate::schema::Schema;
use crate::untrusted::{self, DecodeError, Encoding, Intake, contain};

fn decode_state_vector(bytes: &[u8]) -> Result<StateVector, DecodeError> {
    untrusted::screen_state_vector_v1(bytes)?;
    contain(|| StateVector::decode_v1(bytes).map_err(DecodeError::StateVector))
}

/// Decodes an untrusted v1 update without applying it, behind the same [screen](crate::untrusted) as every
/// other entry point: for code that inspects an update first (the sync room reads whose
/// clocks it carries before deciding anything). What it accepts, a document may still refuse
/// with [`DecodeError::Integrate`]: that depends on what the document holds.
pub fn decode_update_v1(bytes: &[u8]) -> Result<Update, DecodeError> {
    untrusted::decode(bytes, Encoding::V1).map(|(_, update)| update)
}

/// Like [`decode_update_v1`], for a v2 update.
pub fn decode_update_v2(bytes: &[u8]) -> Result<Update, DecodeError> {
    untrusted::decode(bytes, Encoding::V2).map(|(_, update)| update)
}

impl CardDoc {
    /// The state vector (v1 encoding; state vectors have one encoding in practice). It counts
    /// what is integrated, not what waits for predecessors, so peers send those again.
    pub fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    /// How many clocks of `client` this replica has integrated: its entry in the state
    /// vector, without encoding the whole vector (0 for a client it has nothing of).
    pub fn clock_of(&self, client: u64) -> u32 {
        self.doc
            .transact()
            .state_vector()
            .get(&yrs::block::ClientID::new(client))
    }

    /// What this replica has that a peer with `state_vector` lacks, v1-encoded.
    pub fn diff_v1(&self, state_vector: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let sv = decode_state_vector(state_vector)?;
        Ok(self.doc.transact().encode_diff_v1(&sv))
    }

    /// Like [`CardDoc::diff_v1`], v2-encoded (smaller for text-heavy documents).
    pub fn diff_v2(&self, state_vector: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let sv = decode_state_vector(state_vector)?;
        Ok(self.doc.transact().encode_diff_v2(&sv))
    }

    /// The whole document as one v1 update, including updates still waiting for missing
    /// predecessors, so persisting a snapshot never drops anything.
    pub fn snapshot_v1(&self) -> Vec<u8> {
        self.intake.encode_state(&self.doc, Encoding::V1)
    }

    /// The whole document as one v2 update.
    pub fn snapshot_v2(&self) -> Vec<u8> {
        self.intake.encode_state(&self.doc, Encoding::V2)
    }

    /// Whether some received changes wait for predecessors this replica has not received yet
    /// (they are integrated, and show in reads, once those arrive).
    pub fn has_pending_updates(&self) -> bool {
        self.intake.has_pending()
    }

    /// Applies a v1 update from another peer (origin [`Origin::Remote`]).
    pub fn apply_update_v1(&mut self, update: &[u8]) -> Result<(), DecodeError> {
        self.apply_update(update, Encoding::V1, Origin::Remote)
    }

    /// Applies a v2 update from another peer.
    pub fn apply_update_v2(&mut self, update: &[u8]) -> Result<(), DecodeError> {
        self.apply_update(update, Encoding::V2, Origin::Remote)
    }

    /// Applies a v1 update with an explicit origin (the sync layer uses [`Origin::Rollback`]
    /// while rebuilding).
    pub fn apply_update_v1_with_origin(
        &mut self,
        update: &[u8],
        origin: Origin,
    ) -> Result<(), DecodeError> {
        self.apply_update(update, Encoding::V1, origin)
    }

    fn apply_update(
        &mut self,
        bytes: &[u8],
        encoding: Encoding,
        origin: Origin,
    ) -> Result<(), DecodeError> {
        let result = self
            .intake
            .apply(&self.doc, &[bytes], encoding, Some(origin.tag()));
        self.finish(origin);
        result
    }

    /// Opens a document from a v1 snapshot (or any v1 update). A schema that cannot replace
    /// the newest one the document records is refused (`OpenError::UnsafeSchemaChange`).
    pub fn load_v1(
        schema: Arc<Schema>,
        client_id: u64,
        snapshot: &[u8],
    ) -> Result<Self, OpenError> {
        let mut doc = Self::with_schema(schema, client_id)?;
        doc.apply_update_v1(snapshot)?;
        doc.check_schema_upgrade()?;
        Ok(doc)
    }

    /// Opens a document from a v2 snapshot.
    pub fn load_v2(
        schema: Arc<Schema>,
        client_id: u64,
        snapshot: &[u8],
    ) -> Result<Self, OpenError> {
        let mut doc = Self::with_schema(schema, client_id)?;
        doc.apply_update_v2(snapshot)?;
        doc.check_schema_upgrade()?;
        Ok(doc)
    }
}

fn merge(updates: &[&[u8]], encoding: Encoding) -> Result<Vec<u8>, DecodeError> {
    // Client id 0 never writes here: the scratch doc only integrates and re-encodes. Its roots
    // are declared as a card document's are, so it refuses exactly what loading would.
    let scratch = Doc::with_client_id(0);
    for root in ROOTS {
        scratch.get_or_insert_map(root);
    }
    let mut intake = Intake::default();
    intake.apply(&scratch, updates, encoding, None)?;
    Ok(intake.encode_state(&scratch, encoding))
}

/// Merges v1 updates into one, keeping updates whose predecessors are missing.
///
/// ```
/// # use cardsync_core::*;
/// let schema = Schema::new(1).card("note", CardKind::default());
/// let mut doc = CardDoc::new(schema.clone(), 5)?;
/// let mut updates = Vec::new();
/// for i in 0..3 {
///     let before = doc.state_vector();
///     doc.create_card(&Stamp::new(i, "me"), CardId::from_u128(i.into()), "note", [])?;
///     updates.push(doc.diff_v1(&before)?);
/// }
/// let merged = merge_updates_v1(&updates.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
/// let copy = CardDoc::load_v1(doc.schema().clone(), 6, &merged)?;
/// assert_eq!(copy.export(), doc.export());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn merge_updates_v1(updates: &[&[u8]]) -> Result<Vec<u8>, DecodeError> {
    merge(updates, Encoding::V1)
}

/// Merges v2 updates into one.
pub fn merge_updates_v2(updates: &[&[u8]]) -> Result<Vec<u8>, DecodeError> {
    merge(updates, Encoding::V2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::untrusted::ScreenError;
    use crate::untrusted::screen::tests::v2_bomb;

    const BOMB: [u8; 5] = [0xab, 0x8e, 0xc5, 0x73, 0x76];
    /// A state vector naming client 2^53, which yrs debug-asserts against.
    const BIG_CLIENT_SV: [u8; 10] = [1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0];

    fn refused<T: std::fmt::Debug>(result: Result<T, DecodeError>) -> ScreenError {
        match result {
            Err(DecodeError::Screen(e)) => e,
            other => panic!("not refused by the screen: {other:?}"),
        }
    }

    fn doc() -> CardDoc {
        CardDoc::new(Schema::new(1), 1).unwrap()
    }

    #[test]
    fn apply_update_v1_refuses_the_bomb() {
        refused(doc().apply_update_v1(&BOMB));
    }

    #[test]
    fn apply_update_v2_refuses_the_bomb() {
        refused(doc().apply_update_v2(&v2_bomb()));
    }

    #[test]
    fn apply_update_v1_with_origin_refuses_the_bomb() {
        refused(doc().apply_update_v1_with_origin(&BOMB, Origin::Rollback));
    }

    #[test]
    fn load_refuses_the_bomb() {
        for result in [
            CardDoc::load_v1(Arc::new(Schema::new(1)), 1, &BOMB),
            CardDoc::load_v2(Arc::new(Schema::new(1)), 1, &v2_bomb()),
        ] {
            assert!(matches!(
                result,
                Err(OpenError::Decode(DecodeError::Screen(_)))
            ));
        }
    }

    #[test]
    fn merge_refuses_the_bomb() {
        let empty = doc().snapshot_v1();
        refused(merge_updates_v1(&[&empty, &BOMB]));
        refused(merge_updates_v2(&[&doc().snapshot_v2(), &v2_bomb()]));
        assert!(merge_updates_v1(&[&empty]).is_ok());
    }

    #[test]
    fn diff_refuses_client_ids_above_2_pow_53() {
        let doc = doc();
        let big = ScreenError::ClientId(1 << 53);
        assert_eq!(refused(doc.diff_v1(&BIG_CLIENT_SV)), big);
        assert_eq!(refused(doc.diff_v2(&BIG_CLIENT_SV)), big);
        refused(doc.diff_v1(&BOMB));
    }

    #[test]
    fn decode_update_refuses_the_bomb() {
        refused(decode_update_v1(&BOMB));
        refused(decode_update_v2(&v2_bomb()));
        assert!(decode_update_v1(&doc().snapshot_v1()).is_ok());
    }

    #[test]
    fn a_panic_in_yrs_is_an_error() {
        let result: Result<(), _> = contain(|| panic!("as yrs might"));
        assert!(matches!(result, Err(DecodeError::Panicked)));
    }
}
