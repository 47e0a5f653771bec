//! lib0 unsigned varints, the integer encoding of every Yjs byte stream: updates, state
//! vectors, the y-protocols frames and awareness.
//!
//! Why one module at the bottom of the workspace: the screen reads varints of untrusted updates,
//! the intake writes them into the updates it cuts and joins, and the sync crate reads and
//! writes them in its frames and in awareness. Four copies had grown, with three spellings of
//! the same overflow rule; here is the one reader, strict about truncation and about values past
//! 64 bits, and the one writer, checked against lib0's own bytes.

use thiserror::Error;

/// Why a varint could not be read.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum VarIntError {
    /// The bytes ended inside the varint.
    #[error("the bytes end inside a varint")]
    Truncated,
    /// The varint holds more than 64 bits.
    #[error("a varint holds more than 64 bits")]
    Overflow,
}

/// Appends `value` as a lib0 unsigned varint (LEB128: seven bits a byte, low bits first).
pub fn write_var(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a lib0 unsigned varint from the front of `bytes` and advances past it.
pub fn read_var(bytes: &mut &[u8]) -> Result<u64, VarIntError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or(VarIntError::Truncated)?;
        *bytes = rest;
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(VarIntError::Overflow);
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(VarIntError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_lib0_and_read_back() {
        let values = [0, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for value in values {
            write_var(&mut ours, value);
            yrs::encoding::write::Write::write_var(&mut theirs, value);
        }
        assert_eq!(ours, theirs);
        assert_eq!(
            ours[..11],
            [0, 0x7f, 0x80, 1, 0xac, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]
        );
        let mut bytes = &ours[..];
        for value in values {
            assert_eq!(read_var(&mut bytes), Ok(value));
        }
        assert!(bytes.is_empty());
    }

    #[test]
    fn truncation_and_overflow_are_errors() {
        assert_eq!(read_var(&mut &[][..]), Err(VarIntError::Truncated));
        assert_eq!(
            read_var(&mut &[0x80, 0x80][..]),
            Err(VarIntError::Truncated)
        );
        let mut past_64_bits = vec![0xff; 9];
        past_64_bits.push(0x02);
        assert_eq!(read_var(&mut &past_64_bits[..]), Err(VarIntError::Overflow));
        assert_eq!(read_var(&mut &[0xff; 11][..]), Err(VarIntError::Overflow));
    }
}
