//! cardsync: the library under test, through its public API only.
//!
//! Cards, links, sequence moves and board moves are single [`CardDoc`] calls (one transaction each), the
//! way an app calls them. The outbox of K6 is the sync layer's [`Outbox`], fed the batches a
//! session makes, so the compaction figure is the one a client pays.

use cardsync_core::{CardDoc, FieldValue, Op, Origin, Value};
use cardsync_sync::outbox::{Batch, Outbox, OutboxLimits};
use cardsync_sync::protocol::BatchId;

use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::{
    BOARD_COLUMNS, BOARD_KIND, LINK_KIND, board_id, card_id, column_id, create_card_ops, schema,
    sequence_id, stamp,
};

/// A cardsync replica and the stamp counter its actions draw from.
pub struct Cardsync {
    doc: CardDoc,
    client: u64,
    tick: usize,
}

impl Cardsync {
    fn next_stamp(&mut self) -> cardsync_core::Stamp {
        self.tick += 1;
        stamp(self.tick)
    }

    fn missing(what: impl Into<String>) -> BenchError {
        BenchError::Missing {
            peer: Self::NAME,
            what: what.into(),
        }
    }

    /// The document, for checks that need more than the trait offers.
    pub fn doc(&self) -> &CardDoc {
        &self.doc
    }
}

impl Peer for Cardsync {
    const NAME: &'static str = "cardsync";
    type Outbox = Vec<Batch>;

    fn new(client: u64) -> Result<Self> {
        Ok(Self {
            doc: CardDoc::with_schema(schema(), client)?,
            client,
            tick: 0,
        })
    }

    fn load(client: u64, snapshot: &[u8]) -> Result<Self> {
        Ok(Self {
            doc: CardDoc::load_v1(schema(), client, snapshot)?,
            client,
            tick: 0,
        })
    }

    fn create_card(&mut self, i: usize) -> Result<()> {
        let stamp = self.next_stamp();
        Ok(self.doc.apply(&stamp, &create_card_ops(i))?)
    }

    fn create_cards_batched(&mut self, cards: std::ops::Range<usize>) -> Result<()> {
        let stamp = self.next_stamp();
        let ops: Vec<Op> = cards.flat_map(create_card_ops).collect();
        Ok(self.doc.apply(&stamp, &ops)?)
    }

    fn create_small_card(&mut self, i: usize) -> Result<()> {
        let stamp = self.next_stamp();
        let title = Value::from(format!("Card {i}"));
        Ok(self
            .doc
            .create_card(&stamp, card_id(i), crate::KIND, [("title", title)])?)
    }

    fn set_field(&mut self, i: usize, field: &str, value: u64) -> Result<()> {
        let stamp = self.next_stamp();
        let value = if field == "title" {
            Value::from(format!("Title {value}"))
        } else {
            Value::from(value as f64)
        };
        Ok(self.doc.set_field(&stamp, card_id(i), field, value)?)
    }

    fn increment(&mut self, i: usize) -> Result<()> {
        let stamp = self.next_stamp();
        Ok(self.doc.increment(&stamp, card_id(i), "votes", 1)?)
    }

    fn votes(&self, i: usize) -> Result<i64> {
        let card = self
            .doc
            .card(card_id(i))
            .ok_or_else(|| Self::missing(format!("card {i}")))?;
        match card.fields.get("votes") {
            Some(FieldValue::Counter(n)) => Ok(*n),
            _ => Err(Self::missing(format!("votes of card {i}"))),
        }
    }

    fn delete_card(&mut self, i: usize) -> Result<()> {
        let stamp = self.next_stamp();
        Ok(self.doc.delete_card(&stamp, card_id(i))?)
    }

    fn card_count(&self) -> usize {
        self.doc.cards(None).iter().filter(|c| !c.deleted).count()
    }

    fn link(&mut self, from: usize, to: usize) -> Result<()> {
        let stamp = self.next_stamp();
        let (from, to) = (card_id(from), card_id(to));
        Ok(self
            .doc
            .link(&stamp, from, LINK_KIND, to, Default::default())?)
    }

    fn unlink(&mut self, from: usize, to: usize) -> Result<()> {
        let stamp = self.next_stamp();
        Ok(self
            .doc
            .unlink(&stamp, card_id(from), LINK_KIND, card_id(to))?)
    }

    fn has_link(&self, from: usize, to: usize) -> bool {
        self.doc
            .relationship(card_id(from), LINK_KIND, card_id(to))
            .is_some()
    }

    fn neighbours(&self, i: usize) -> Vec<String> {
        let card = card_id(i);
        let mut out: Vec<String> = self
            .doc
            .outgoing(card)
            .iter()
            .map(|r| r.to.to_string())
            .collect();
        let mut incoming: Vec<String> = self
            .doc
            .incoming(card)
            .iter()
            .map(|r| r.from.to_string())
            .collect();
        out.sort();
        incoming.sort();
        out.extend(incoming);
        out
    }

    fn create_sequence(&mut self) -> Result<()> {
        let stamp = self.next_stamp();
        Ok(self.doc.create_sequence(&stamp, sequence_id())?)
    }

    fn append(&mut self, i: usize) -> Result<()> {
        let stamp = self.next_stamp();
        Ok(self
            .doc
            .insert_into_sequence(&stamp, sequence_id(), card_id(i), u32::MAX)?)
    }

    fn move_card(&mut self, i: usize, _from: usize, to: usize) -> Result<()> {
        let stamp = self.next_stamp();
        let to = u32::try_from(to).unwrap_or(u32::MAX);
        Ok(self
            .doc
            .move_in_sequence(&stamp, sequence_id(), card_id(i), to)?)
    }

    fn sequence(&self) -> Vec<String> {
        self.doc
            .sequence(sequence_id())
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn create_board(&mut self) -> Result<()> {
        let stamp = self.next_stamp();
        let board = board_id();
        let mut ops = vec![Op::CreateBoard {
            board,
            kind: BOARD_KIND.to_owned(),
        }];
        ops.extend((0..BOARD_COLUMNS).map(|c| Op::AddColumn {
            board,
            column: column_id(c),
            name: format!("Column {c}"),
            index: u32::try_from(c).unwrap_or(u32::MAX),
        }));
        Ok(self.doc.apply(&stamp, &ops)?)
    }

    fn add_to_column(&mut self, i: usize, column: usize) -> Result<()> {
        let stamp = self.next_stamp();
        Ok(self
            .doc
            .place_card(&stamp, board_id(), card_id(i), column_id(column), u32::MAX)?)
    }

    fn move_across(&mut self, i: usize, _from: (usize, usize), to: (usize, usize)) -> Result<()> {
        let stamp = self.next_stamp();
        let index = u32::try_from(to.1).unwrap_or(u32::MAX);
        Ok(self
            .doc
            .place_card(&stamp, board_id(), card_id(i), column_id(to.0), index)?)
    }

    fn board(&self) -> Vec<Vec<String>> {
        self.doc
            .board(board_id())
            .map(|view| {
                view.columns
                    .iter()
                    .map(|c| c.cards.iter().map(ToString::to_string).collect())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn splice_body(&mut self, i: usize, index: usize, delete: usize, insert: &str) -> Result<()> {
        let stamp = self.next_stamp();
        let (card, index) = (card_id(i), u32::try_from(index).unwrap_or(u32::MAX));
        let mut ops = Vec::with_capacity(2);
        if delete > 0 {
            ops.push(Op::DeleteText {
                card,
                field: "body".to_owned(),
                index,
                len: u32::try_from(delete).unwrap_or(u32::MAX),
            });
        }
        if !insert.is_empty() {
            ops.push(Op::InsertText {
                card,
                field: "body".to_owned(),
                index,
                text: insert.to_owned(),
                attributes: Default::default(),
            });
        }
        Ok(self.doc.apply(&stamp, &ops)?)
    }

    fn body(&self, i: usize) -> Result<String> {
        let card = self
            .doc
            .card(card_id(i))
            .ok_or_else(|| Self::missing(format!("card {i}")))?;
        match card.fields.get("body") {
            Some(FieldValue::Text(text)) => Ok(text.clone()),
            None => Ok(String::new()),
            Some(_) => Err(Self::missing(format!("the body text of card {i}"))),
        }
    }

    fn read_card(&self, i: usize) -> Result<usize> {
        let card = self
            .doc
            .card(card_id(i))
            .ok_or_else(|| Self::missing(format!("card {i}")))?;
        Ok(card.fields.len())
    }

    fn materialize(&self) -> Result<usize> {
        Ok(self.doc.cards(None).len())
    }

    fn snapshot(&self) -> Result<Vec<u8>> {
        Ok(self.doc.snapshot_v1())
    }

    fn snapshot_alt(&self) -> Option<Vec<u8>> {
        Some(self.doc.snapshot_v2())
    }

    fn version(&self) -> Result<Vec<u8>> {
        Ok(self.doc.state_vector())
    }

    fn diff(&self, version: &[u8]) -> Result<Vec<u8>> {
        Ok(self.doc.diff_v1(version)?)
    }

    fn apply(&mut self, update: &[u8]) -> Result<()> {
        Ok(self.doc.apply_update_v1(update)?)
    }

    fn offline_run(&mut self, i: usize, n: usize) -> Result<Vec<Batch>> {
        let mut batches = Vec::with_capacity(n);
        for seq in 0..n {
            let stamp = self.next_stamp();
            let ops = vec![Op::Increment {
                card: card_id(i),
                field: "votes".to_owned(),
                by: 1,
            }];
            let applied = self.doc.apply_with_origin(&stamp, &ops, Origin::Local)?;
            batches.push(Batch {
                id: BatchId {
                    client: self.client,
                    seq: seq as u64,
                },
                stamp,
                ops,
                update: applied.update.into(),
                clock: applied.clock,
                created_at: seq as u64,
                parts: Vec::new(),
                rejected: None,
            });
        }
        Ok(batches)
    }

    fn compact(batches: Vec<Batch>) -> Result<Vec<u8>> {
        // Queued by this outbox, as a session does (restored batches are never coalesced:
        // they may have been sent); one batch for the whole run, the cap is above its size.
        let limits = OutboxLimits {
            compact_max_bytes: usize::MAX,
            max_batches: usize::MAX,
            max_bytes: usize::MAX,
        };
        let mut outbox = Outbox::new(limits, Vec::new());
        for batch in batches {
            outbox.push(batch);
        }
        outbox.compact()?;
        let mut batches = outbox.batches();
        match (batches.next(), batches.next()) {
            (Some(batch), None) => Ok(batch.update.to_vec()),
            _ => Err(Self::missing("one batch after compaction")),
        }
    }
}
