//! Reading cards: plain Rust values, detached from the yrs document.
//!
//! Reads return snapshots ([`Card`], [`FieldValue`]) rather than live handles, so callers (and
//! the wasm layer, which turns them into plain JS objects) never hold a transaction open.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use yrs::types::text::{Diff, YChange};
use yrs::{Any, GetString, Map, MapRef, Out, ReadTxn, Text, TextRef, Transact};

use crate::btree::{map_of, set_of};
use crate::doc::CardDoc;
use crate::ids::CardId;
use crate::layout;
use crate::ops::Stamp;
use crate::value::{Attributes, FieldKind, Value, any_number, integer, number};

/// A field's current value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A register's value.
    Register(Value),
    /// A text field's plain text (see [`CardDoc::text_runs`] for formatting).
    Text(String),
    /// A counter's sum.
    Counter(i64),
    /// A max field's value (`None` until first raised).
    Max(Option<f64>),
    /// A set's items.
    Set(BTreeSet<String>),
}

/// A card as read at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    /// Id.
    pub id: CardId,
    /// Kind.
    pub kind: String,
    /// Soft-deleted?
    pub deleted: bool,
    /// Creation stamp.
    pub created: Option<Stamp>,
    /// Last-write stamp: the actor of the last write, and when its burst of writes began (a
    /// write by the same actor within [`MODIFIED_RESOLUTION`](crate::layout::MODIFIED_RESOLUTION)
    /// of the stored stamp leaves it).
    pub modified: Option<Stamp>,
    /// Fields the schema declares for the kind (registers never set are absent).
    pub fields: BTreeMap<String, FieldValue>,
}

/// A run of text with one set of formatting attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextRun {
    /// The text.
    pub text: String,
    /// Its attributes (empty when plain).
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub attributes: Attributes,
}

pub(crate) fn read_stamp(value: Option<Out>) -> Option<Stamp> {
    let Some(Out::Any(Any::Map(map))) = value else {
        return None;
    };
    let at = any_number(map.get(layout::STAMP_AT)?)? as u64;
    let by = match map.get(layout::STAMP_BY) {
        Some(Any::String(s)) => s.to_string(),
        _ => return None,
    };
    Some(Stamp { at, by })
}

/// Reads a nested per-replica map: a counter's sum or a max field's maximum. Sums are exact
/// integer arithmetic (i128, saturated into i64): a float sum would depend on the map's
/// iteration order, which differs between replicas.
pub(crate) fn fold_entries<T: ReadTxn>(txn: &T, map: &MapRef, kind: FieldKind) -> FieldValue {
    match kind {
        FieldKind::Counter => {
            let sum: i128 = map.iter(txn).map(|(_, v)| i128::from(integer(&v))).sum();
            FieldValue::Counter(sum.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
        }
        // Only finite entries count (a peer without a validating server can store others).
        _ => FieldValue::Max(
            map.iter(txn)
                .map(|(_, v)| number(&v))
                .filter(|n| n.is_finite())
                .reduce(f64::max),
        ),
    }
}

pub(crate) fn read_field<T: ReadTxn>(txn: &T, value: Out, kind: FieldKind) -> Option<FieldValue> {
    Some(match (kind, value) {
        (FieldKind::Register, Out::Any(any)) => FieldValue::Register(Value::from_stored(&any)),
        (FieldKind::Text, Out::YText(text)) => FieldValue::Text(text.get_string(txn)),
        (FieldKind::Counter | FieldKind::Max, Out::YMap(map)) => fold_entries(txn, &map, kind),
        (FieldKind::TimeOrdered, Out::YMap(map)) => {
            let slots: Vec<(String, Out)> = map.iter(txn).map(|(k, v)| (k.to_owned(), v)).collect();
            let latest = layout::latest_slot(slots.iter().map(|(k, v)| (k.as_str(), v)));
            FieldValue::Register(latest.map_or(Value::Null, |(_, _, v)| Value::from_stored(v)))
        }
        (FieldKind::Set, Out::YMap(map)) => FieldValue::Set(set_of(
            map.keys(txn)
                .filter_map(layout::set_item)
                .map(str::to_owned),
        )),
        _ => return None,
    })
}

impl CardDoc {
    pub(crate) fn card_map<T: ReadTxn>(&self, txn: &T, card: CardId) -> Option<MapRef> {
        match self.roots.cards.get(txn, &card.to_string()) {
            Some(Out::YMap(m)) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn read_card<T: ReadTxn>(&self, txn: &T, card: CardId) -> Option<Card> {
        let map = self.card_map(txn, card)?;
        let kind = match map.get(txn, layout::KIND) {
            Some(Out::Any(Any::String(k))) => k.to_string(),
            _ => String::new(),
        };
        let mut fields = BTreeMap::new();
        if let Some(def) = self.schema.cards.get(&kind) {
            for (name, field) in &def.fields {
                if let Some(value) = map
                    .get(txn, name)
                    .and_then(|v| read_field(txn, v, field.kind))
                {
                    fields.insert(name.clone(), value);
                }
            }
        }
        Some(Card {
            id: card,
            deleted: matches!(
                map.get(txn, layout::DELETED),
                Some(Out::Any(Any::Bool(true)))
            ),
            created: read_stamp(map.get(txn, layout::CREATED)),
            modified: read_stamp(map.get(txn, layout::MODIFIED)),
            kind,
            fields,
        })
    }

    /// A card, deleted or not; `None` if it does not exist here.
    pub fn card(&self, card: CardId) -> Option<Card> {
        self.read_card(&self.doc.transact(), card)
    }

    /// Cards that are not deleted, optionally only of one kind, in id order.
    pub fn cards(&self, kind: Option<&str>) -> Vec<Card> {
        let ids: Vec<CardId> = {
            let tracker = self.tracker();
            let mut ids: Vec<_> = tracker
                .cards
                .iter()
                .filter(|(_, deleted)| !**deleted)
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            ids
        };
        let txn = self.doc.transact();
        let of_kind = |id: &CardId| {
            kind.is_none_or(|k| {
                let kind = self
                    .card_map(&txn, *id)
                    .and_then(|m| m.get(&txn, layout::KIND));
                matches!(kind, Some(Out::Any(Any::String(s))) if &*s == k)
            })
        };
        ids.into_iter()
            .filter(of_kind)
            .filter_map(|id| self.read_card(&txn, id))
            .collect()
    }

    /// Whether a card exists and is not deleted.
    pub fn is_visible(&self, card: CardId) -> bool {
        self.tracker().is_visible(card)
    }

    pub(crate) fn text_ref<T: ReadTxn>(
        &self,
        txn: &T,
        card: CardId,
        field: &str,
    ) -> Option<TextRef> {
        match self.card_map(txn, card)?.get(txn, field) {
            Some(Out::YText(t)) => Some(t),
            _ => None,
        }
    }

    /// A text field as runs of equally formatted text.
    pub fn text_runs(&self, card: CardId, field: &str) -> Vec<TextRun> {
        let txn = self.doc.transact();
        let Some(text) = self.text_ref(&txn, card, field) else {
            return Vec::new();
        };
        text.diff(&txn, YChange::identity)
            .into_iter()
            .filter_map(
                |Diff {
                     insert, attributes, ..
                 }| {
                    let Out::Any(Any::String(s)) = insert else {
                        return None;
                    };
                    let attributes = attributes
                        .map(|a| {
                            map_of(
                                a.iter()
                                    .map(|(k, v)| (k.to_string(), Value::from_stored(v))),
                            )
                        })
                        .unwrap_or_default();
                    Some(TextRun {
                        text: s.to_string(),
                        attributes,
                    })
                },
            )
            .collect()
    }
}
