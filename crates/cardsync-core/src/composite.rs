//! Composite register values: a JSON object or array written and merged as **one** value.
//!
//! Why: some values only make sense whole. A geo position `{lat, lng}` kept as two registers
//! could merge into a place nobody chose (Alice's latitude with Bob's longitude). Stored as one
//! plain value in the card's map (a Yjs `Y.Map` entry holding JSON), a composite is a register
//! like any other: concurrent writes resolve to exactly one of them, never a mix, and a stock
//! Yjs doc reads it as an ordinary object (docs/design.md §3, "Composite registers").
//!
//! The schema declares the shape ([`Shape`]) and limits ([`Composite`]: nesting depth, bytes
//! of its JSON, keys), and one function checks a value against them,
//! [`Composite::check`], called by the register rule
//! ([`FieldDef::check_register_write`](crate::FieldDef::check_register_write)) that local
//! writes and the room's validator share: a client and a server cannot disagree on a shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::value::Value;

/// The shape a composite value must have.
///
/// Serialized internally tagged (`{"type": "number", "min": -90}`), deserialized through a
/// private flat `WireShape` (as [`Op`](crate::Op) is, and for the same reason: serde's derive
/// for internally tagged enums buffers every value and costs kilobytes of wasm).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "WireShape")]
pub enum Shape {
    /// A finite number, optionally within `min..=max`.
    Number {
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// A string, optionally at most `max_len` UTF-16 units long.
    String {
        /// Longest allowed length.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_len: Option<u32>,
    },
    /// A boolean.
    Bool,
    /// An object with exactly these keys (those in `optional` may be absent); no others.
    Object {
        /// Each key's shape.
        fields: BTreeMap<String, Shape>,
        /// Keys that may be absent.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        optional: Vec<String>,
    },
    /// An array whose items all have one shape.
    Array {
        /// The items' shape.
        items: Box<Shape>,
        /// Most items allowed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_items: Option<u32>,
    },
}

/// The shape tags (`"type"`).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ShapeTag {
    Number,
    String,
    Bool,
    Object,
    Array,
}

/// One shape as JSON has it: every field any shape has, each optional.
#[derive(Deserialize)]
struct WireShape {
    #[serde(rename = "type")]
    tag: ShapeTag,
    min: Option<f64>,
    max: Option<f64>,
    max_len: Option<u32>,
    fields: Option<BTreeMap<String, Shape>>,
    optional: Option<Vec<String>>,
    items: Option<Box<Shape>>,
    max_items: Option<u32>,
}

impl TryFrom<WireShape> for Shape {
    type Error = &'static str;

    fn try_from(w: WireShape) -> Result<Self, Self::Error> {
        Ok(match w.tag {
            ShapeTag::Number => Shape::Number {
                min: w.min,
                max: w.max,
            },
            ShapeTag::String => Shape::String { max_len: w.max_len },
            ShapeTag::Bool => Shape::Bool,
            ShapeTag::Object => Shape::Object {
                fields: w.fields.ok_or("missing field `fields`")?,
                optional: w.optional.unwrap_or_default(),
            },
            ShapeTag::Array => Shape::Array {
                items: w.items.ok_or("missing field `items`")?,
                max_items: w.max_items,
            },
        })
    }
}

impl Shape {
    /// A number within `min..=max`.
    pub fn number(min: f64, max: f64) -> Self {
        Shape::Number {
            min: Some(min),
            max: Some(max),
        }
    }

    /// An object with these required keys.
    pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Shape)>) -> Self {
        Shape::Object {
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            optional: Vec::new(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Shape::Number { .. } => "number",
            Shape::String { .. } => "string",
            Shape::Bool => "bool",
            Shape::Object { .. } => "object",
            Shape::Array { .. } => "array",
        }
    }
}

const fn default_depth() -> u32 {
    4
}
const fn default_bytes() -> u32 {
    4_096
}
const fn default_keys() -> u32 {
    64
}

/// A composite register's declaration: its shape and its limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Composite {
    /// The shape of the value.
    pub shape: Shape,
    /// Deepest nesting of objects and arrays (an object of numbers has depth 1).
    #[serde(default = "default_depth")]
    pub max_depth: u32,
    /// Most bytes of the value as compact JSON.
    #[serde(default = "default_bytes")]
    pub max_bytes: u32,
    /// Most object keys, counted over the whole value.
    #[serde(default = "default_keys")]
    pub max_keys: u32,
}

impl Composite {
    /// A composite of this shape with the default limits (depth 4, 4 KiB, 64 keys).
    pub fn new(shape: Shape) -> Self {
        Self {
            shape,
            max_depth: default_depth(),
            max_bytes: default_bytes(),
            max_keys: default_keys(),
        }
    }

    /// Checks a (non-null) value against the limits, then the shape.
    ///
    /// ```
    /// use cardsync_core::{Composite, Shape, ShapeError, Value};
    /// let geo = Composite::new(Shape::object([
    ///     ("lat", Shape::number(-90.0, 90.0)),
    ///     ("lng", Shape::number(-180.0, 180.0)),
    /// ]));
    /// let at = |lat: f64, lng: f64| Value::Object([("lat".into(), lat.into()), ("lng".into(), lng.into())].into());
    /// assert_eq!(geo.check(&at(52.5, 13.4)), Ok(()));
    /// assert_eq!(geo.check(&at(91.0, 0.0)), Err(ShapeError::OutOfRange { path: "lat".into() }));
    /// ```
    pub fn check(&self, value: &Value) -> Result<(), ShapeError> {
        let depth = depth(value);
        if depth > self.max_depth {
            return Err(ShapeError::TooDeep {
                depth,
                max: self.max_depth,
            });
        }
        let keys = keys(value);
        if keys > self.max_keys {
            return Err(ShapeError::TooManyKeys {
                keys,
                max: self.max_keys,
            });
        }
        let bytes = serde_json::to_string(value).map_or(u32::MAX, |json| {
            u32::try_from(json.len()).unwrap_or(u32::MAX)
        });
        if bytes > self.max_bytes {
            return Err(ShapeError::TooLarge {
                bytes,
                max: self.max_bytes,
            });
        }
        check(&self.shape, value, "")
    }
}

impl Composite {
    /// Whether every value `old` accepts, this accepts too: a schema may move from `old` to
    /// this without stranding stored values (docs/design.md §3, "Moving to a new schema").
    /// Limits may only grow, and the shape may only widen ([`Shape::admits`]).
    pub fn admits(&self, old: &Composite) -> bool {
        self.max_depth >= old.max_depth
            && self.max_bytes >= old.max_bytes
            && self.max_keys >= old.max_keys
            && self.shape.admits(&old.shape)
    }
}

/// Whether a bound `new` admits every value bound by `old` (`None`: unbounded).
fn bound_admits<T>(new: Option<T>, old: Option<T>, wider: fn(&T, &T) -> bool) -> bool {
    match (new, old) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(new), Some(old)) => wider(&new, &old),
    }
}

impl Shape {
    /// Whether every value of shape `old` is a value of this shape. Conservative: a shape of
    /// another kind never admits (a number is never a string), and an object admits only if
    /// it keeps every old key, with a shape admitting the old one, optional where it was, and
    /// adds only optional keys.
    pub fn admits(&self, old: &Shape) -> bool {
        match (self, old) {
            (Shape::Bool, Shape::Bool) => true,
            (
                Shape::Number { min, max },
                Shape::Number {
                    min: was_min,
                    max: was_max,
                },
            ) => {
                bound_admits(*min, *was_min, |n, o| n <= o)
                    && bound_admits(*max, *was_max, |n, o| n >= o)
            }
            (Shape::String { max_len }, Shape::String { max_len: was }) => {
                bound_admits(*max_len, *was, |n, o| n >= o)
            }
            (
                Shape::Array { items, max_items },
                Shape::Array {
                    items: was_items,
                    max_items: was_max,
                },
            ) => items.admits(was_items) && bound_admits(*max_items, *was_max, |n, o| n >= o),
            (
                Shape::Object { fields, optional },
                Shape::Object {
                    fields: was_fields,
                    optional: was_optional,
                },
            ) => {
                let kept = was_fields.iter().all(|(key, was)| {
                    fields.get(key).is_some_and(|now| now.admits(was))
                        && (!was_optional.contains(key) || optional.contains(key))
                });
                let added_optional = fields
                    .keys()
                    .filter(|key| !was_fields.contains_key(*key))
                    .all(|key| optional.contains(key));
                kept && added_optional
            }
            _ => false,
        }
    }
}

fn depth(value: &Value) -> u32 {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn keys(value: &Value) -> u32 {
    match value {
        Value::Array(items) => items.iter().map(keys).sum(),
        Value::Object(map) => map.len() as u32 + map.values().map(keys).sum::<u32>(),
        _ => 0,
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check(shape: &Shape, value: &Value, path: &str) -> Result<(), ShapeError> {
    let wrong = || ShapeError::WrongType {
        path: path.to_owned(),
        expected: shape.name(),
        got: value.type_name(),
    };
    match (shape, value) {
        (Shape::Number { min, max }, Value::Number(n)) => {
            let inside =
                n.is_finite() && min.is_none_or(|min| *n >= min) && max.is_none_or(|max| *n <= max);
            if inside {
                Ok(())
            } else {
                Err(ShapeError::OutOfRange {
                    path: path.to_owned(),
                })
            }
        }
        (Shape::String { max_len }, Value::String(s)) => {
            let len = s.encode_utf16().count();
            match max_len {
                Some(max) if len > *max as usize => Err(ShapeError::TooLong {
                    path: path.to_owned(),
                    max: *max,
                }),
                _ => Ok(()),
            }
        }
        (Shape::Bool, Value::Bool(_)) => Ok(()),
        (Shape::Object { fields, optional }, Value::Object(map)) => {
            if let Some(key) = map.keys().find(|k| !fields.contains_key(*k)) {
                return Err(ShapeError::UnknownKey {
                    path: path.to_owned(),
                    key: key.clone(),
                });
            }
            for (key, shape) in fields {
                match map.get(key) {
                    Some(item) => check(shape, item, &join(path, key))?,
                    None if optional.contains(key) => {}
                    None => {
                        return Err(ShapeError::MissingKey {
                            path: path.to_owned(),
                            key: key.clone(),
                        });
                    }
                }
            }
            Ok(())
        }
        (Shape::Array { items, max_items }, Value::Array(list)) => {
            if let Some(max) = max_items
                && list.len() > *max as usize
            {
                return Err(ShapeError::TooLong {
                    path: path.to_owned(),
                    max: *max,
                });
            }
            for (i, item) in list.iter().enumerate() {
                check(items, item, &join(path, &i.to_string()))?;
            }
            Ok(())
        }
        _ => Err(wrong()),
    }
}

/// Why a composite value does not fit its declaration. `path` names the place inside the
/// value, keys and indexes joined by `.` (empty: the value itself).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ShapeError {
    /// A value of the wrong type.
    #[error("{path:?}: expected {expected}, got {got}")]
    WrongType {
        /// Where.
        path: String,
        /// The declared type.
        expected: &'static str,
        /// What came.
        got: &'static str,
    },
    /// A number outside its declared range (or not finite).
    #[error("{path:?}: number out of range")]
    OutOfRange {
        /// Where.
        path: String,
    },
    /// A string or array longer than declared.
    #[error("{path:?}: longer than {max}")]
    TooLong {
        /// Where.
        path: String,
        /// The limit.
        max: u32,
    },
    /// A required key is absent.
    #[error("{path:?}: missing key {key:?}")]
    MissingKey {
        /// Where.
        path: String,
        /// The key.
        key: String,
    },
    /// A key the shape does not declare.
    #[error("{path:?}: unknown key {key:?}")]
    UnknownKey {
        /// Where.
        path: String,
        /// The key.
        key: String,
    },
    /// Nested deeper than the limit.
    #[error("nested {depth} deep, the limit is {max}")]
    TooDeep {
        /// The value's depth.
        depth: u32,
        /// The limit.
        max: u32,
    },
    /// More bytes of JSON than the limit.
    #[error("{bytes} bytes of JSON, the limit is {max}")]
    TooLarge {
        /// The value's size.
        bytes: u32,
        /// The limit.
        max: u32,
    },
    /// More object keys than the limit.
    #[error("{keys} keys, the limit is {max}")]
    TooManyKeys {
        /// The value's key count.
        keys: u32,
        /// The limit.
        max: u32,
    },
}
