//! A structural pre-scan of untrusted v1 updates and state vectors, run before yrs sees them.
//!
//! yrs 0.28.1 trusts declared counts: `Update::decode_v1` reserves memory for as many clients
//! and blocks as the first varints claim, so 5 bytes can make it allocate ~0.5 GB and spend
//! ~0.5 s before failing (DESIGN.md §8), and deeply nested `Any` arrays recurse once per level.
//! A server that decodes what any client sends must bound that work first. This scan walks
//! the same layout yrs reads (lib0 v1: client blocks, then the delete set) without allocating,
//! and refuses:
//! - any count larger than the bytes left (every counted element takes at least one byte),
//!   so what yrs later reserves is proportional to bytes really present;
//! - client ids above 2^53 − 1 (yrs debug-asserts on them, and Yjs cannot represent them);
//! - `Any` values nested deeper than [`MAX_DEPTH`];
//! - content a cardsync document never holds and whose yrs decoding differs from Yjs's:
//!   legacy JSON content (yrs reads one string more than it declares), sub-documents, and
//!   shared types other than maps and texts;
//! - trailing bytes.
//!
//! Passing the scan does not make an update valid; it makes decoding it cheap and safe.

use cardsync_core::MAX_CLIENT_ID;
use thiserror::Error;

/// Deepest nesting of arrays and maps inside an `Any` value.
pub const MAX_DEPTH: usize = 32;

const BLOCK_GC: u8 = 0;
const BLOCK_SKIP: u8 = 10;
const HAS_ORIGIN: u8 = 0x80;
const HAS_RIGHT_ORIGIN: u8 = 0x40;
const HAS_PARENT_SUB: u8 = 0x20;
/// Content numbers live in the low five bits; Yjs defines 1..=9.
const CONTENT_MASK: u8 = 0x1f;
const TYPE_MAP: u8 = 1;
const TYPE_TEXT: u8 = 2;

/// Why bytes were refused before decoding.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum GuardError {
    /// The bytes end inside a value.
    #[error("truncated")]
    Truncated,
    /// A varint is longer than 64 bits.
    #[error("varint overflow")]
    VarIntOverflow,
    /// A declared count exceeds what the remaining bytes could hold.
    #[error("declared count {count} exceeds the {left} bytes left")]
    Count {
        /// Declared.
        count: u64,
        /// Bytes left.
        left: usize,
    },
    /// A client id Yjs cannot represent.
    #[error("client id {0} exceeds 2^53 - 1")]
    ClientId(u64),
    /// A clock beyond 32 bits.
    #[error("clock {0} exceeds 2^32 - 1")]
    Clock(u64),
    /// Content kind a cardsync document never holds (or an unknown one).
    #[error("unsupported content kind {0}")]
    Content(u8),
    /// A shared type other than a map or a text.
    #[error("unsupported shared type {0}")]
    SharedType(u8),
    /// An unknown `Any` tag.
    #[error("unknown value tag {0}")]
    ValueTag(u8),
    /// Values nested too deeply.
    #[error("values nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// Bytes after the end.
    #[error("{0} trailing bytes")]
    Trailing(usize),
}

struct Scan<'a> {
    bytes: &'a [u8],
}

impl<'a> Scan<'a> {
    fn u8(&mut self) -> Result<u8, GuardError> {
        let (&b, rest) = self.bytes.split_first().ok_or(GuardError::Truncated)?;
        self.bytes = rest;
        Ok(b)
    }

    fn skip(&mut self, n: u64) -> Result<(), GuardError> {
        let n = usize::try_from(n).map_err(|_| GuardError::Truncated)?;
        self.bytes = self.bytes.get(n..).ok_or(GuardError::Truncated)?;
        Ok(())
    }

    fn var(&mut self) -> Result<u64, GuardError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(GuardError::VarIntOverflow);
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(GuardError::VarIntOverflow)
    }

    /// A lib0 signed varint: only its length matters here.
    fn signed_var(&mut self) -> Result<(), GuardError> {
        for _ in 0..10 {
            if self.u8()? & 0x80 == 0 {
                return Ok(());
            }
        }
        Err(GuardError::VarIntOverflow)
    }

    /// A count of elements that each take at least one byte.
    fn count(&mut self) -> Result<u64, GuardError> {
        let count = self.var()?;
        let left = self.bytes.len();
        if count > left as u64 {
            return Err(GuardError::Count { count, left });
        }
        Ok(count)
    }

    fn buf(&mut self) -> Result<(), GuardError> {
        let len = self.count()?;
        self.skip(len)
    }

    fn client(&mut self) -> Result<(), GuardError> {
        let client = self.var()?;
        if client > MAX_CLIENT_ID {
            return Err(GuardError::ClientId(client));
        }
        Ok(())
    }

    fn clock(&mut self) -> Result<(), GuardError> {
        let clock = self.var()?;
        if clock > u64::from(u32::MAX) {
            return Err(GuardError::Clock(clock));
        }
        Ok(())
    }

    fn id(&mut self) -> Result<(), GuardError> {
        self.client()?;
        self.clock()
    }

    fn any(&mut self, depth: usize) -> Result<(), GuardError> {
        if depth > MAX_DEPTH {
            return Err(GuardError::TooDeep);
        }
        match self.u8()? {
            127 | 126 | 121 | 120 => Ok(()),
            125 => self.signed_var(),
            124 => self.skip(4),
            123 | 122 => self.skip(8),
            119 | 116 => self.buf(),
            118 => {
                for _ in 0..self.count()? {
                    self.buf()?;
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
            tag => Err(GuardError::ValueTag(tag)),
        }
    }

    fn block(&mut self) -> Result<(), GuardError> {
        let info = self.u8()?;
        if info == BLOCK_SKIP || info == BLOCK_GC {
            return self.clock();
        }
        let has_origins = info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) != 0;
        if info & HAS_ORIGIN != 0 {
            self.id()?;
        }
        if info & HAS_RIGHT_ORIGIN != 0 {
            self.id()?;
        }
        if !has_origins {
            if self.var()? == 1 {
                self.buf()?; // named root
            } else {
                self.id()?; // parent item
            }
            if info & HAS_PARENT_SUB != 0 {
                self.buf()?;
            }
        }
        match info & CONTENT_MASK {
            1 => self.clock(),                         // deleted: length
            3..=5 => self.buf(),                       // binary, string, embed (JSON text)
            6 => self.buf().and_then(|()| self.buf()), // format: key, JSON text
            7 => match self.u8()? {
                TYPE_MAP | TYPE_TEXT => Ok(()),
                other => Err(GuardError::SharedType(other)),
            },
            8 => {
                for _ in 0..self.count()? {
                    self.any(0)?;
                }
                Ok(())
            }
            other => Err(GuardError::Content(other)),
        }
    }

    fn finish(self) -> Result<(), GuardError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(GuardError::Trailing(n)),
        }
    }
}

/// Checks that a v1 update is safe to hand to `yrs::Update::decode_v1`.
pub fn check_update_v1(bytes: &[u8]) -> Result<(), GuardError> {
    let mut scan = Scan { bytes };
    for _ in 0..scan.count()? {
        let blocks = scan.count()?;
        scan.client()?;
        scan.clock()?;
        for _ in 0..blocks {
            scan.block()?;
        }
    }
    for _ in 0..scan.count()? {
        scan.client()?;
        for _ in 0..scan.count()? {
            scan.clock()?;
            scan.clock()?;
        }
    }
    scan.finish()
}

/// Checks that a v1 state vector is safe to hand to `yrs::StateVector::decode_v1`.
pub fn check_state_vector_v1(bytes: &[u8]) -> Result<(), GuardError> {
    let mut scan = Scan { bytes };
    for _ in 0..scan.count()? {
        scan.client()?;
        scan.clock()?;
    }
    scan.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cardsync_core::{CardDoc, CardId, CardKind, FieldDef, FieldKind, Schema, Stamp, Value};

    #[test]
    fn real_updates_pass() {
        let schema = Schema::new(1).card(
            "note",
            CardKind::default()
                .field("title", FieldDef::new(FieldKind::Register))
                .field("body", FieldDef::new(FieldKind::Text))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("tags", FieldDef::new(FieldKind::Set)),
        );
        let mut doc = CardDoc::new(schema, 42).unwrap();
        let s = Stamp::new(1, "a");
        let card = CardId::from_u128(1);
        doc.create_card(&s, card, "note", [("title", Value::from("hi"))])
            .unwrap();
        doc.increment(&s, card, "votes", 3).unwrap();
        doc.add_to_set(&s, card, "tags", "x").unwrap();
        doc.insert_text(&s, card, "body", 0, "hello 😀 world")
            .unwrap();
        doc.delete_text(&s, card, "body", 0, 3).unwrap();
        doc.set_field(&s, card, "title", Value::Number(1.5))
            .unwrap();
        check_update_v1(&doc.snapshot_v1()).unwrap();
        check_state_vector_v1(&doc.state_vector()).unwrap();
        check_update_v1(&[0, 0]).unwrap();
    }

    #[test]
    fn decode_bomb_is_refused_fast() {
        // DESIGN.md §8: these 5 bytes make yrs 0.28.1 allocate ~0.5 GB.
        let bomb = [0xab, 0x8e, 0xc5, 0x73, 0x76];
        assert!(matches!(
            check_update_v1(&bomb),
            Err(GuardError::Count { .. })
        ));
        assert!(check_state_vector_v1(&bomb).is_err());
    }

    #[test]
    fn deep_nesting_and_big_client_ids_are_refused() {
        // One client, one block at clock 0 of client 1: an Any item in root "m" holding
        // 40 nested arrays.
        let mut bytes = vec![1, 1, 1, 0, 8, 1, 1, b'm', 1];
        bytes.extend(std::iter::repeat_n([117, 1], 40).flatten());
        bytes.extend([126, 0]);
        assert_eq!(check_update_v1(&bytes), Err(GuardError::TooDeep));
        let sv = [1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0];
        assert!(matches!(
            check_state_vector_v1(&sv),
            Err(GuardError::ClientId(_))
        ));
    }
}
