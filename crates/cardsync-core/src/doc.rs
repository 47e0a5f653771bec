//! The card document: a `yrs::Doc` with the cardsync schema on top.
//!
//! [`CardDoc`] owns the yrs document, the schema used to validate local writes, the derived
//! indexes kept by the event observers, and an undo manager scoped to local origins. It never
//! reads a clock or an RNG: the client id, ids and stamps come from the caller, which is what
//! lets the sync layer and the simulations be deterministic.
//!
//! The type and its lifecycle are here; its methods are grouped by concern, one file each:
//!
//! | file | `CardDoc` methods |
//! |---|---|
//! | `doc.rs` | opening ([`CardDoc::new`], [`CardDoc::with_schema`]), schema and client id, change batches ([`CardDoc::poll_changes`]), undo and redo |
//! | `read.rs` | card reads: [`CardDoc::card`], [`CardDoc::cards`], [`CardDoc::is_visible`], [`CardDoc::text_runs`] |
//! | `card_writes.rs` | card writes, one op each: [`CardDoc::create_card`], [`CardDoc::set_field`], text, counters, max, sets, [`CardDoc::delete_card`], [`CardDoc::restore_card`] |
//! | `relationship.rs` | relationship reads ([`CardDoc::outgoing`], [`CardDoc::incoming`], [`CardDoc::relationships`], [`CardDoc::integrity_report`]) and writes ([`CardDoc::link`], [`CardDoc::unlink`]) |
//! | `board/` | board reads ([`CardDoc::board`], [`CardDoc::card_place`], [`CardDoc::board_ids`]) and writes ([`CardDoc::create_board`], columns, [`CardDoc::place_card`], [`CardDoc::unplace_card`]) |
//! | `sequence.rs` | sequence reads ([`CardDoc::sequence`], [`CardDoc::sequence_ids`]) and writes ([`CardDoc::create_sequence`], [`CardDoc::insert_into_sequence`], [`CardDoc::move_in_sequence`], [`CardDoc::remove_from_sequence`]) |
//! | `write.rs` | applying a batch of ops as one transaction: [`CardDoc::apply`], [`CardDoc::apply_with_origin`] |
//! | `validate.rs` | checking every op of a batch before anything is written (crate-private) |
//! | `update.rs` | state vectors, diffs, snapshots, applying and loading updates ([`CardDoc::apply_update_v1`], [`CardDoc::load_v1`], ...) |
//! | `export.rs` | [`CardDoc::export`], [`CardDoc::export_json`] |

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use yrs::types::DeepObservable;
use yrs::types::Events;
use yrs::undo::Options as UndoOptions;
use yrs::{
    Doc, Map, MapRef, OffsetKind, Options, Out, ReadTxn, Transact, TransactionMut, UndoManager,
};

use crate::error::OpenError;
use crate::events::{self, ChangeBatch, Origin, Tracker};
use crate::ids::{COMPENSATOR_CLIENT_ID, MAX_REPLICA_CLIENT_ID};
use crate::layout;
use crate::schema::Schema;
use crate::splitmix::SplitMix64;
use crate::untrusted::Intake;

/// Handles to the root maps.
#[derive(Clone)]
pub(crate) struct Roots {
    pub cards: MapRef,
    pub relationships: MapRef,
    pub relationship_props: MapRef,
    pub sequences: MapRef,
    pub meta: MapRef,
}

/// A document of cards, relationships and sequences.
///
/// ```
/// use cardsync_core::{CardDoc, CardId, CardKind, FieldDef, FieldKind, Schema, Stamp, Value};
/// let schema = Schema::new(1).card("note", CardKind::default()
///     .field("title", FieldDef::new(FieldKind::Register))
///     .field("likes", FieldDef::new(FieldKind::Counter)));
/// let mut doc = CardDoc::new(schema, 1)?;
/// let stamp = Stamp::new(1_700_000_000_000, "ada");
/// let card = CardId::from_u128(42);
/// doc.create_card(&stamp, card, "note", [("title", Value::from("Hello"))])?;
/// doc.increment(&stamp, card, "likes", 2)?;
/// let read = doc.card(card).unwrap();
/// assert_eq!(read.fields["likes"], cardsync_core::FieldValue::Counter(2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CardDoc {
    pub(crate) doc: Doc,
    pub(crate) roots: Roots,
    pub(crate) schema: Arc<Schema>,
    /// The way in for remote updates: what waits for predecessors (kept outside yrs) and
    /// the record of typing runs the checks use (see [`crate::untrusted`]).
    pub(crate) intake: Intake,
    tracker: Arc<Mutex<Tracker>>,
    /// Local undo history. Off for documents nobody edits by hand (the server's, the sync
    /// layer's confirmed doc): the manager keeps every overwritten value alive for a possible
    /// undo, which costs time per transaction and bytes in every snapshot.
    undo: Option<UndoManager>,
    /// The change batches of committed transactions not yet taken with
    /// [`CardDoc::poll_changes`]; `None` while nobody asked for them.
    changes: Option<VecDeque<ChangeBatch>>,
    jitter: SplitMix64,
}

impl CardDoc {
    /// An empty document for replica `client_id` (unique per replica and session; the caller
    /// draws it at random, at most [`MAX_REPLICA_CLIENT_ID`]).
    pub fn new(schema: Schema, client_id: u64) -> Result<Self, OpenError> {
        Self::with_schema(Arc::new(schema), client_id)
    }

    /// Like [`CardDoc::new`], sharing an already checked schema.
    pub fn with_schema(schema: Arc<Schema>, client_id: u64) -> Result<Self, OpenError> {
        if client_id > MAX_REPLICA_CLIENT_ID && client_id != COMPENSATOR_CLIENT_ID {
            return Err(OpenError::ClientId(client_id));
        }
        schema.check()?;
        let mut options = Options::with_guid_and_client_id(
            "cardsync".into(),
            yrs::block::ClientID::new(client_id),
        );
        // Yjs and JavaScript count text in UTF-16 units; so do we, so indexes agree.
        options.offset_kind = OffsetKind::Utf16;
        let doc = Doc::with_options(options);
        let roots = Roots {
            cards: doc.get_or_insert_map(layout::CARDS),
            relationships: doc.get_or_insert_map(layout::RELATIONSHIPS),
            relationship_props: doc.get_or_insert_map(layout::RELATIONSHIP_PROPS),
            sequences: doc.get_or_insert_map(layout::SEQUENCES),
            meta: doc.get_or_insert_map(layout::META),
        };
        let tracker = Arc::new(Mutex::new(Tracker::default()));
        type Handler = for<'a, 'b, 'c> fn(&mut Tracker, &TransactionMut<'a>, &Events<'b>);
        // The `boards` root is not kept in `Roots`: board writes reach it through their
        // transaction, and one more handle here made every `CardDoc` larger.
        let boards = doc.get_or_insert_map(layout::BOARDS);
        let observers: [(&MapRef, Handler); 5] = [
            (&roots.cards, events::on_cards),
            (&roots.relationships, events::on_relationships),
            (&roots.relationship_props, events::on_relationship_props),
            (&roots.sequences, events::on_sequences),
            (&boards, crate::board::on_boards),
        ];
        for (root, handler) in observers {
            let tracker = Arc::clone(&tracker);
            root.observe_deep("cardsync.tracker", move |txn, events| {
                handler(&mut lock(&tracker), txn, events);
            });
        }
        let undo = Some(undo_manager(&doc, &roots));
        Ok(Self {
            doc,
            roots,
            schema,
            intake: Intake::default(),
            tracker,
            undo,
            changes: None,
            jitter: SplitMix64::for_client(client_id),
        })
    }

    /// This replica's yrs client id.
    pub fn client_id(&self) -> u64 {
        self.doc.client_id().get()
    }

    /// The schema local writes are validated against.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// The schema version recorded in the document (`None` before the first local write).
    pub fn schema_version(&self) -> Option<u32> {
        let txn = self.doc.transact();
        match self.roots.meta.get(&txn, layout::SCHEMA_VERSION) {
            Some(Out::Any(any)) => crate::value::any_number(&any).map(|n| n as u32),
            _ => None,
        }
    }

    /// The underlying yrs document, for the sync layer and for interop.
    pub fn yrs_doc(&self) -> &Doc {
        &self.doc
    }

    pub(crate) fn tracker(&self) -> MutexGuard<'_, Tracker> {
        lock(&self.tracker)
    }

    /// A fresh pseudo-random value for order-key jitter (SplitMix64 over the client id: distinct
    /// per replica, deterministic per run, no RNG needed).
    pub(crate) fn next_jitter(&mut self) -> u64 {
        self.jitter.next_u64()
    }

    /// Starts (or stops, dropping what waits) keeping the [`ChangeBatch`] of every committed
    /// transaction for [`CardDoc::poll_changes`]. Off by default: a document nobody reads
    /// events from (a server's, a confirmed doc) keeps nothing.
    pub fn buffer_changes(&mut self, on: bool) {
        self.tracker().collect = on;
        match (on, self.changes.is_some()) {
            (true, false) => self.changes = Some(VecDeque::new()),
            (false, true) => self.changes = None,
            _ => {}
        }
    }

    /// The oldest change batch not yet taken, in commit order. Sans-IO, like the sync
    /// layer: a write never calls out (no callback runs while the document is borrowed), and
    /// whoever drives the document drains this after each call. `None` when nothing waits
    /// or [`CardDoc::buffer_changes`] is off.
    ///
    /// ```
    /// use cardsync_core::{CardDoc, CardId, CardKind, ChangeEvent, Origin, Schema, Stamp};
    /// let mut doc = CardDoc::new(Schema::new(1).card("note", CardKind::default()), 1)?;
    /// doc.buffer_changes(true);
    /// let card = CardId::from_u128(7);
    /// doc.create_card(&Stamp::new(1, "ada"), card, "note", [])?;
    /// let batch = doc.poll_changes().unwrap();
    /// assert_eq!(batch.origin, Origin::Local);
    /// assert_eq!(batch.events, [ChangeEvent::CardCreated { card, kind: "note".into() }]);
    /// assert!(doc.poll_changes().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn poll_changes(&mut self) -> Option<ChangeBatch> {
        self.changes.as_mut()?.pop_front()
    }

    /// Queues a batch that no transaction of this document produced, behind the waiting ones:
    /// what the sync layer reports after swapping in a rebuilt local doc (a rollback), or
    /// what it carried over from the doc it replaced. Dropped while buffering is off.
    pub fn push_changes(&mut self, batch: ChangeBatch) {
        if let Some(changes) = &mut self.changes {
            changes.push_back(batch);
        }
    }

    /// Takes every waiting batch, oldest first (to carry them over to a replacement doc).
    pub fn take_changes(&mut self) -> Vec<ChangeBatch> {
        self.changes
            .as_mut()
            .map(|c| c.drain(..).collect())
            .unwrap_or_default()
    }

    /// Records the events of the transaction that just committed.
    pub(crate) fn finish(&mut self, origin: Origin) {
        let events = self.tracker().take_events();
        if events.is_empty() {
            return;
        }
        if let Some(changes) = &mut self.changes {
            changes.push_back(ChangeBatch { origin, events });
        }
    }

    /// Turns the local undo history on (the default) or off (dropping it).
    pub fn set_undo_enabled(&mut self, enabled: bool) {
        match (enabled, self.undo.is_some()) {
            (true, false) => self.undo = Some(undo_manager(&self.doc, &self.roots)),
            (false, true) => self.undo = None,
            _ => {}
        }
    }

    /// Undoes the last local transaction not yet undone. Returns whether there was one.
    pub fn undo(&mut self) -> bool {
        self.undo_or_redo(|u| u.undo_blocking())
    }

    /// Redoes the last undone transaction. Returns whether there was one.
    pub fn redo(&mut self) -> bool {
        self.undo_or_redo(|u| u.redo_blocking())
    }

    fn undo_or_redo(&mut self, step: impl FnOnce(&mut UndoManager) -> bool) -> bool {
        if self.undo.is_none() {
            // Server and confirmed docs run without undo: no state vector to take.
            self.finish(Origin::Undo);
            return false;
        }
        let before = self.doc.transact().state_vector();
        let done = self.undo.as_mut().is_some_and(step);
        if done {
            // Undo writes new items (a redone deletion is a new insert): record their runs.
            let update = self.doc.transact().encode_diff_v1(&before);
            self.intake.record_local(&update);
        }
        self.finish(Origin::Undo);
        done
    }

    /// Whether [`CardDoc::undo`] would do something.
    pub fn can_undo(&self) -> bool {
        self.undo.as_ref().is_some_and(|u| u.can_undo())
    }

    /// Whether [`CardDoc::redo`] would do something.
    pub fn can_redo(&self) -> bool {
        self.undo.as_ref().is_some_and(|u| u.can_redo())
    }

    /// Forgets the undo and redo history (e.g. after the sync layer rebuilt the document).
    pub fn clear_undo_history(&mut self) {
        if let Some(undo) = &mut self.undo {
            undo.clear_all();
        }
    }

    /// Card ids present in the document (deleted ones included), in id order.
    pub(crate) fn card_ids(&self) -> Vec<crate::CardId> {
        let mut ids: Vec<_> = self.tracker().cards.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    pub(crate) fn record_schema_version(&self, txn: &mut yrs::TransactionMut<'_>) {
        let version = f64::from(self.schema.version);
        let current = match self.roots.meta.get(txn, layout::SCHEMA_VERSION) {
            Some(Out::Any(any)) => crate::value::any_number(&any),
            _ => None,
        };
        if current.is_none_or(|c| c < version) {
            self.roots.meta.insert(txn, layout::SCHEMA_VERSION, version);
        }
    }
}

fn lock(tracker: &Mutex<Tracker>) -> MutexGuard<'_, Tracker> {
    // A poisoned lock means an observer panicked mid-transaction; recovering keeps reads
    // working instead of turning that one panic into a panic in every later call.
    tracker
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn undo_manager(doc: &Doc, roots: &Roots) -> UndoManager {
    let options = UndoOptions {
        // Every transaction is one user action and one undo step; no time-based merging, and
        // the clock is a constant so the core still reads no clock.
        capture_timeout_millis: 0,
        tracked_origins: HashSet::from([Origin::Local.tag().into()]),
        capture_transaction: None,
        timestamp: Arc::new(|| 0),
        init_undo_stack: Vec::new(),
        init_redo_stack: Vec::new(),
    };
    let mut undo = UndoManager::with_options(options);
    undo.expand_scope(doc, &roots.cards);
    undo.expand_scope(doc, &roots.relationships);
    undo.expand_scope(doc, &roots.relationship_props);
    undo.expand_scope(doc, &roots.sequences);
    undo.expand_scope(doc, &doc.get_or_insert_map(layout::BOARDS));
    undo
}

impl std::fmt::Debug for CardDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardDoc")
            .field("client_id", &self.client_id())
            .field("cards", &self.tracker().cards.len())
            .finish_non_exhaustive()
    }
}
