//! Identifiers: of cards and sequences, of the relationships between cards, and of replicas.
//!
//! Ids are 128-bit values chosen by the client (from its own RNG; the core has none), so two
//! replicas never create the same card or sequence by accident. That matters for correctness, not
//! only tidiness: each card and sequence owns nested yrs containers, and two concurrent creations
//! under one key would let one container win and silently drop the other's edits.
//!
//! Ids print as 26 lowercase Crockford base32 characters: compact, URL-safe, case-insensitive on
//! input, and their string order equals their numeric order.
//!
//! A relationship is named by its ends and kind ([`RelationshipKey`]), so two peers that link
//! the same cards concurrently name the same edge; a replica by its yrs client id, which every
//! Yjs peer must be able to represent ([`MAX_CLIENT_ID`]). They are defined here, with the
//! errors of parsing them ([`IdError`]), because everything above names them: the document
//! layout, the events, the checks of untrusted updates and the writers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Largest client id a Yjs peer can represent (JavaScript safe integer).
pub const MAX_CLIENT_ID: u64 = (1 << 53) - 1;

/// First client id of the range reserved for field containers created after their card
/// ([`crate::layout::container_client`], docs/design.md §3): no replica writes as a client id
/// from here to [`MAX_CLIENT_ID`].
pub const CONTAINER_CLIENT_BASE: u64 = 1 << 52;

/// The one reserved client id a document may be opened with: the top of the reserved range,
/// which the sync room writes its compensations of stock peers' invalid updates as
/// (docs/design.md §10). No field container takes it ([`crate::layout::container_client`]).
pub const COMPENSATOR_CLIENT_ID: u64 = MAX_CLIENT_ID;

/// Largest client id a replica may write as: below the range reserved for field containers.
/// Replicas draw their ids at random up to here (Yjs peers draw 32-bit ones).
pub const MAX_REPLICA_CLIENT_ID: u64 = CONTAINER_CLIENT_BASE - 1;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Length of a printed id: 26 base32 digits hold 130 bits.
pub const ID_LEN: usize = 26;

/// A printed id could not be parsed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum IdError {
    /// Ids are exactly 26 characters.
    #[error("an id has 26 characters, this one has {len}")]
    Length {
        /// The length found.
        len: usize,
    },
    /// A character outside Crockford base32.
    #[error("invalid id character at index {index}")]
    Character {
        /// Where.
        index: usize,
    },
    /// The value does not fit 128 bits.
    #[error("id out of the 128-bit range")]
    Overflow,
}

impl IdError {
    /// The stable code JavaScript sees.
    pub fn code(&self) -> &'static str {
        "invalid_id"
    }
}

/// The 26 characters of `value`, most significant first. Three 128-bit shifts split it into
/// chunks of 60, 60 and 8 bits (multiples of 5 but the top one), and the digits come from
/// 64-bit words: wasm32 has no 128-bit arithmetic, and a 128-bit shift per digit made
/// printing ids 16% of a JS text edit (issue 21's profile).
fn encode_bytes(value: u128) -> [u8; ID_LEN] {
    const LOW_DIGITS: usize = 12;
    let mut out = [0u8; ID_LEN];
    let chunks = [
        (value >> 120) as u64,
        ((value >> 60) as u64) & ((1 << 60) - 1),
        (value as u64) & ((1 << 60) - 1),
    ];
    let widths = [ID_LEN - 2 * LOW_DIGITS, LOW_DIGITS, LOW_DIGITS];
    let mut at = 0;
    for (chunk, width) in chunks.into_iter().zip(widths) {
        for digit in 0..width {
            let shift = 5 * (width - 1 - digit);
            out[at] = ALPHABET[((chunk >> shift) & 31) as usize];
            at += 1;
        }
    }
    out
}

fn encode(value: u128) -> String {
    encode_bytes(value).iter().map(|&b| b as char).collect()
}

/// Writes the id without allocating (the alphabet is ASCII, so the bytes are UTF-8).
fn write_id(value: u128, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let bytes = encode_bytes(value);
    f.write_str(std::str::from_utf8(&bytes).map_err(|_| fmt::Error)?)
}

fn decode(text: &str) -> Result<u128, IdError> {
    if text.len() != ID_LEN {
        return Err(IdError::Length { len: text.len() });
    }
    let mut value: u128 = 0;
    for (i, c) in text.bytes().enumerate() {
        let digit = match c.to_ascii_lowercase() {
            c @ b'0'..=b'9' => c - b'0',
            b'o' => 0,
            b'i' | b'l' => 1,
            c => match ALPHABET.iter().position(|&a| a == c) {
                Some(p) => p as u8,
                None => return Err(IdError::Character { index: i }),
            },
        };
        // The first digit carries only 3 meaningful bits (26 * 5 = 130 > 128).
        if i == 0 && digit > 7 {
            return Err(IdError::Overflow);
        }
        value = (value << 5) | u128::from(digit);
    }
    Ok(value)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u128);

        impl $name {
            /// Wraps 16 bytes, typically fresh from the caller's random number generator.
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(u128::from_be_bytes(bytes))
            }

            /// Wraps a raw 128-bit value (tests and deterministic simulations use small ones).
            pub const fn from_u128(value: u128) -> Self {
                Self(value)
            }

            /// The raw 128-bit value.
            pub const fn as_u128(self) -> u128 {
                self.0
            }

            /// Parses a document key, accepting only the canonical spelling (what `Display`
            /// prints). Unlike [`FromStr`], which is lenient for ids people type: yrs compares
            /// keys as strings, so an alias (`O` for `0`, upper case) is another key, and
            /// reading it as this id would let one key's removal hide the other's card (see
            /// [`layout`](crate::layout)).
            pub fn from_key(key: &str) -> Option<Self> {
                let id = decode(key).ok().map(Self)?;
                (encode(id.0) == key).then_some(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_id(self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), encode(self.0))
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                decode(text).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&encode(self.0))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// Identifies a card. Printed as 26 base32 characters.
    ///
    /// ```
    /// use cardsync_core::CardId;
    /// let id = CardId::from_bytes([7; 16]);
    /// assert_eq!(id.to_string().parse::<CardId>().unwrap(), id);
    /// ```
    CardId
);

id_type!(
    /// Identifies a sequence (a column, list or board lane). Printed like a [`CardId`].
    SequenceId
);

id_type!(
    /// Identifies a board: ordered columns, each card in at most one of them
    /// (docs/design.md §3, "Boards"). Printed like a [`CardId`].
    BoardId
);

id_type!(
    /// Identifies a column of a board. Printed like a [`CardId`].
    ColumnId
);

/// Identifies a relationship: its endpoints and kind.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelationshipKey {
    /// From.
    pub from: CardId,
    /// Kind.
    pub kind: String,
    /// To.
    pub to: CardId,
}

impl RelationshipKey {
    /// A key.
    pub fn new(from: CardId, kind: impl Into<String>, to: CardId) -> Self {
        Self {
            from,
            kind: kind.into(),
            to,
        }
    }
}

impl RelationshipKey {
    /// Parses a `relationships` key, canonical spellings only (see [`CardId::from_key`]); the
    /// kind may be anything, `:` included, because the ids around it have a fixed length.
    pub fn from_key(key: &str) -> Option<Self> {
        let parsed: Self = key.parse().ok()?;
        (parsed.to_string() == key).then_some(parsed)
    }
}

impl fmt::Display for RelationshipKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.from, self.kind, self.to)
    }
}

impl fmt::Debug for RelationshipKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelationshipKey({self})")
    }
}

impl FromStr for RelationshipKey {
    type Err = IdError;
    fn from_str(text: &str) -> Result<Self, IdError> {
        // Ids have a fixed length, so the kind may itself contain ':'.
        let len = text.len();
        if len < 2 * ID_LEN + 3
            || !text.is_char_boundary(ID_LEN)
            || !text.is_char_boundary(len - ID_LEN)
            || text.as_bytes()[ID_LEN] != b':'
            || text.as_bytes()[len - ID_LEN - 1] != b':'
        {
            return Err(IdError::Length { len });
        }
        Ok(Self {
            from: text[..ID_LEN].parse()?,
            kind: text[ID_LEN + 1..len - ID_LEN - 1].to_owned(),
            to: text[len - ID_LEN..].parse()?,
        })
    }
}

impl Serialize for RelationshipKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RelationshipKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ids_round_trip_and_keep_order(a: u128, b: u128) {
            let (ia, ib) = (CardId::from_u128(a), CardId::from_u128(b));
            prop_assert_eq!(ia.to_string().parse::<CardId>().unwrap(), ia);
            prop_assert_eq!(ia.to_string().cmp(&ib.to_string()), a.cmp(&b));
        }

        #[test]
        fn ids_print_as_one_base32_digit_per_five_bits(a: u128) {
            // The definition: digit i is bits 5 * (25 - i) upwards.
            let reference: String = (0..ID_LEN)
                .map(|i| ALPHABET[((a >> (5 * (ID_LEN - 1 - i))) & 31) as usize] as char)
                .collect();
            prop_assert_eq!(CardId::from_u128(a).to_string(), reference.clone());
            prop_assert_eq!(encode(a), reference);
        }
    }

    #[test]
    fn bad_ids_are_typed_errors() {
        assert_eq!("abc".parse::<CardId>(), Err(IdError::Length { len: 3 }));
        assert_eq!(
            "0000000000000000000000000u".parse::<CardId>(),
            Err(IdError::Character { index: 25 })
        );
        assert_eq!(
            "z0000000000000000000000000".parse::<CardId>(),
            Err(IdError::Overflow)
        );
        assert_eq!(
            "7zzzzzzzzzzzzzzzzzzzzzzzzz".parse::<CardId>(),
            Ok(CardId::from_u128(u128::MAX))
        );
    }

    #[test]
    fn keys_round_trip_even_with_colons_in_the_kind() {
        let key = RelationshipKey::new(CardId::from_u128(1), "a:b", CardId::from_u128(u128::MAX));
        assert_eq!(key.to_string().parse::<RelationshipKey>().unwrap(), key);
        assert!("short".parse::<RelationshipKey>().is_err());
        assert!(
            format!("{}x{}", CardId::from_u128(1), CardId::from_u128(2))
                .parse::<RelationshipKey>()
                .is_err()
        );
    }
}
