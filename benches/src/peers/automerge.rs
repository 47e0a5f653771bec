//! automerge 0.12: the same cards as nested maps, a text and a counter.
//!
//! One [`Automerge::transaction`] per action, committed at once. A card is a map under the
//! `cards` root with scalar bookkeeping keys, a Text body, a native Counter for votes and maps
//! for max and set; a relationship is a map under a `from|kind|to` key found by scanning; a
//! sequence is a list of card ids, and a move is a delete plus an insert (automerge lists have
//! no move, so concurrent moves duplicate). A board is one list per column, and a move to
//! another column a delete from one plus an insert into the other. The "state vector" is the
//! document's heads.

use automerge::transaction::Transactable;
use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, hydrate,
};

use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::{BOARD_COLUMNS, KIND, LINK_KIND, body, card_id, stamp};

/// An automerge replica with its root objects.
pub struct Am {
    doc: Automerge,
    roots: Roots,
    tick: usize,
}

/// The ids of the root objects and of this replica's actor key in max fields.
struct Roots {
    actor: String,
    cards: ObjId,
    relationships: ObjId,
    sequence: ObjId,
    /// The board's column lists, once [`Peer::create_board`] made them.
    columns: Vec<ObjId>,
}

/// The queued run of K6: the confirmed state the client went offline with and each
/// transaction's change, encoded.
#[derive(Clone)]
pub struct AmOutbox {
    base: Vec<u8>,
    changes: Vec<u8>,
}

fn missing(what: impl Into<String>) -> BenchError {
    BenchError::Missing {
        peer: Am::NAME,
        what: what.into(),
    }
}

fn edge_key(from: usize, to: usize) -> String {
    format!("{}|{LINK_KIND}|{}", card_id(from), card_id(to))
}

fn actor(client: u64) -> ActorId {
    ActorId::from(client.to_be_bytes())
}

type Tx<'a> = automerge::transaction::Transaction<'a>;

/// Writes card `i` into `tx`: the body of [`Peer::create_card`].
fn write_card(tx: &mut Tx<'_>, roots: &Roots, i: usize, tick: usize) -> Result<()> {
    let card = tx.put_object(&roots.cards, card_id(i).to_string(), ObjType::Map)?;
    let at = stamp(tick).at as i64;
    tx.put(&card, "$kind", KIND)?;
    tx.put(&card, "$created_at", at)?;
    tx.put(&card, "$created_by", "bench-user")?;
    tx.put(&card, "$modified_at", at)?;
    tx.put(&card, "$modified_by", "bench-user")?;
    tx.put(&card, "title", format!("Card {i}"))?;
    tx.put(&card, "status", "todo")?;
    tx.put(&card, "priority", (i % 5) as f64)?;
    tx.put(&card, "done", false)?;
    let text = tx.put_object(&card, "body", ObjType::Text)?;
    tx.splice_text(&text, 0, 0, body(i))?;
    tx.put(&card, "votes", ScalarValue::counter(1))?;
    let progress = tx.put_object(&card, "progress", ObjType::Map)?;
    tx.put(&progress, roots.actor.as_str(), 0.5)?;
    let tags = tx.put_object(&card, "tags", ObjType::Map)?;
    tx.put(&tags, "backend", true)?;
    tx.put(&tags, format!("team-{}", i % 7), true)?;
    Ok(())
}

fn get_obj<O: AsRef<automerge::ObjId>>(doc: &Automerge, obj: O, key: &str) -> Result<ObjId> {
    match doc.get(obj, key)? {
        Some((_, id)) => Ok(id),
        None => Err(missing(key.to_owned())),
    }
}

fn is_deleted(doc: &Automerge, roots: &Roots, id: &str) -> bool {
    match doc.get(&roots.cards, id) {
        Ok(Some((_, card))) => matches!(
            doc.get(&card, "$deleted"),
            Ok(Some((automerge::Value::Scalar(v), _))) if v.as_ref() == &ScalarValue::Boolean(true)
        ),
        _ => true,
    }
}

fn column_name(c: usize) -> String {
    format!("column-{c}")
}

fn heads(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}

impl Am {
    fn open(doc: Automerge, client: u64) -> Result<Self> {
        let roots = Roots {
            actor: client.to_string(),
            cards: get_obj(&doc, ROOT, "cards")?,
            relationships: get_obj(&doc, ROOT, "relationships")?,
            sequence: get_obj(&doc, ROOT, "sequence")?,
            columns: (0..BOARD_COLUMNS)
                .map_while(|c| get_obj(&doc, ROOT, &column_name(c)).ok())
                .collect(),
        };
        Ok(Self {
            doc,
            roots,
            tick: 0,
        })
    }

    fn card(&self, i: usize) -> Result<ObjId> {
        get_obj(&self.doc, &self.roots.cards, &card_id(i).to_string())
    }

    /// A list of card ids as strings.
    fn list(&self, list: &ObjId) -> Vec<String> {
        (0..self.doc.length(list))
            .map(|index| match self.doc.get(list, index) {
                Ok(Some((automerge::Value::Scalar(v), _))) => match v.as_ref() {
                    ScalarValue::Str(s) => s.to_string(),
                    other => other.to_string(),
                },
                _ => String::new(),
            })
            .collect()
    }

    /// Board column `c`'s list.
    fn column(&self, c: usize) -> Result<ObjId> {
        self.roots
            .columns
            .get(c)
            .cloned()
            .ok_or_else(|| missing(column_name(c)))
    }

    /// Runs `f` in one transaction and commits it.
    fn transact(&mut self, f: impl FnOnce(&mut Tx<'_>, &Roots, usize) -> Result<()>) -> Result<()> {
        self.tick += 1;
        let mut tx = self.doc.transaction();
        let result = f(&mut tx, &self.roots, self.tick);
        tx.commit();
        result
    }
}

impl Peer for Am {
    const NAME: &'static str = "automerge";
    type Outbox = AmOutbox;

    fn new(client: u64) -> Result<Self> {
        // The roots are made by one fixed actor in one change, so replicas created apart
        // share them (as replicas forked from one document would).
        let mut doc = Automerge::new().with_actor(actor(0));
        let mut tx = doc.transaction();
        tx.put_object(ROOT, "cards", ObjType::Map)?;
        tx.put_object(ROOT, "relationships", ObjType::Map)?;
        tx.put_object(ROOT, "sequence", ObjType::List)?;
        tx.commit();
        doc.set_actor(actor(client));
        Self::open(doc, client)
    }

    fn load(client: u64, snapshot: &[u8]) -> Result<Self> {
        let doc = Automerge::load(snapshot)?.with_actor(actor(client));
        Self::open(doc, client)
    }

    fn create_card(&mut self, i: usize) -> Result<()> {
        self.transact(|tx, roots, tick| write_card(tx, roots, i, tick))
    }

    fn create_cards_batched(&mut self, cards: std::ops::Range<usize>) -> Result<()> {
        self.transact(|tx, roots, tick| {
            cards
                .into_iter()
                .try_for_each(|i| write_card(tx, roots, i, tick))
        })
    }

    fn create_small_card(&mut self, i: usize) -> Result<()> {
        self.transact(|tx, roots, _| {
            let card = tx.put_object(&roots.cards, card_id(i).to_string(), ObjType::Map)?;
            tx.put(&card, "$kind", KIND)?;
            tx.put(&card, "title", format!("Card {i}"))?;
            tx.put_object(&card, "body", ObjType::Text)?;
            tx.put(&card, "votes", ScalarValue::counter(0))?;
            Ok(())
        })
    }

    fn set_field(&mut self, i: usize, field: &str, value: u64) -> Result<()> {
        let card = self.card(i)?;
        self.transact(|tx, _, _| {
            if field == "title" {
                tx.put(&card, field, format!("Title {value}"))?;
            } else {
                tx.put(&card, field, value as f64)?;
            }
            Ok(())
        })
    }

    fn increment(&mut self, i: usize) -> Result<()> {
        let card = self.card(i)?;
        self.transact(|tx, _, _| Ok(tx.increment(&card, "votes", 1)?))
    }

    fn votes(&self, i: usize) -> Result<i64> {
        match self.doc.get(&self.card(i)?, "votes")? {
            Some((automerge::Value::Scalar(v), _)) => {
                v.as_i64().ok_or_else(|| missing("a counter"))
            }
            _ => Err(missing(format!("votes of card {i}"))),
        }
    }

    fn delete_card(&mut self, i: usize) -> Result<()> {
        let card = self.card(i)?;
        self.transact(|tx, _, _| Ok(tx.put(&card, "$deleted", true)?))
    }

    fn card_count(&self) -> usize {
        self.doc
            .keys(&self.roots.cards)
            .filter(|id| !is_deleted(&self.doc, &self.roots, id))
            .count()
    }

    fn link(&mut self, from: usize, to: usize) -> Result<()> {
        self.transact(|tx, roots, _| {
            let edge = tx.put_object(&roots.relationships, edge_key(from, to), ObjType::Map)?;
            tx.put(&edge, "from", card_id(from).to_string())?;
            tx.put(&edge, "kind", LINK_KIND)?;
            tx.put(&edge, "to", card_id(to).to_string())?;
            Ok(())
        })
    }

    fn unlink(&mut self, from: usize, to: usize) -> Result<()> {
        self.transact(|tx, roots, _| Ok(tx.delete(&roots.relationships, edge_key(from, to))?))
    }

    fn has_link(&self, from: usize, to: usize) -> bool {
        matches!(
            self.doc.get(&self.roots.relationships, edge_key(from, to)),
            Ok(Some(_))
        )
    }

    fn neighbours(&self, i: usize) -> Vec<String> {
        let me = card_id(i).to_string();
        let (mut out, mut incoming) = (Vec::new(), Vec::new());
        for key in self.doc.keys(&self.roots.relationships) {
            let mut parts = key.split('|');
            let (Some(from), Some(_), Some(to)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if is_deleted(&self.doc, &self.roots, from) || is_deleted(&self.doc, &self.roots, to) {
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
        let len = self.doc.length(&self.roots.sequence);
        self.transact(|tx, roots, _| Ok(tx.insert(&roots.sequence, len, card_id(i).to_string())?))
    }

    fn move_card(&mut self, i: usize, from: usize, to: usize) -> Result<()> {
        self.transact(|tx, roots, _| {
            tx.delete(&roots.sequence, from)?;
            tx.insert(&roots.sequence, to, card_id(i).to_string())?;
            Ok(())
        })
    }

    fn sequence(&self) -> Vec<String> {
        self.list(&self.roots.sequence)
    }

    fn create_board(&mut self) -> Result<()> {
        self.tick += 1;
        let mut tx = self.doc.transaction();
        let columns: std::result::Result<Vec<ObjId>, _> = (0..BOARD_COLUMNS)
            .map(|c| tx.put_object(ROOT, column_name(c), ObjType::List))
            .collect();
        tx.commit();
        self.roots.columns = columns?;
        Ok(())
    }

    fn add_to_column(&mut self, i: usize, column: usize) -> Result<()> {
        let list = self.column(column)?;
        let len = self.doc.length(&list);
        self.transact(|tx, _, _| Ok(tx.insert(&list, len, card_id(i).to_string())?))
    }

    fn move_across(&mut self, i: usize, from: (usize, usize), to: (usize, usize)) -> Result<()> {
        let (source, target) = (self.column(from.0)?, self.column(to.0)?);
        self.transact(|tx, _, _| {
            tx.delete(&source, from.1)?;
            tx.insert(&target, to.1, card_id(i).to_string())?;
            Ok(())
        })
    }

    fn board(&self) -> Vec<Vec<String>> {
        self.roots
            .columns
            .iter()
            .map(|list| self.list(list))
            .collect()
    }

    fn splice_body(&mut self, i: usize, index: usize, delete: usize, insert: &str) -> Result<()> {
        let text = get_obj(&self.doc, self.card(i)?, "body")?;
        let delete = isize::try_from(delete).unwrap_or(isize::MAX);
        self.transact(|tx, _, _| Ok(tx.splice_text(&text, index, delete, insert)?))
    }

    fn body(&self, i: usize) -> Result<String> {
        let text = get_obj(&self.doc, self.card(i)?, "body")?;
        Ok(self.doc.text(&text)?)
    }

    fn read_card(&self, i: usize) -> Result<usize> {
        match ReadDoc::hydrate(&self.doc, self.card(i)?, None)? {
            hydrate::Value::Map(fields) => Ok(fields.len()),
            _ => Err(missing(format!("card {i} as a map"))),
        }
    }

    fn materialize(&self) -> Result<usize> {
        match ReadDoc::hydrate(&self.doc, &self.roots.cards, None)? {
            hydrate::Value::Map(cards) => Ok(cards.len()),
            _ => Err(missing("the cards as a map")),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>> {
        Ok(self.doc.save())
    }

    fn snapshot_alt(&self) -> Option<Vec<u8>> {
        None
    }

    fn version(&self) -> Result<Vec<u8>> {
        Ok(self.doc.get_heads().iter().flat_map(|h| h.0).collect())
    }

    fn diff(&self, version: &[u8]) -> Result<Vec<u8>> {
        Ok(self.doc.save_after(&heads(version)))
    }

    fn apply(&mut self, update: &[u8]) -> Result<()> {
        self.doc.load_incremental(update)?;
        Ok(())
    }

    fn offline_run(&mut self, i: usize, n: usize) -> Result<AmOutbox> {
        let base = self.doc.save();
        let before = self.doc.get_heads();
        for _ in 0..n {
            self.increment(i)?;
        }
        // Each transaction's change, encoded, as a queue of them would hold; read in one
        // pass at the end (automerge 0.12 rebuilds a change from the op set on every read,
        // which per transaction made the setup quadratic).
        let changes = self
            .doc
            .get_changes(&before)
            .iter()
            .flat_map(|c| c.raw_bytes().to_vec())
            .collect();
        Ok(AmOutbox { base, changes })
    }

    fn compact(outbox: AmOutbox) -> Result<Vec<u8>> {
        // No merge of changes without a document: load the confirmed state, apply the run in
        // one pass, save what is new as one chunk.
        let mut scratch = Automerge::load(&outbox.base)?;
        let before = scratch.get_heads();
        scratch.load_incremental(&outbox.changes)?;
        Ok(scratch.save_after(&before))
    }
}
