//! lib0 primitives (the encoding Yjs uses): unsigned varints, length-prefixed buffers and
//! strings. A strict reader: every length is checked against the bytes left, so a hostile
//! length prefix fails fast instead of allocating.

use super::ProtocolError;

/// Appends an unsigned LEB128 varint.
pub(crate) fn write_var(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a length-prefixed byte buffer.
pub(crate) fn write_buf(out: &mut Vec<u8>, bytes: &[u8]) {
    write_var(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a length-prefixed UTF-8 string.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    write_buf(out, text.as_bytes());
}

/// Reads lib0 values from a byte slice.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub fn var(&mut self) -> Result<u64, ProtocolError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.bytes.split_first().ok_or(ProtocolError::Truncated)?;
            self.bytes = rest;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(ProtocolError::VarIntOverflow);
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtocolError::VarIntOverflow)
    }

    pub fn var_u32(&mut self) -> Result<u32, ProtocolError> {
        u32::try_from(self.var()?).map_err(|_| ProtocolError::VarIntOverflow)
    }

    pub fn buf(&mut self) -> Result<&'a [u8], ProtocolError> {
        let len = self.var()?;
        let len = usize::try_from(len).map_err(|_| ProtocolError::Truncated)?;
        if len > self.bytes.len() {
            return Err(ProtocolError::Truncated);
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    pub fn string(&mut self) -> Result<String, ProtocolError> {
        let bytes = self.buf()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| ProtocolError::InvalidUtf8)
    }

    pub fn finish(self) -> Result<(), ProtocolError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(ProtocolError::TrailingBytes(self.bytes.len()))
        }
    }
}
