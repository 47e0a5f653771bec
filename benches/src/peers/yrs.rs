//! Raw yrs 0.28.1: the overhead floor.
//!
//! Cards are stored as cardsync stores them ([`crate::raw::card_prelim`]: the same keys, a
//! Y.Text body, counter/max/set as nested Y.Maps keyed by client id), so the cardsync/yrs ratio
//! is what cardsync's validation, indexes, events and undo cost. Where cardsync adds a design
//! on top of yrs, this peer does the plain yrs thing instead: a relationship is a Y.Map under
//! a `from|kind|to` key found by scanning, a sequence is a Y.Array of card ids and a move is a
//! delete plus an insert (so concurrent moves duplicate, which K4 shows). A board is one Y.Array
//! per column, and a move to another column a delete from one plus an insert into the other.

use yrs::types::ToJson;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Any, Array, ArrayRef, Doc, GetString, In, Map, MapPrelim, MapRef, Out, ReadTxn, StateVector,
    Text, TextRef, Transact, Update,
};

use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::{BOARD_COLUMNS, LINK_KIND, card_id, raw::card_prelim};

/// A yrs replica with its root handles.
pub struct Yrs {
    doc: Doc,
    client: u64,
    cards: MapRef,
    relationships: MapRef,
    sequence: ArrayRef,
    columns: Vec<ArrayRef>,
}

/// The queued run of K6: the state the client had when it went offline (its last confirmed
/// state, which a client keeps anyway) and one v1 update per transaction.
#[derive(Clone)]
pub struct YrsOutbox {
    base: Vec<u8>,
    updates: Vec<Vec<u8>>,
}

fn edge_key(from: usize, to: usize) -> String {
    format!("{}|{LINK_KIND}|{}", card_id(from), card_id(to))
}

fn missing(what: impl Into<String>) -> BenchError {
    BenchError::Missing {
        peer: Yrs::NAME,
        what: what.into(),
    }
}

impl Yrs {
    fn card<T: ReadTxn>(&self, txn: &T, i: usize) -> Result<MapRef> {
        match self.cards.get(txn, &card_id(i).to_string()) {
            Some(Out::YMap(card)) => Ok(card),
            _ => Err(missing(format!("card {i}"))),
        }
    }

    fn body_text<T: ReadTxn>(&self, txn: &T, i: usize) -> Result<TextRef> {
        match self.card(txn, i)?.get(txn, "body") {
            Some(Out::YText(text)) => Ok(text),
            _ => Err(missing(format!("the body of card {i}"))),
        }
    }

    fn is_deleted<T: ReadTxn>(&self, txn: &T, id: &str) -> bool {
        match self.cards.get(txn, id) {
            Some(Out::YMap(card)) => {
                matches!(card.get(txn, "$deleted"), Some(Out::Any(Any::Bool(true))))
            }
            _ => true,
        }
    }

    fn increment_in(&self, txn: &mut yrs::TransactionMut<'_>, i: usize) -> Result<()> {
        let card = self.card(txn, i)?;
        let Some(Out::YMap(votes)) = card.get(txn, "votes") else {
            return Err(missing(format!("votes of card {i}")));
        };
        let key = self.client.to_string();
        let now = match votes.get(txn, &key) {
            Some(Out::Any(Any::Number(n))) => n.as_i64().unwrap_or(0),
            _ => 0,
        };
        votes.insert(txn, key, Any::Number(yrs::Number::Int(now + 1)));
        Ok(())
    }

    fn with_doc(doc: Doc, client: u64) -> Self {
        let cards = doc.get_or_insert_map("cards");
        let relationships = doc.get_or_insert_map("relationships");
        let sequence = doc.get_or_insert_array("sequence");
        let columns = (0..BOARD_COLUMNS)
            .map(|c| doc.get_or_insert_array(format!("column-{c}")))
            .collect();
        Self {
            doc,
            client,
            cards,
            relationships,
            sequence,
            columns,
        }
    }

    fn empty(client: u64) -> Doc {
        let mut options =
            yrs::Options::with_guid_and_client_id("raw".into(), yrs::block::ClientID::new(client));
        options.offset_kind = yrs::OffsetKind::Utf16;
        Doc::with_options(options)
    }
}

impl Peer for Yrs {
    const NAME: &'static str = "yrs";
    type Outbox = YrsOutbox;

    fn new(client: u64) -> Result<Self> {
        Ok(Self::with_doc(Self::empty(client), client))
    }

    fn load(client: u64, snapshot: &[u8]) -> Result<Self> {
        let peer = Self::with_doc(Self::empty(client), client);
        peer.doc
            .transact_mut()
            .apply_update(Update::decode_v1(snapshot)?)?;
        Ok(peer)
    }

    fn create_card(&mut self, i: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.cards.insert(
            &mut txn,
            card_id(i).to_string(),
            card_prelim(i, self.client),
        );
        Ok(())
    }

    fn create_cards_batched(&mut self, cards: std::ops::Range<usize>) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        for i in cards {
            self.cards.insert(
                &mut txn,
                card_id(i).to_string(),
                card_prelim(i, self.client),
            );
        }
        Ok(())
    }

    fn create_small_card(&mut self, i: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        let card = MapPrelim::from_iter([
            ("$kind".to_owned(), In::from(crate::KIND)),
            ("title".to_owned(), In::from(format!("Card {i}"))),
            ("body".to_owned(), In::Text(Default::default())),
            ("votes".to_owned(), In::Map(MapPrelim::default())),
        ]);
        self.cards.insert(&mut txn, card_id(i).to_string(), card);
        Ok(())
    }

    fn set_field(&mut self, i: usize, field: &str, value: u64) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        let card = self.card(&txn, i)?;
        if field == "title" {
            card.insert(&mut txn, field, format!("Title {value}"));
        } else {
            card.insert(&mut txn, field, value as f64);
        }
        Ok(())
    }

    fn increment(&mut self, i: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.increment_in(&mut txn, i)
    }

    fn votes(&self, i: usize) -> Result<i64> {
        let txn = self.doc.transact();
        let Some(Out::YMap(votes)) = self.card(&txn, i)?.get(&txn, "votes") else {
            return Err(missing(format!("votes of card {i}")));
        };
        Ok(votes
            .iter(&txn)
            .map(|(_, v)| match v {
                Out::Any(Any::Number(n)) => n.as_i64().unwrap_or(0),
                _ => 0,
            })
            .sum())
    }

    fn delete_card(&mut self, i: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.card(&txn, i)?.insert(&mut txn, "$deleted", true);
        Ok(())
    }

    fn card_count(&self) -> usize {
        let txn = self.doc.transact();
        self.cards
            .keys(&txn)
            .filter(|id| !self.is_deleted(&txn, id))
            .count()
    }

    fn link(&mut self, from: usize, to: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        let edge = MapPrelim::from_iter([
            ("from".to_owned(), In::from(card_id(from).to_string())),
            ("kind".to_owned(), In::from(LINK_KIND)),
            ("to".to_owned(), In::from(card_id(to).to_string())),
        ]);
        self.relationships
            .insert(&mut txn, edge_key(from, to), edge);
        Ok(())
    }

    fn unlink(&mut self, from: usize, to: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.relationships.remove(&mut txn, &edge_key(from, to));
        Ok(())
    }

    fn has_link(&self, from: usize, to: usize) -> bool {
        let txn = self.doc.transact();
        self.relationships.contains_key(&txn, &edge_key(from, to))
    }

    fn neighbours(&self, i: usize) -> Vec<String> {
        let me = card_id(i).to_string();
        let txn = self.doc.transact();
        let (mut out, mut incoming) = (Vec::new(), Vec::new());
        for key in self.relationships.keys(&txn) {
            let mut parts = key.split('|');
            let (Some(from), Some(_), Some(to)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if self.is_deleted(&txn, from) || self.is_deleted(&txn, to) {
                continue;
            }
            if from == me {
                out.push(to.to_owned());
            } else if to == me {
                incoming.push(from.to_owned());
            }
        }
        out.sort();
        incoming.sort();
        out.extend(incoming);
        out
    }

    fn create_sequence(&mut self) -> Result<()> {
        Ok(())
    }

    fn append(&mut self, i: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.sequence.push_back(&mut txn, card_id(i).to_string());
        Ok(())
    }

    fn move_card(&mut self, i: usize, from: usize, to: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        let (from, to) = (
            u32::try_from(from).unwrap_or(u32::MAX),
            u32::try_from(to).unwrap_or(u32::MAX),
        );
        self.sequence.remove(&mut txn, from);
        self.sequence.insert(&mut txn, to, card_id(i).to_string());
        Ok(())
    }

    fn sequence(&self) -> Vec<String> {
        let txn = self.doc.transact();
        self.sequence
            .iter(&txn)
            .map(|v| v.to_string(&txn))
            .collect()
    }

    fn create_board(&mut self) -> Result<()> {
        // Root arrays need no creation (and an empty root is not stored).
        Ok(())
    }

    fn add_to_column(&mut self, i: usize, column: usize) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        self.columns[column].push_back(&mut txn, card_id(i).to_string());
        Ok(())
    }

    fn move_across(&mut self, i: usize, from: (usize, usize), to: (usize, usize)) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        self.columns[from.0].remove(&mut txn, index(from.1));
        self.columns[to.0].insert(&mut txn, index(to.1), card_id(i).to_string());
        Ok(())
    }

    fn board(&self) -> Vec<Vec<String>> {
        let txn = self.doc.transact();
        self.columns
            .iter()
            .map(|column| column.iter(&txn).map(|v| v.to_string(&txn)).collect())
            .collect()
    }

    fn splice_body(&mut self, i: usize, index: usize, delete: usize, insert: &str) -> Result<()> {
        let mut txn = self.doc.transact_mut();
        let text = self.body_text(&txn, i)?;
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        if delete > 0 {
            text.remove_range(&mut txn, index, u32::try_from(delete).unwrap_or(u32::MAX));
        }
        if !insert.is_empty() {
            text.insert(&mut txn, index, insert);
        }
        Ok(())
    }

    fn body(&self, i: usize) -> Result<String> {
        let txn = self.doc.transact();
        Ok(self.body_text(&txn, i)?.get_string(&txn))
    }

    fn read_card(&self, i: usize) -> Result<usize> {
        let txn = self.doc.transact();
        match self.card(&txn, i)?.to_json(&txn) {
            Any::Map(fields) => Ok(fields.len()),
            _ => Err(missing(format!("card {i} as a map"))),
        }
    }

    fn materialize(&self) -> Result<usize> {
        let txn = self.doc.transact();
        match self.cards.to_json(&txn) {
            Any::Map(cards) => Ok(cards.len()),
            _ => Err(missing("the cards as a map")),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>> {
        Ok(self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default()))
    }

    fn snapshot_alt(&self) -> Option<Vec<u8>> {
        Some(
            self.doc
                .transact()
                .encode_state_as_update_v2(&StateVector::default()),
        )
    }

    fn version(&self) -> Result<Vec<u8>> {
        Ok(self.doc.transact().state_vector().encode_v1())
    }

    fn diff(&self, version: &[u8]) -> Result<Vec<u8>> {
        let sv = StateVector::decode_v1(version)?;
        Ok(self.doc.transact().encode_diff_v1(&sv))
    }

    fn apply(&mut self, update: &[u8]) -> Result<()> {
        let update = Update::decode_v1(update)?;
        Ok(self.doc.transact_mut().apply_update(update)?)
    }

    fn offline_run(&mut self, i: usize, n: usize) -> Result<YrsOutbox> {
        let base = self.snapshot()?;
        let mut updates = Vec::with_capacity(n);
        for _ in 0..n {
            let mut txn = self.doc.transact_mut();
            self.increment_in(&mut txn, i)?;
            // This transaction's own changes, as an `observe_update_v1` subscriber gets them.
            updates.push(txn.encode_update_v1());
        }
        Ok(YrsOutbox { base, updates })
    }

    fn compact(outbox: YrsOutbox) -> Result<Vec<u8>> {
        // docs/design.md §4: not `merge_updates_v1` (super-linear), but a scratch doc that applies
        // the run on top of the confirmed state and encodes what is new once.
        let scratch = Doc::with_client_id(0);
        let mut txn = scratch.transact_mut();
        txn.apply_update(Update::decode_v1(&outbox.base)?)?;
        let base = txn.state_vector();
        for update in &outbox.updates {
            txn.apply_update(Update::decode_v1(update)?)?;
        }
        Ok(txn.encode_diff_v1(&base))
    }
}
