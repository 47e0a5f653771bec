//! The validation replica ("shadow"): where an untrusted update is tried before it counts.
//!
//! yrs cannot un-apply an update, so the room keeps two replicas of the document. An incoming
//! update is applied to the shadow first; the validator then compares the shadow (the state
//! *with* the update) to the authoritative replica (the state *without* it). Only if the
//! update passes are the same bytes applied to the authoritative replica, after which the two
//! are equal again. A refused update leaves the shadow polluted, so it is rebuilt from the
//! authoritative snapshot: O(document), which is why rejections are rate-limited per peer.
//!
//! **Why the shadow records raw keys instead of using [`CardDoc::subscribe`].** The core's
//! `ChangeBatch` is made for UIs: it reports what reads will show, so it passes over keys that
//! are not canonical ids and the `$` bookkeeping keys of cards (a `$kind` change alone makes no
//! event), and it does not watch `meta`. A validator that trusted it would let exactly the
//! hostile changes through. So the shadow adds its own deep observers on the six roots and
//! records, per root, which entries were written or removed whole and which keys inside them
//! changed, whatever they are. An update observer also captures what the update *effectively*
//! changed (nothing, for a duplicate), which is what the room persists and broadcasts.
//!
//! A shadow is disposable, which also makes it the place where a yrs panic on hostile but
//! well-formed input does no harm: `cardsync_core` contains it (`catch_unwind` around the
//! integrate) and reports [`DecodeError::Panicked`], after which the room rebuilds the shadow
//! like after any refused update. The authoritative replica only ever gets bytes that the
//! shadow integrated without trouble.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};

use cardsync_core::layout::{self, ROOTS};
use cardsync_core::{CardDoc, DecodeError, OpenError, Schema};
use thiserror::Error;
use yrs::branch::BranchPtr;
use yrs::types::{DeepObservable, Event, Events, PathSegment};
use yrs::{Map, MapRef, ReadTxn, Transact, TransactionMut};

/// Key of the shadow's observers.
const OBSERVER: &str = "cardsync.room.shadow";

/// The client id of the room's authoritative replica. It never writes, so it never appears in
/// the doc. (The shadow writes the room's compensations, as
/// [`COMPENSATOR_CLIENT_ID`].)
pub(crate) const ROOM_CLIENT_ID: u64 = 0;

/// The client id the room writes its compensations as (`compensate.rs`): 2^53 − 1, the
/// largest a Yjs peer can have, at the top of the core's reserved range. Stock Yjs draws
/// 32-bit ids and cardsync replicas stay below 2^52, so no peer picks it, and the room refuses
/// any peer's update carrying clocks of it
/// ([`Violation::ReservedClient`](super::violation::Violation::ReservedClient)), so no two
/// writers ever share it. It is the same in every room and across restarts: yrs continues
/// its clocks from the document's state.
pub use cardsync_core::COMPENSATOR_CLIENT_ID;

/// What happened to one entry of a root map (a card, an edge, a sequence entry...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Touch {
    /// The entry itself was inserted, replaced or removed.
    pub whole: bool,
    /// Keys inside the entry that changed (for nested changes, the key holding the nested
    /// type, e.g. the counter field whose entries changed).
    pub keys: BTreeSet<String>,
}

/// Everything one update changed, by root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Touched {
    /// Per card key.
    pub cards: BTreeMap<String, Touch>,
    /// Per relationship key.
    pub relationships: BTreeMap<String, Touch>,
    /// Per relationship property key.
    pub props: BTreeMap<String, Touch>,
    /// Per sequence key.
    pub sequences: BTreeMap<String, Touch>,
    /// Per `boards` key.
    pub boards: BTreeMap<String, Touch>,
    /// Keys of `meta` that changed.
    pub meta: BTreeSet<String>,
}

impl Touched {
    /// Whether nothing observable changed.
    pub fn is_empty(&self) -> bool {
        self.cards.is_empty()
            && self.relationships.is_empty()
            && self.props.is_empty()
            && self.sequences.is_empty()
            && self.boards.is_empty()
            && self.meta.is_empty()
    }

    fn record(&mut self, root: &str, txn: &TransactionMut<'_>, events: &Events<'_>) {
        for event in events.iter() {
            let path = event.path();
            let keys: Vec<String> = match event {
                Event::Map(e) => e.keys(txn).keys().map(|k| k.to_string()).collect(),
                _ => Vec::new(),
            };
            if root == layout::META {
                match path.front() {
                    Some(PathSegment::Key(k)) => {
                        self.meta.insert(k.to_string());
                    }
                    Some(PathSegment::Index(_)) => {}
                    None => self.meta.extend(keys),
                }
                continue;
            }
            let entries = match root {
                layout::CARDS => &mut self.cards,
                layout::RELATIONSHIPS => &mut self.relationships,
                layout::RELATIONSHIP_PROPS => &mut self.props,
                layout::BOARDS => &mut self.boards,
                _ => &mut self.sequences,
            };
            match (path.front(), path.get(1)) {
                (None, _) => {
                    for key in keys {
                        entries.entry(key).or_default().whole = true;
                    }
                }
                (Some(PathSegment::Key(entry)), None) => {
                    entries
                        .entry(entry.to_string())
                        .or_default()
                        .keys
                        .extend(keys);
                }
                (Some(PathSegment::Key(entry)), Some(PathSegment::Key(key))) => {
                    let touch = entries.entry(entry.to_string()).or_default();
                    touch.keys.insert(key.to_string());
                }
                (Some(PathSegment::Key(entry)), Some(PathSegment::Index(_))) => {
                    entries.entry(entry.to_string()).or_default().whole = true;
                }
                // Root maps have no indexes; nothing cardsync reads can sit there.
                (Some(PathSegment::Index(_)), _) => {}
            }
        }
    }
}

/// The shadow could not be built, or could not take an update (then it must be rebuilt
/// before the next use).
#[derive(Debug, Error)]
pub enum ShadowError {
    /// Loading the authoritative snapshot failed.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// An observer could not be registered.
    #[error("cannot observe the shadow: {0}")]
    Observe(#[from] yrs::TransactionAcqError),
    /// The update does not decode or integrate, or yrs panicked on it
    /// ([`DecodeError::Panicked`]).
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// What applying one update did to the shadow.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// The entries it touched.
    pub touched: Touched,
    /// What it actually changed, as a v1 update (yrs' own encoding of the transaction: new
    /// blocks and newly deleted ranges only), or `None` when it changed nothing at all. This,
    /// not the received bytes, is what the room persists and broadcasts.
    pub effect: Option<Vec<u8>>,
}

/// The validation replica and the record of what the last update changed in it.
pub(crate) struct Shadow {
    doc: CardDoc,
    record: Arc<Mutex<Applied>>,
}

impl Shadow {
    /// A shadow holding `snapshot` (the authoritative replica's state).
    pub fn load(schema: Arc<Schema>, snapshot: &[u8]) -> Result<Self, ShadowError> {
        // The shadow's only local writes are compensations (`compensate.rs`), made as the
        // room's reserved client id; every other change comes in as an update.
        let mut doc = CardDoc::with_schema(schema, COMPENSATOR_CLIENT_ID)?;
        // The room never undoes, so an undo manager would only cost time per apply.
        doc.set_undo_enabled(false);
        doc.apply_update_v1(snapshot)?;
        let record = Arc::new(Mutex::new(Applied::default()));
        for root in ROOTS {
            let map = doc.yrs_doc().get_or_insert_map(root);
            let record = Arc::clone(&record);
            map.observe_deep(OBSERVER, move |txn, events| {
                lock(&record).touched.record(root, txn, events);
            });
        }
        let sink = Arc::clone(&record);
        doc.yrs_doc().observe_update_v1(OBSERVER, move |_, event| {
            lock(&sink).effect = Some(event.update.clone());
        })?;
        Ok(Self { doc, record })
    }

    /// The replica, as the validator reads it.
    pub fn doc(&self) -> &CardDoc {
        &self.doc
    }

    /// Applies an update and returns what it changed.
    pub fn apply(&mut self, update: &[u8]) -> Result<Applied, ShadowError> {
        *lock(&self.record) = Applied::default();
        self.doc.apply_update_v1(update)?;
        Ok(std::mem::take(&mut *lock(&self.record)))
    }

    /// Writes to the shadow in one transaction, as the room's reserved client id, and returns
    /// what the write changed as a v1 update (`None` if nothing).
    pub fn write(&mut self, f: impl FnOnce(&mut TransactionMut<'_>)) -> Option<Vec<u8>> {
        *lock(&self.record) = Applied::default();
        {
            let mut txn = self.doc.yrs_doc().transact_mut();
            f(&mut txn);
        }
        std::mem::take(&mut *lock(&self.record)).effect
    }

    /// Whether the last update left blocks or deletions waiting for missing predecessors
    /// (the core keeps them outside yrs, so yrs' own `has_missing_updates` never sees them).
    pub fn has_missing_updates(&self) -> bool {
        self.doc.has_pending_updates()
    }

    /// Root names that are not cardsync's and hold something in the shadow. The
    /// authoritative replica holds nothing in any such root (the room refuses or empties what
    /// an update puts there, see `compensate.rs`), so one holding something is the update's
    /// doing, whether it made the root or wrote into one an earlier update left empty.
    pub fn foreign_roots_in_use(&self) -> Vec<String> {
        let txn = self.doc.yrs_doc().transact();
        txn.root_refs()
            .filter(|(name, _)| !ROOTS.contains(name))
            .filter(|(_, root)| {
                root.try_branch().is_some_and(|branch| {
                    let entries = MapRef::from(BranchPtr::from(branch)).len(&txn);
                    branch.content_len() > 0 || entries > 0
                })
            })
            .map(|(name, _)| name.to_owned())
            .collect()
    }
}

fn lock(record: &Mutex<Applied>) -> std::sync::MutexGuard<'_, Applied> {
    // A panic inside an observer can only come from yrs mid-apply; the shadow is rebuilt
    // after that anyway, so a poisoned record is still fine to reset.
    record.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cardsync_core::{CardId, CardKind, FieldDef, FieldKind, Stamp, Value};

    #[test]
    fn records_whole_entries_and_keys() {
        let schema = Arc::new(
            Schema::new(1).card(
                "note",
                CardKind::default()
                    .field("title", FieldDef::new(FieldKind::Register))
                    .field("votes", FieldDef::new(FieldKind::Counter)),
            ),
        );
        let mut shadow = Shadow::load(Arc::clone(&schema), &[0, 0]).unwrap();
        let mut client = CardDoc::with_schema(schema, 5).unwrap();
        let s = Stamp::new(1, "a");
        let card = CardId::from_u128(3);
        let sv = client.state_vector();
        client
            .create_card(&s, card, "note", [("title", Value::from("x"))])
            .unwrap();
        let applied = shadow.apply(&client.diff_v1(&sv).unwrap()).unwrap();
        assert!(applied.effect.is_some());
        let touched = applied.touched;
        assert!(touched.cards[&card.to_string()].whole);
        assert!(touched.meta.contains("schema_version"));

        let sv = client.state_vector();
        // A minute later, so the write also rewrites `$modified`.
        client
            .increment(&Stamp::new(60_001, "a"), card, "votes", 1)
            .unwrap();
        let update = client.diff_v1(&sv).unwrap();
        let touched = shadow.apply(&update).unwrap().touched;
        let touch = &touched.cards[&card.to_string()];
        assert!(!touch.whole);
        assert!(touch.keys.contains("votes") && touch.keys.contains("$modified"));
        assert!(!shadow.has_missing_updates());
        // The same bytes again change nothing.
        let again = shadow.apply(&update).unwrap();
        assert!(again.effect.is_none() && again.touched.is_empty());
    }

    #[test]
    fn sees_what_waits_for_missing_predecessors() {
        let mut shadow = Shadow::load(Arc::new(Schema::new(1)), &[0, 0]).unwrap();
        // Client 5 inserts "x" after client 7's clock 3, which nobody sent.
        let applied = shadow.apply(&[1, 1, 5, 0, 0x84, 7, 3, 1, b'x', 0]).unwrap();
        assert!(applied.effect.is_none());
        assert!(shadow.has_missing_updates());
    }
}
