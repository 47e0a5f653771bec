//! Queries over cards: which cards of a kind have these field values, in which order.
//!
//! A board UI shows "my open tasks by due date", not the whole document. Filtering every card
//! after every change is O(document) per keystroke, so a query is evaluated per card
//! (a query's evaluation reads only the card's kind, its deleted flag and the fields the query
//! names), and [`LiveQuery`](crate::LiveQuery) keeps a result set current from the change
//! batches the document already produces, one card at a time.
//!
//! What a query can say is deliberately small: equality on fields, and one field to order by.
//! Every field kind but sets has one comparable value: a register its value, a
//! text field its plain text, a counter its sum and a max field its maximum, as numbers; a field
//! never written compares as `null`, so `{"assignee": null}` finds the unassigned cards. A query
//! naming a field no kind declares is refused when it is made, not silently empty.

use std::cmp::{Ordering, Reverse};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use yrs::{Any, Map, Out, ReadTxn};

use crate::doc::CardDoc;
use crate::ids::CardId;
use crate::layout;
use crate::read::{FieldValue, read_field};
use crate::schema::Schema;
use crate::value::{FieldKind, Value};

/// Which cards, and in which order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Query {
    /// Only cards of this kind (every kind when absent).
    pub kind: Option<String>,
    /// Field values the cards must have (equality; `null` matches a field never written).
    #[serde(rename = "where")]
    pub filter: BTreeMap<String, Value>,
    /// The order of the result; card id order when absent, and between equal values.
    pub order_by: Option<OrderBy>,
}

/// The field a query orders by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBy {
    /// The field.
    pub field: String,
    /// Largest first.
    #[serde(default)]
    pub descending: bool,
}

/// A query that cannot run against the document's schema.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum QueryError {
    /// The schema declares no such card kind.
    #[error("unknown card kind {0:?}")]
    UnknownKind(String),
    /// No kind the query covers declares the field.
    #[error("no card kind {} declares field {field:?}", .kind.as_deref().map_or("of the schema".to_owned(), |k| format!("{k:?}")))]
    UnknownField {
        /// The kind named by the query, if any.
        kind: Option<String>,
        /// The field.
        field: String,
    },
    /// Sets have no single value to compare or order.
    #[error("field {0:?} is a set, which a query cannot compare or order")]
    SetField(String),
}

impl QueryError {
    /// The stable code JavaScript sees as `error.code`.
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::UnknownKind(_) | QueryError::UnknownField { .. } => "schema_violation",
            QueryError::SetField(_) => "invalid_argument",
        }
    }
}

/// Where a matching card sorts: by the order field's value (then by id, in the result set).
/// `null` first, then booleans, numbers, strings and composites.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SortValue {
    /// No value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, in IEEE total order.
    Number(TotalF64),
    /// A string.
    String(String),
    /// An array or object: after every plain value, all equal (then in card id order).
    Composite,
}

/// An `f64` ordered by [`f64::total_cmp`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct TotalF64(f64);

impl PartialEq for TotalF64 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for TotalF64 {}
impl PartialOrd for TotalF64 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TotalF64 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl From<&Value> for SortValue {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => SortValue::Null,
            Value::Bool(b) => SortValue::Bool(*b),
            Value::Number(n) => SortValue::Number(TotalF64(*n)),
            Value::String(s) => SortValue::String(s.clone()),
            Value::Array(_) | Value::Object(_) => SortValue::Composite,
        }
    }
}

/// A matching card's place in the order: its sort value, reversed when descending.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SortKey {
    /// Ascending.
    Ascending(SortValue),
    /// Descending.
    Descending(Reverse<SortValue>),
}

/// A field's one comparable value (`None` for sets, which have none).
pub(crate) fn comparable(value: Option<&FieldValue>) -> Option<Value> {
    Some(match value {
        None | Some(FieldValue::Max(None)) => Value::Null,
        Some(FieldValue::Register(v)) => v.clone(),
        Some(FieldValue::Text(s)) => Value::String(s.clone()),
        Some(FieldValue::Counter(n)) => Value::Number(*n as f64),
        Some(FieldValue::Max(Some(x))) => Value::Number(*x),
        Some(FieldValue::Set(_)) => return None,
    })
}

impl Query {
    /// Checks the query against `schema`: the kind exists, and every field it names is declared
    /// (by its kind, or by some kind) and is not a set.
    pub fn check(&self, schema: &Schema) -> Result<(), QueryError> {
        let kinds: Vec<_> = match &self.kind {
            Some(kind) => vec![
                schema
                    .cards
                    .get(kind)
                    .ok_or_else(|| QueryError::UnknownKind(kind.clone()))?,
            ],
            None => schema.cards.values().collect(),
        };
        let named = self
            .filter
            .keys()
            .chain(self.order_by.as_ref().map(|o| &o.field));
        for field in named {
            let defs: Vec<_> = kinds.iter().filter_map(|k| k.fields.get(field)).collect();
            if defs.is_empty() {
                return Err(QueryError::UnknownField {
                    kind: self.kind.clone(),
                    field: field.clone(),
                });
            }
            if defs.iter().any(|d| d.kind == FieldKind::Set) {
                return Err(QueryError::SetField(field.clone()));
            }
        }
        Ok(())
    }

    /// Where `card` sorts if it matches (it exists, is not deleted, is of the kind and has the
    /// field values), `None` if it does not. Reads only what the query names.
    pub(crate) fn evaluate_in<T: ReadTxn>(
        &self,
        txn: &T,
        doc: &CardDoc,
        card: CardId,
    ) -> Option<SortKey> {
        let map = doc.card_map(txn, card)?;
        if matches!(
            map.get(txn, layout::DELETED),
            Some(Out::Any(Any::Bool(true)))
        ) {
            return None;
        }
        let kind = match map.get(txn, layout::KIND) {
            Some(Out::Any(Any::String(k))) => k,
            _ => return None,
        };
        if self.kind.as_deref().is_some_and(|k| k != &*kind) {
            return None;
        }
        let def = doc.schema.cards.get(&*kind)?;
        let value_of = |field: &str| {
            let read = def.fields.get(field).and_then(|f| {
                map.get(txn, field)
                    .and_then(|out| read_field(txn, out, f.kind))
            });
            // A field this kind does not declare reads as never written.
            comparable(read.as_ref())
        };
        for (field, wanted) in &self.filter {
            if value_of(field).as_ref() != Some(wanted) {
                return None;
            }
        }
        Some(match &self.order_by {
            None => SortKey::Ascending(SortValue::Null),
            Some(order) => {
                let value = SortValue::from(&value_of(&order.field).unwrap_or_default());
                if order.descending {
                    SortKey::Descending(Reverse(value))
                } else {
                    SortKey::Ascending(value)
                }
            }
        })
    }
}
