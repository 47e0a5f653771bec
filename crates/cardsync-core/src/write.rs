//! Applying validated ops to the yrs document, one transaction per batch.
//!
//! Layout per card (docs/design.md §3): `$kind`, `$created`, `$modified` and `$deleted` bookkeeping
//! keys beside the fields. Registers are plain entries; text is a nested Y.Text; counter, max
//! and set fields are nested Y.Maps. The containers of the fields the card's schema knows are
//! created *with the card*, which nobody else can race to create; a field added to the schema
//! later gets its container from [`crate::container`], as one fixed item that concurrent
//! creations share. Nothing here creates a container: a write finds it, or (for ops that only
//! take away) finds nothing to take away. Counter and max entries are keyed by the yrs client
//! id, which is unique per replica and fresh after a rollback, so two tabs of one user never
//! overwrite each other's counts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use yrs::{
    Any, In, Map, MapPrelim, MapRef, Number, Out, Text, TextPrelim, Transact, TransactionMut,
};

use crate::doc::CardDoc;
use crate::error::WriteError;
use crate::events::Origin;
use crate::ids::{CardId, RelationshipKey};
use crate::layout;
use crate::ops::{Op, Stamp};
use crate::read::read_stamp;
use crate::validate::Overlay;
use crate::value::{Attributes, FieldKind, Value, attributes_to_any, integer, number};

/// What one local transaction wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The transaction's own changes as a v1 update (its inserts and deletes only, not the
    /// document's whole delete set as a state-vector diff would carry).
    pub update: Vec<u8>,
    /// The clocks of this replica's client id that the transaction used.
    pub clock: std::ops::Range<u32>,
}

/// Whether `stored` (a card's `$modified`) is `stamp`'s actor's own, less than
/// [`layout::MODIFIED_RESOLUTION`] before it: then it stays (see there why).
fn recently_modified_by(stored: Option<Stamp>, stamp: &Stamp) -> bool {
    stored.is_some_and(|old| {
        old.by == stamp.by && stamp.at >= old.at && stamp.at - old.at < layout::MODIFIED_RESOLUTION
    })
}

fn stamp_any(stamp: &Stamp) -> Any {
    Any::from(HashMap::from([
        (
            layout::STAMP_AT.to_owned(),
            Any::Number(Number::try_i64(stamp.at as f64)),
        ),
        (
            layout::STAMP_BY.to_owned(),
            Any::String(Arc::from(stamp.by.as_str())),
        ),
    ]))
}

/// A time-ordered register's slot: `{value, at}`.
fn slot_any(at: u64, value: &Value) -> Any {
    Any::from(HashMap::from([
        (layout::SLOT_VALUE.to_owned(), value.to_any()),
        (
            layout::SLOT_AT.to_owned(),
            Any::Number(Number::try_i64(at as f64)),
        ),
    ]))
}

/// A relationship's value: its ends, kind and removed flag, as one plain map.
fn edge_value(key: &RelationshipKey, removed: bool) -> Any {
    Any::from(HashMap::from([
        (layout::FROM.to_owned(), Any::from(key.from.to_string())),
        (layout::REL_KIND.to_owned(), Any::from(key.kind.as_str())),
        (layout::TO.to_owned(), Any::from(key.to.to_string())),
        (layout::REMOVED.to_owned(), Any::Bool(removed)),
    ]))
}

/// The counter, max or set container of field `key` (validation and
/// `CardDoc::create_fixed_items` made sure that ops adding entries find one).
fn nested_map(map: &MapRef, txn: &TransactionMut<'_>, key: &str) -> Option<MapRef> {
    match map.get(txn, key) {
        Some(Out::YMap(m)) => Some(m),
        _ => None,
    }
}

impl CardDoc {
    /// Validates and applies a batch of ops as one local transaction (one undo step).
    /// Either all ops apply or none does.
    pub fn apply(&mut self, stamp: &Stamp, ops: &[Op]) -> Result<(), WriteError> {
        self.apply_with_origin(stamp, ops, Origin::Local).map(drop)
    }

    /// Like [`CardDoc::apply`] with an explicit origin, returning what the transaction wrote:
    /// its own v1 update and clock range, which the sync layer turns into an outbox batch.
    /// After a rejection the sync layer replays surviving ops with [`Origin::Rollback`]. Only
    /// `Local` transactions can be undone. An empty batch writes nothing and returns an empty
    /// clock range.
    pub fn apply_with_origin(
        &mut self,
        stamp: &Stamp,
        ops: &[Op],
        origin: Origin,
    ) -> Result<Applied, WriteError> {
        let fixed = {
            let txn = self.doc.transact();
            let mut overlay = Overlay::new(ops);
            for op in ops {
                self.validate(&txn, &mut overlay, op)?;
            }
            self.missing_fixed_items(&txn, ops)
        };
        // Containers of late fields and the schema record: before the write's own
        // transaction, and never undoable (see `container.rs`).
        let container_origin = match origin {
            Origin::Local | Origin::Undo => Origin::Remote,
            other => other,
        };
        let containers = self.create_fixed_items(fixed, container_origin);
        let doc = self.doc.clone();
        self.tracker().writing_ops = true;
        let mut txn = doc.transact_mut_with(origin.tag());
        // This client's clock alone: yrs' `before_state`/`after_state` build the state vector
        // of every client the document has seen, O(clients) per write.
        let start = yrs::ReadTxn::store(&txn).get_local_state();
        if !ops.is_empty() {
            self.record_schema_version(&mut txn);
        }
        // Each card's `$modified` is written once per transaction: every overwrite leaves a
        // tombstone in yrs (kept for undo), so repeating it would bloat every snapshot.
        let mut stamped = HashSet::new();
        for op in ops {
            let card = match op {
                Op::CreateCard { card, .. } => Some(*card),
                other => other.touched_card(),
            };
            if let Some(card) = card.filter(|c| stamped.insert(*c))
                && !matches!(op, Op::CreateCard { .. })
            {
                let map = self.card_map_mut(&mut txn, card);
                if !recently_modified_by(read_stamp(map.get(&txn, layout::MODIFIED)), stamp) {
                    map.insert(&mut txn, layout::MODIFIED, stamp_any(stamp));
                }
            }
            self.write(&mut txn, stamp, op);
        }
        let applied = Applied {
            clock: start..yrs::ReadTxn::store(&txn).get_local_state(),
            update: if ops.is_empty() {
                Vec::new()
            } else {
                crate::container::join(&containers, txn.encode_update_v1())
            },
        };
        drop(txn);
        self.tracker().writing_ops = false;
        self.intake.record_local(&applied.update);
        self.finish(origin);
        Ok(applied)
    }

    fn card_map_mut(&self, txn: &mut TransactionMut<'_>, card: CardId) -> MapRef {
        // Validation guarantees the card exists.
        self.card_map(txn, card)
            .unwrap_or_else(|| unreachable!("validated card {card} missing"))
    }

    fn write(&mut self, txn: &mut TransactionMut<'_>, stamp: &Stamp, op: &Op) {
        let client = layout::replica_key(txn.doc().client_id().get());
        match op {
            Op::CreateCard { card, kind, fields } => {
                self.write_card(txn, stamp, *card, kind, fields)
            }
            Op::SetField { card, field, value } => {
                let map = self.card_map_mut(txn, *card);
                match nested_map(&map, txn, field) {
                    // A time-ordered register (validation checked the kind): this replica's
                    // own slot, unless it holds a later stamp, which this write could never beat.
                    Some(slots) => {
                        let own = slots.get(txn, &client);
                        let newer = own
                            .as_ref()
                            .and_then(layout::slot_value)
                            .is_some_and(|(at, _)| at > stamp.at);
                        if !newer {
                            slots.insert(txn, client, slot_any(stamp.at, value));
                        }
                    }
                    None => {
                        map.insert(txn, field.as_str(), value.to_any());
                    }
                }
            }
            Op::InsertText {
                card,
                field,
                index,
                text,
                attributes,
            } => {
                let Some(t) = self.text_mut(txn, *card, field) else {
                    return;
                };
                if attributes.is_empty() {
                    t.insert(txn, *index, text);
                } else {
                    t.insert_with_attributes(txn, *index, text, attributes_to_any(attributes));
                }
            }
            Op::DeleteText {
                card,
                field,
                index,
                len,
            } => {
                if let Some(t) = self.text_mut(txn, *card, field) {
                    t.remove_range(txn, *index, *len);
                }
            }
            Op::FormatText {
                card,
                field,
                index,
                len,
                attributes,
            } => {
                if let Some(t) = self.text_mut(txn, *card, field) {
                    t.format(txn, *index, *len, attributes_to_any(attributes));
                }
            }
            Op::Increment { card, field, by } => {
                let Some(entries) = nested_map(&self.card_map_mut(txn, *card), txn, field) else {
                    return;
                };
                let own = entries.get(txn, &client).map_or(0, |v| integer(&v));
                // Validation keeps the total within JavaScript's safe integers.
                entries.insert(txn, client, Any::Number(Number::Int(own + by)));
            }
            Op::RaiseMax { card, field, value } => {
                let Some(entries) = nested_map(&self.card_map_mut(txn, *card), txn, field) else {
                    return;
                };
                let current = entries.iter(txn).map(|(_, v)| number(&v)).reduce(f64::max);
                if current.is_none_or(|c| *value > c) {
                    entries.insert(txn, client, *value);
                }
            }
            Op::AddToSet { card, field, item } => {
                let Some(entries) = nested_map(&self.card_map_mut(txn, *card), txn, field) else {
                    return;
                };
                entries.insert(txn, layout::set_entry(item, &client), true);
            }
            Op::RemoveFromSet { card, field, item } => {
                // Removes the adds this replica has seen; a concurrent add from elsewhere has
                // its own key and survives (add wins).
                let Some(entries) = nested_map(&self.card_map_mut(txn, *card), txn, field) else {
                    return; // never created: nothing to remove
                };
                let seen: Vec<String> = entries
                    .keys(txn)
                    .filter(|k| layout::set_item(k) == Some(item.as_str()))
                    .map(str::to_owned)
                    .collect();
                for key in seen {
                    entries.remove(txn, &key);
                }
            }
            Op::DeleteCard { card } | Op::RestoreCard { card } => {
                let deleted = matches!(op, Op::DeleteCard { .. });
                self.card_map_mut(txn, *card)
                    .insert(txn, layout::DELETED, deleted);
                self.tracker().set_card(*card, Some(deleted));
            }
            Op::Link {
                from,
                kind,
                to,
                properties,
            } => {
                let key = RelationshipKey::new(*from, kind.clone(), *to);
                self.write_link(txn, &key, properties);
            }
            Op::Unlink { from, kind, to } => {
                let key = RelationshipKey::new(*from, kind.clone(), *to);
                self.roots
                    .relationships
                    .insert(txn, key.to_string(), edge_value(&key, true));
            }
            Op::CreateSequence { sequence } => {
                self.roots.sequences.insert(txn, sequence.to_string(), true);
                self.tracker().create_sequence(*sequence);
            }
            Op::InsertIntoSequence {
                sequence,
                card,
                index,
            }
            | Op::MoveInSequence {
                sequence,
                card,
                index,
            } => {
                let key = self.order_key_for(*sequence, *card, *index);
                let entry = layout::sequence_entry(&sequence.to_string(), &card.to_string());
                self.roots
                    .sequences
                    .insert(txn, entry, Any::String(key.clone()));
                self.tracker().place(*sequence, *card, Some(key));
            }
            Op::RemoveFromSequence { sequence, card } => {
                let entry = layout::sequence_entry(&sequence.to_string(), &card.to_string());
                self.roots.sequences.remove(txn, &entry);
                self.tracker().place(*sequence, *card, None);
            }
            Op::CreateBoard { .. }
            | Op::AddColumn { .. }
            | Op::RenameColumn { .. }
            | Op::MoveColumn { .. }
            | Op::RemoveColumn { .. }
            | Op::PlaceCard { .. }
            | Op::UnplaceCard { .. } => self.write_board(txn, op),
        }
    }

    fn write_card(
        &self,
        txn: &mut TransactionMut<'_>,
        stamp: &Stamp,
        card: CardId,
        kind: &str,
        fields: &Attributes,
    ) {
        // The card's entries go in one by one in a fixed order (bookkeeping, then the schema's
        // fields by name) rather than as one `MapPrelim`, which yrs integrates in hash-map
        // order: the same ops by the same client then make the same document, byte for byte
        // up to the stamps' plain maps, so fuzz fixtures and regressions replay alike.
        let map = self
            .roots
            .cards
            .insert(txn, card.to_string(), MapPrelim::default());
        map.insert(txn, layout::KIND, In::from(kind));
        map.insert(txn, layout::CREATED, In::Any(stamp_any(stamp)));
        map.insert(txn, layout::MODIFIED, In::Any(stamp_any(stamp)));
        let defs = self
            .schema
            .cards
            .get(kind)
            .map(|k| &k.fields)
            .into_iter()
            .flatten();
        for (name, def) in defs {
            let value = fields.get(name);
            let entry = match def.kind {
                FieldKind::Register => match value {
                    Some(v) if *v != Value::Null => In::Any(v.to_any()),
                    _ => continue,
                },
                FieldKind::Text => {
                    let text = value.and_then(Value::as_str).unwrap_or_default();
                    In::Text(TextPrelim::new(text).into())
                }
                FieldKind::Counter | FieldKind::Max | FieldKind::Set => {
                    In::Map(MapPrelim::default())
                }
                FieldKind::TimeOrdered => {
                    let mut prelim = MapPrelim::default();
                    if let Some(v) = value.filter(|v| **v != Value::Null) {
                        let client = layout::replica_key(txn.doc().client_id().get());
                        prelim.insert(client.into(), In::Any(slot_any(stamp.at, v)));
                    }
                    In::Map(prelim)
                }
            };
            map.insert(txn, name.as_str(), entry);
        }
        self.tracker().set_card(card, Some(false));
    }

    fn write_link(
        &self,
        txn: &mut TransactionMut<'_>,
        key: &RelationshipKey,
        properties: &Attributes,
    ) {
        if !self.edge_linked(txn, key) {
            self.roots
                .relationships
                .insert(txn, key.to_string(), edge_value(key, false));
            self.tracker().add_edge(key);
        }
        let edge = key.to_string();
        for (name, value) in properties {
            self.roots.relationship_props.insert(
                txn,
                layout::prop_key(&edge, name),
                value.to_any(),
            );
        }
    }

    fn text_mut(
        &self,
        txn: &mut TransactionMut<'_>,
        card: CardId,
        field: &str,
    ) -> Option<yrs::TextRef> {
        match self.card_map_mut(txn, card).get(txn, field) {
            Some(Out::YText(t)) => Some(t),
            _ => None,
        }
    }
}
