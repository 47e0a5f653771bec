//! lib0 primitives (the encoding Yjs uses): unsigned varints (the core's `lib0` module),
//! length-prefixed buffers and strings. A strict reader: every length is checked against the bytes left, so a hostile
//! length prefix fails fast instead of allocating.

use cardsync_core::lib0::{VarIntError, read_var};

use super::ProtocolError;

pub(crate) use cardsync_core::lib0::write_var;

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
        read_var(&mut self.bytes).map_err(|error| match error {
            VarIntError::Truncated => ProtocolError::Truncated,
            VarIntError::Overflow => ProtocolError::VarIntOverflow,
        })
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

    /// How many bytes are left to read.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    pub fn finish(self) -> Result<(), ProtocolError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(ProtocolError::TrailingBytes(self.bytes.len()))
        }
    }
}
