//! loro 1.17: the same cards as nested containers, with loro's native movable list.
//!
//! One `commit` per action. A card is a map container under the `cards` root with a LoroText
//! body, a LoroCounter for votes and maps for max and set; a relationship is a map under a
//! `from|kind|to` key found by scanning; the sequence is a `LoroMovableList`, whose native
//! move keeps concurrent moves duplicate-free. A board is one `LoroMovableList` per column: `mov`
//! works within one list only, so a move to another column is a delete from one list plus an
//! insert into the other (which duplicates under concurrency, as yrs does). The "state vector"
//! is the oplog version vector.

use loro::{
    Container, ExportMode, LoroCounter, LoroDoc, LoroMap, LoroMovableList, LoroText, LoroValue,
    ValueOrContainer, VersionVector,
};

use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::{BOARD_COLUMNS, KIND, LINK_KIND, body, card_id, stamp};

/// A loro replica with its root containers.
pub struct Loro {
    doc: LoroDoc,
    client: u64,
    cards: LoroMap,
    relationships: LoroMap,
    sequence: LoroMovableList,
    columns: Vec<LoroMovableList>,
    tick: usize,
}

/// The queued run of K6: the confirmed state the client went offline with and one update per
/// commit.
#[derive(Clone)]
pub struct LoroOutbox {
    base: Vec<u8>,
    updates: Vec<Vec<u8>>,
}

fn missing(what: impl Into<String>) -> BenchError {
    BenchError::Missing {
        peer: Loro::NAME,
        what: what.into(),
    }
}

fn edge_key(from: usize, to: usize) -> String {
    format!("{}|{LINK_KIND}|{}", card_id(from), card_id(to))
}

impl Loro {
    fn open(doc: LoroDoc, client: u64) -> Result<Self> {
        doc.set_peer_id(client)?;
        Ok(Self {
            cards: doc.get_map("cards"),
            relationships: doc.get_map("relationships"),
            sequence: doc.get_movable_list("sequence"),
            columns: (0..BOARD_COLUMNS)
                .map(|c| doc.get_movable_list(format!("column-{c}")))
                .collect(),
            doc,
            client,
            tick: 0,
        })
    }

    fn card(&self, i: usize) -> Result<LoroMap> {
        match self.cards.get(&card_id(i).to_string()) {
            Some(ValueOrContainer::Container(Container::Map(card))) => Ok(card),
            _ => Err(missing(format!("card {i}"))),
        }
    }

    fn body_text(&self, i: usize) -> Result<LoroText> {
        match self.card(i)?.get("body") {
            Some(ValueOrContainer::Container(Container::Text(text))) => Ok(text),
            _ => Err(missing(format!("the body of card {i}"))),
        }
    }

    fn counter(&self, i: usize) -> Result<LoroCounter> {
        match self.card(i)?.get("votes") {
            Some(ValueOrContainer::Container(Container::Counter(counter))) => Ok(counter),
            _ => Err(missing(format!("votes of card {i}"))),
        }
    }

    fn is_deleted(&self, id: &str) -> bool {
        match self.cards.get(id) {
            Some(ValueOrContainer::Container(Container::Map(card))) => matches!(
                card.get("$deleted"),
                Some(ValueOrContainer::Value(LoroValue::Bool(true)))
            ),
            _ => true,
        }
    }

    fn write_card(&mut self, i: usize) -> Result<()> {
        self.tick += 1;
        let card = self
            .cards
            .insert_container(&card_id(i).to_string(), LoroMap::new())?;
        let at = stamp(self.tick).at as i64;
        card.insert("$kind", KIND)?;
        card.insert("$created_at", at)?;
        card.insert("$created_by", "bench-user")?;
        card.insert("$modified_at", at)?;
        card.insert("$modified_by", "bench-user")?;
        card.insert("title", format!("Card {i}"))?;
        card.insert("status", "todo")?;
        card.insert("priority", (i % 5) as f64)?;
        card.insert("done", false)?;
        let text = card.insert_container("body", LoroText::new())?;
        text.insert(0, body(i))?;
        let votes = card.insert_container("votes", LoroCounter::new())?;
        votes.increment(1.0)?;
        let progress = card.insert_container("progress", LoroMap::new())?;
        progress.insert(&self.client.to_string(), 0.5)?;
        let tags = card.insert_container("tags", LoroMap::new())?;
        tags.insert("backend", true)?;
        tags.insert(&format!("team-{}", i % 7), true)?;
        Ok(())
    }

    fn commit<T>(&self, result: Result<T>) -> Result<T> {
        self.doc.commit();
        result
    }
}

impl Peer for Loro {
    const NAME: &'static str = "loro";
    type Outbox = LoroOutbox;

    fn new(client: u64) -> Result<Self> {
        Self::open(LoroDoc::new(), client)
    }

    fn load(client: u64, snapshot: &[u8]) -> Result<Self> {
        Self::open(LoroDoc::from_snapshot(snapshot)?, client)
    }

    fn create_card(&mut self, i: usize) -> Result<()> {
        let result = self.write_card(i);
        self.commit(result)
    }

    fn create_cards_batched(&mut self, cards: std::ops::Range<usize>) -> Result<()> {
        let result = cards.into_iter().try_for_each(|i| self.write_card(i));
        self.commit(result)
    }

    fn create_small_card(&mut self, i: usize) -> Result<()> {
        let result = (|| {
            let card = self
                .cards
                .insert_container(&card_id(i).to_string(), LoroMap::new())?;
            card.insert("$kind", KIND)?;
            card.insert("title", format!("Card {i}"))?;
            card.insert_container("body", LoroText::new())?;
            card.insert_container("votes", LoroCounter::new())?;
            Ok(())
        })();
        self.commit(result)
    }

    fn set_field(&mut self, i: usize, field: &str, value: u64) -> Result<()> {
        let result = self.card(i).and_then(|card| {
            if field == "title" {
                card.insert(field, format!("Title {value}"))?;
            } else {
                card.insert(field, value as f64)?;
            }
            Ok(())
        });
        self.commit(result)
    }

    fn increment(&mut self, i: usize) -> Result<()> {
        let result = self
            .counter(i)
            .and_then(|c| c.increment(1.0).map_err(Into::into));
        self.commit(result)
    }

    fn votes(&self, i: usize) -> Result<i64> {
        Ok(self.counter(i)?.get_value() as i64)
    }

    fn delete_card(&mut self, i: usize) -> Result<()> {
        let result = self
            .card(i)
            .and_then(|card| card.insert("$deleted", true).map_err(Into::into));
        self.commit(result)
    }

    fn card_count(&self) -> usize {
        self.cards.keys().filter(|id| !self.is_deleted(id)).count()
    }

    fn link(&mut self, from: usize, to: usize) -> Result<()> {
        let result = (|| {
            let edge = self
                .relationships
                .insert_container(&edge_key(from, to), LoroMap::new())?;
            edge.insert("from", card_id(from).to_string())?;
            edge.insert("kind", LINK_KIND)?;
            edge.insert("to", card_id(to).to_string())?;
            Ok(())
        })();
        self.commit(result)
    }

    fn unlink(&mut self, from: usize, to: usize) -> Result<()> {
        let result = self.relationships.delete(&edge_key(from, to));
        self.commit(result.map_err(Into::into))
    }

    fn has_link(&self, from: usize, to: usize) -> bool {
        self.relationships.get(&edge_key(from, to)).is_some()
    }

    fn neighbours(&self, i: usize) -> Vec<String> {
        let me = card_id(i).to_string();
        let (mut out, mut incoming) = (Vec::new(), Vec::new());
        for key in self.relationships.keys() {
            let mut parts = key.split('|');
            let (Some(from), Some(_), Some(to)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if self.is_deleted(from) || self.is_deleted(to) {
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
        let result = self.sequence.push(card_id(i).to_string());
        self.commit(result.map_err(Into::into))
    }

    fn move_card(&mut self, _i: usize, from: usize, to: usize) -> Result<()> {
        let result = self.sequence.mov(from, to);
        self.commit(result.map_err(Into::into))
    }

    fn sequence(&self) -> Vec<String> {
        self.sequence
            .to_vec()
            .into_iter()
            .map(|v| match v {
                LoroValue::String(s) => s.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn create_board(&mut self) -> Result<()> {
        Ok(())
    }

    fn add_to_column(&mut self, i: usize, column: usize) -> Result<()> {
        let result = self.columns[column].push(card_id(i).to_string());
        self.commit(result.map_err(Into::into))
    }

    fn move_across(&mut self, i: usize, from: (usize, usize), to: (usize, usize)) -> Result<()> {
        let result = self.columns[from.0]
            .delete(from.1, 1)
            .and_then(|()| self.columns[to.0].insert(to.1, card_id(i).to_string()));
        self.commit(result.map_err(Into::into))
    }

    fn board(&self) -> Vec<Vec<String>> {
        self.columns
            .iter()
            .map(|column| {
                column
                    .to_vec()
                    .into_iter()
                    .map(|v| match v {
                        LoroValue::String(s) => s.to_string(),
                        other => format!("{other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    fn splice_body(&mut self, i: usize, index: usize, delete: usize, insert: &str) -> Result<()> {
        let result = self.body_text(i).and_then(|text| {
            if delete > 0 {
                text.delete(index, delete)?;
            }
            if !insert.is_empty() {
                text.insert(index, insert)?;
            }
            Ok(())
        });
        self.commit(result)
    }

    fn body(&self, i: usize) -> Result<String> {
        Ok(self.body_text(i)?.to_string())
    }

    fn read_card(&self, i: usize) -> Result<usize> {
        match self.card(i)?.get_deep_value() {
            LoroValue::Map(fields) => Ok(fields.len()),
            _ => Err(missing(format!("card {i} as a map"))),
        }
    }

    fn materialize(&self) -> Result<usize> {
        match self.cards.get_deep_value() {
            LoroValue::Map(cards) => Ok(cards.len()),
            _ => Err(missing("the cards as a map")),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>> {
        Ok(self.doc.export(ExportMode::Snapshot)?)
    }

    fn snapshot_alt(&self) -> Option<Vec<u8>> {
        None
    }

    fn version(&self) -> Result<Vec<u8>> {
        Ok(self.doc.oplog_vv().encode())
    }

    fn diff(&self, version: &[u8]) -> Result<Vec<u8>> {
        let vv = VersionVector::decode(version)?;
        Ok(self.doc.export(ExportMode::updates(&vv))?)
    }

    fn apply(&mut self, update: &[u8]) -> Result<()> {
        self.doc.import(update)?;
        Ok(())
    }

    fn offline_run(&mut self, i: usize, n: usize) -> Result<LoroOutbox> {
        let base = self.snapshot()?;
        let counter = self.counter(i)?;
        let mut updates = Vec::with_capacity(n);
        for _ in 0..n {
            let before = self.doc.oplog_vv();
            counter.increment(1.0)?;
            self.doc.commit();
            updates.push(self.doc.export(ExportMode::updates(&before))?);
        }
        Ok(LoroOutbox { base, updates })
    }

    fn compact(outbox: LoroOutbox) -> Result<Vec<u8>> {
        // No merge of updates without a document: import the run on top of the confirmed
        // state, export what is new once.
        let scratch = LoroDoc::from_snapshot(&outbox.base)?;
        let before = scratch.oplog_vv();
        scratch.import_batch(&outbox.updates)?;
        Ok(scratch.export(ExportMode::updates(&before))?)
    }
}
