//! Plain values: what a register holds, what text attributes and relationship properties carry.
//!
//! The set is deliberately JSON-shaped and small (no binary; arrays and objects only in a
//! composite register whose schema declares their shape): every value must read the same in
//! Rust, in JavaScript through the wasm layer, and in a stock Yjs doc.
//! Numbers are `f64` because that is what Yjs and JavaScript store.
//!
//! Reading a stored number back is here too (`any_number`, and the entries of counter and max
//! fields): any peer may have written it, as a Yjs integer or as a float. So is [`FieldKind`],
//! the merge policy of a field. The schema, the errors, the reads and the writers all use both,
//! which is why they sit down here with the values rather than in one of those.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yrs::{Any, Number, Out};

/// How a field merges concurrent writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Last writer wins.
    Register,
    /// Collaborative rich text.
    Text,
    /// A PN-counter: increments and decrements from every replica add up.
    Counter,
    /// Progress that only grows: the value is the largest ever written.
    Max,
    /// An add-wins set of strings.
    Set,
    /// A register where the write with the latest stamp wins, ties to the higher replica id,
    /// whatever order writes arrive in: each replica writes its own slot, the value is the
    /// slot with the greatest `(at, replica)` (docs/design.md §3, "Time-ordered registers").
    TimeOrdered,
}

/// The type a register accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// Any [`Value`].
    #[default]
    Any,
    /// Strings only.
    String,
    /// Finite numbers only.
    Number,
    /// Booleans only.
    Bool,
}

impl ValueType {
    /// Whether a register of this type may hold `value`. Null is always accepted here;
    /// whether a register may be cleared is the field's `required` flag
    /// ([`FieldDef::check_register_write`](crate::FieldDef::check_register_write)).
    /// Composites are accepted only by a composite register, never by a value type.
    pub fn accepts(self, value: &Value) -> bool {
        !value.is_composite()
            && matches!(
                (self, value),
                (_, Value::Null)
                    | (ValueType::Any, _)
                    | (ValueType::String, Value::String(_))
                    | (ValueType::Number, Value::Number(_))
                    | (ValueType::Bool, Value::Bool(_))
            )
    }
}

/// A register value, text attribute or relationship property.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(untagged)]
pub enum Value {
    /// No value (a cleared register).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A finite number.
    Number(f64),
    /// A string.
    String(String),
    /// An array: only in a composite register, written and merged whole
    /// ([`crate::Composite`]).
    Array(Vec<Value>),
    /// An object: only in a composite register, written and merged whole.
    Object(BTreeMap<String, Value>),
}

impl Value {
    /// The name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn to_any(&self) -> Any {
        match self {
            Value::Null => Any::Null,
            Value::Bool(b) => Any::Bool(*b),
            // Integral values travel as Yjs integers (varint), as JavaScript would write them.
            Value::Number(n) => Any::Number(Number::try_i64(*n)),
            Value::String(s) => Any::String(Arc::from(s.as_str())),
            Value::Array(items) => Any::Array(items.iter().map(Value::to_any).collect()),
            Value::Object(map) => Any::from(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_any()))
                    .collect::<std::collections::HashMap<_, _>>(),
            ),
        }
    }

    /// Whether this is an array or object (a composite value).
    pub fn is_composite(&self) -> bool {
        matches!(self, Value::Array(_) | Value::Object(_))
    }

    /// Reads a value written by any peer, for validating it. Arrays and maps read as
    /// composites (item by item); shapes outside the model (binary, undefined), which only a
    /// foreign writer could have stored, read as `Null` rather than failing; numbers come out as stored, NaN and infinities included,
    /// so that the register rule can refuse them ([`RegisterError::NotFinite`]). A validator
    /// that wants to agree with the core's local checks reads stored values through this.
    ///
    /// [`RegisterError::NotFinite`]: crate::RegisterError::NotFinite
    pub fn from_any(any: &Any) -> Value {
        match any {
            Any::Bool(b) => Value::Bool(*b),
            Any::Number(_) => any_number(any).map_or(Value::Null, Value::Number),
            Any::String(s) => Value::String(s.to_string()),
            Any::Array(items) => Value::Array(items.iter().map(Value::from_any).collect()),
            Any::Map(map) => {
                let mut object = BTreeMap::new();
                object.extend(map.iter().map(|(k, v)| (k.clone(), Value::from_any(v))));
                Value::Object(object)
            }
            _ => Value::Null,
        }
    }

    /// Reads a stored value for display, as every read of the core does: like
    /// [`Value::from_any`], and a NaN or infinite number (which a validating server refuses,
    /// but a peer without one can store) reads as `Null`. A `Value::Number` is finite by
    /// contract: it must survive JSON, and a document must read equal to itself.
    pub(crate) fn from_stored(any: &Any) -> Value {
        fn finite(value: Value) -> Value {
            match value {
                Value::Number(n) if !n.is_finite() => Value::Null,
                Value::Array(items) => Value::Array(items.into_iter().map(finite).collect()),
                Value::Object(map) => {
                    let mut object = BTreeMap::new();
                    object.extend(map.into_iter().map(|(k, v)| (k, finite(v))));
                    Value::Object(object)
                }
                value => value,
            }
        }
        finite(Value::from_any(any))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Number(f64::from(n))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// Named values: text formatting attributes and relationship properties.
pub type Attributes = BTreeMap<String, Value>;

pub(crate) fn attributes_to_any(attrs: &Attributes) -> yrs::types::Attrs {
    attrs
        .iter()
        .map(|(k, v)| (Arc::from(k.as_str()), v.to_any()))
        .collect()
}

/// A number written by any peer (Yjs stores small integers and floats differently).
pub(crate) fn any_number(any: &Any) -> Option<f64> {
    match any {
        Any::Number(Number::Int(n)) => Some(*n as f64),
        Any::Number(Number::Float(n)) => Some(*n),
        _ => None,
    }
}

/// A nested counter or max entry as a number (anything else, from a foreign writer, is 0).
pub(crate) fn number(value: &Out) -> f64 {
    match value {
        Out::Any(any) => any_number(any).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A counter entry as an integer (floats from foreign writers are truncated).
pub(crate) fn integer(value: &Out) -> i64 {
    match value {
        Out::Any(Any::Number(Number::Int(n))) => *n,
        other => number(other) as i64,
    }
}
