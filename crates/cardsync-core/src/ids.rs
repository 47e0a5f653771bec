//! Identifiers for cards and sequences.
//!
//! Ids are 128-bit values chosen by the client (from its own RNG; the core has none), so two
//! replicas never create the same card or sequence by accident. That matters for correctness, not
//! only tidiness: each card and sequence owns nested yrs containers, and two concurrent creations
//! under one key would let one container win and silently drop the other's edits.
//!
//! Ids print as 26 lowercase Crockford base32 characters: compact, URL-safe, case-insensitive on
//! input, and their string order equals their numeric order.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::IdError;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Length of a printed id: 26 base32 digits hold 130 bits.
pub const ID_LEN: usize = 26;

fn encode(value: u128) -> String {
    let mut out = [0u8; ID_LEN];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 5 * (ID_LEN - 1 - i);
        *slot = ALPHABET[((value >> shift) & 31) as usize];
    }
    out.iter().map(|&b| b as char).collect()
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
                f.write_str(&encode(self.0))
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
}
