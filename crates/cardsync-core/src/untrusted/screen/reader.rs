//! A cursor over untrusted bytes that reads lib0 values without allocating, and the walk of
//! lib0 `Any` values, shared by the v1 and v2 screens (v2 keeps `Any` values in its "rest"
//! buffer, encoded exactly as v1 does).
//!
//! With them, the checks both walkers apply to what they read: client ids, clocks and the ends
//! of runs (below [`MAX_CLOCK`]), shared types.

use super::error::ScreenError;
use super::format::{MAX_CLOCK, MAX_DEPTH, TYPE_MAP, TYPE_TEXT};
use crate::ids::MAX_CLIENT_ID;
use crate::lib0::{VarIntError, read_var};

/// Longest signed varint accepted: 9 bytes hold 62 bits of magnitude. yrs shifts each byte in
/// unchecked and negates the result, so longer ones can overflow (a debug-build panic); lib0
/// writes integers of at most 53 bits (8 bytes).
const MAX_SIGNED_VARINT_BYTES: usize = 9;

pub(super) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub fn left(&self) -> u64 {
        self.bytes.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn u8(&mut self) -> Result<u8, ScreenError> {
        let (&b, rest) = self.bytes.split_first().ok_or(ScreenError::Truncated)?;
        self.bytes = rest;
        Ok(b)
    }

    pub fn take(&mut self, n: u64) -> Result<&'a [u8], ScreenError> {
        let n = usize::try_from(n).map_err(|_| ScreenError::Truncated)?;
        if n > self.bytes.len() {
            return Err(ScreenError::Truncated);
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    /// A lib0 unsigned varint of at most 64 bits.
    pub fn var(&mut self) -> Result<u64, ScreenError> {
        read_var(&mut self.bytes).map_err(|error| match error {
            VarIntError::Truncated => ScreenError::Truncated,
            VarIntError::Overflow => ScreenError::VarIntOverflow,
        })
    }

    /// An unsigned varint yrs reads as a `u32` (it would silently wrap a larger one).
    pub fn var_u32(&mut self) -> Result<u32, ScreenError> {
        u32::try_from(self.var()?).map_err(|_| ScreenError::VarIntOverflow)
    }

    /// A lib0 signed varint: its magnitude and whether its sign bit is set (lib0 has a `-0`,
    /// which v2's run-length columns use as a flag).
    pub fn signed(&mut self) -> Result<(u64, bool), ScreenError> {
        let first = self.u8()?;
        let negative = first & 0x40 != 0;
        let mut magnitude = u64::from(first & 0x3f);
        let mut more = first & 0x80 != 0;
        let mut shift = 6;
        for _ in 1..MAX_SIGNED_VARINT_BYTES {
            if !more {
                return Ok((magnitude, negative));
            }
            let b = self.u8()?;
            magnitude |= u64::from(b & 0x7f) << shift;
            more = b & 0x80 != 0;
            shift += 7;
        }
        if more {
            return Err(ScreenError::VarIntOverflow);
        }
        Ok((magnitude, negative))
    }

    /// A count of elements that each take at least one of the bytes left.
    pub fn count(&mut self) -> Result<u64, ScreenError> {
        let count = self.var()?;
        let left = self.left();
        if count > left {
            return Err(ScreenError::Count { count, left });
        }
        Ok(count)
    }

    /// A length-prefixed byte string.
    pub fn buf(&mut self) -> Result<&'a [u8], ScreenError> {
        let len = self.count()?;
        self.take(len)
    }

    /// A length-prefixed UTF-8 string.
    pub fn string(&mut self) -> Result<&'a str, ScreenError> {
        std::str::from_utf8(self.buf()?).map_err(|_| ScreenError::Utf8)
    }

    pub fn client(&mut self) -> Result<u64, ScreenError> {
        check_client(self.var()?)
    }

    /// An item's clock in an update: below [`MAX_CLOCK`].
    pub fn clock(&mut self) -> Result<u32, ScreenError> {
        item_clock(self.var()?)
    }

    /// A lib0 `Any` value, nested at most [`MAX_DEPTH`] deep.
    pub fn any(&mut self, depth: usize) -> Result<(), ScreenError> {
        if depth > MAX_DEPTH {
            return Err(ScreenError::TooDeep);
        }
        match self.u8()? {
            127 | 126 | 121 | 120 => Ok(()),     // undefined, null, false, true
            125 => self.signed().map(drop),      // integer
            124 => self.take(4).map(drop),       // float32
            123 | 122 => self.take(8).map(drop), // float64, bigint
            119 => self.string().map(drop),      // string
            116 => self.buf().map(drop),         // binary
            118 => {
                for _ in 0..self.count()? {
                    self.string()?;
                    self.any(depth + 1)?;
                }
                Ok(())
            }
            117 => {
                for _ in 0..self.count()? {
                    self.any(depth + 1)?;
                }
                Ok(())
            }
            tag => Err(ScreenError::ValueTag(tag)),
        }
    }

    pub fn finish(self) -> Result<(), ScreenError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(ScreenError::Trailing(n)),
        }
    }
}

/// A client id Yjs can represent.
pub(super) fn check_client(client: u64) -> Result<u64, ScreenError> {
    if client > MAX_CLIENT_ID {
        return Err(ScreenError::ClientId(client));
    }
    Ok(client)
}

/// The shared types a cardsync document holds.
pub(super) fn shared_type(type_ref: u64) -> Result<(), ScreenError> {
    match type_ref {
        TYPE_MAP | TYPE_TEXT => Ok(()),
        other => Err(ScreenError::SharedType(other)),
    }
}

/// `clock` as an item's clock: below [`MAX_CLOCK`].
pub(super) fn item_clock(clock: u64) -> Result<u32, ScreenError> {
    u32::try_from(clock)
        .ok()
        .filter(|&c| c < MAX_CLOCK)
        .ok_or(ScreenError::Clock(clock))
}

/// `clock + len`, if it ends at or before [`MAX_CLOCK`] (yrs adds them unchecked).
pub(super) fn advance(clock: u32, len: u64) -> Result<u32, ScreenError> {
    let end = u64::from(clock) + len;
    u32::try_from(end)
        .ok()
        .filter(|&e| e <= MAX_CLOCK)
        .ok_or(ScreenError::Clock(end))
}

/// The UTF-16 length of a string: what Yjs counts, and a string item's clock length.
pub(super) fn utf16_len(text: &str) -> u64 {
    text.chars().map(|c| c.len_utf16() as u64).sum()
}
