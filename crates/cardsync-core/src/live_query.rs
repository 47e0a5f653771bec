//! A query's result set, kept current from the document's change batches.
//!
//! The document already says, per transaction, which cards changed ([`ChangeBatch`]: created,
//! a field changed, deleted, restored), whatever the transaction's origin: a local write, a
//! remote update, an undo, a rollback (whose batch is the net difference the rollback made).
//! [`LiveQuery::update`] evaluates the query again for exactly those cards, so a transaction
//! costs O(cards it touched × log(result size)), whatever the size of the document, and says
//! which cards entered, left or changed inside the result ([`QueryDelta`]). A UI list
//! re-renders those rows, not the list.
//!
//! The set is a `BTreeSet` of (sort key, card id) beside a map from card to its key, so an
//! update moves a card whose order field changed, and reading the ordered ids is a walk.
//!
//! ```
//! use cardsync_core::{CardDoc, CardId, CardKind, FieldDef, Op, Query, Schema, Stamp, ValueType};
//!
//! let schema = Schema::new(1).card("task", CardKind::default()
//!     .field("status", FieldDef::register(ValueType::String)));
//! let mut doc = CardDoc::new(schema, 1)?;
//! doc.buffer_changes(true);
//! let query: Query = serde_json::from_str(r#"{"kind": "task", "where": {"status": "open"}}"#)?;
//! let mut open = doc.live_query(query)?;
//! let card = CardId::from_u128(7);
//! let create = Op::CreateCard { card, kind: "task".into(), fields: [("status".into(), "open".into())].into() };
//! doc.apply(&Stamp::new(1, "ann"), &[create])?;
//! let batch = doc.poll_changes().unwrap();
//! assert_eq!(open.update(&doc, &batch).added, vec![card]);
//! assert_eq!(open.ids(), vec![card]);
//! let close = Op::SetField { card, field: "status".into(), value: "done".into() };
//! doc.apply(&Stamp::new(2, "ann"), &[close])?;
//! let batch = doc.poll_changes().unwrap();
//! assert_eq!(open.update(&doc, &batch).removed, vec![card]);
//! assert!(open.ids().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeSet, HashMap};

use yrs::Transact;

use crate::doc::CardDoc;
use crate::events::{ChangeBatch, ChangeEvent};
use crate::ids::CardId;
use crate::query::{Query, QueryError, SortKey};

/// What one update changed in a result set. A card is in at most one of the three lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryDelta {
    /// Cards that entered the result.
    pub added: Vec<CardId>,
    /// Cards that left it (changed so they no longer match, deleted, or their creation undone).
    pub removed: Vec<CardId>,
    /// Cards that stayed in it and changed (perhaps their place in the order).
    pub updated: Vec<CardId>,
}

impl QueryDelta {
    /// Whether nothing in the result changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.updated.is_empty()
    }
}

/// A query's current result set (see the module docs).
#[derive(Clone, Debug)]
pub struct LiveQuery {
    query: Query,
    order: BTreeSet<(SortKey, CardId)>,
    members: HashMap<CardId, SortKey>,
}

impl CardDoc {
    /// Runs `query` over every card and keeps the result for [`LiveQuery::update`]. Refused if
    /// the query names a kind or field the schema does not declare ([`Query::check`]).
    pub fn live_query(&self, query: Query) -> Result<LiveQuery, QueryError> {
        query.check(&self.schema)?;
        let mut live = LiveQuery {
            query,
            order: BTreeSet::new(),
            members: HashMap::new(),
        };
        live.update_all(self);
        Ok(live)
    }
}

impl LiveQuery {
    /// The query.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The matching cards, in the query's order.
    pub fn ids(&self) -> Vec<CardId> {
        self.order.iter().map(|(_, id)| *id).collect()
    }

    /// How many cards match.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether no card matches.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether `card` matches.
    pub fn contains(&self, card: CardId) -> bool {
        self.members.contains_key(&card)
    }

    /// Brings the result up to date with one of `doc`'s change batches (taken with
    /// [`CardDoc::poll_changes`], in order): only the cards the batch names are evaluated again.
    pub fn update(&mut self, doc: &CardDoc, batch: &ChangeBatch) -> QueryDelta {
        let cards: Vec<CardId> = batch
            .events
            .iter()
            .filter_map(|event| match event {
                ChangeEvent::CardCreated { card, .. }
                | ChangeEvent::FieldChanged { card, .. }
                | ChangeEvent::CardDeleted { card }
                | ChangeEvent::CardRestored { card } => Some(*card),
                _ => None,
            })
            .collect();
        self.reevaluate(doc, &cards)
    }

    /// Evaluates every card of `doc` again: for a document replaced or changed without
    /// change batches (for example, before buffering was turned on). O(document).
    pub fn update_all(&mut self, doc: &CardDoc) -> QueryDelta {
        let mut cards: Vec<CardId> = doc.tracker().cards.keys().copied().collect();
        cards.extend(self.members.keys().copied());
        cards.sort_unstable();
        cards.dedup();
        self.reevaluate(doc, &cards)
    }

    fn reevaluate(&mut self, doc: &CardDoc, cards: &[CardId]) -> QueryDelta {
        let txn = doc.doc.transact();
        let mut delta = QueryDelta::default();
        let mut seen = BTreeSet::new();
        for &card in cards {
            if !seen.insert(card) {
                continue;
            }
            let now = self.query.evaluate_in(&txn, doc, card);
            match (self.members.remove(&card), now) {
                (None, None) => {}
                (None, Some(key)) => {
                    self.insert(card, key);
                    delta.added.push(card);
                }
                (Some(old), None) => {
                    self.remove(card, old);
                    delta.removed.push(card);
                }
                (Some(old), Some(key)) => {
                    self.remove(card, old);
                    self.insert(card, key);
                    delta.updated.push(card);
                }
            }
        }
        delta
    }

    fn insert(&mut self, card: CardId, key: SortKey) {
        self.order.insert((key.clone(), card));
        self.members.insert(card, key);
    }

    fn remove(&mut self, card: CardId, key: SortKey) {
        self.order.remove(&(key, card));
    }
}
