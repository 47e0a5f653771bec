//! Writing lib0 varints, the one piece of the Yjs encoding the intake writes itself.
//!
//! The intake cuts v1 updates into parts ([`super::v1`]), joins one client's updates
//! ([`super::concat`]) and writes delete sets ([`super::deletes`]) by copying blocks' bytes
//! under headers of its own; the varints of those headers are written here, by yrs' own writer.

/// Appends a lib0 unsigned varint (yrs' own writer).
pub(super) fn write_var(out: &mut Vec<u8>, value: u64) {
    yrs::encoding::write::Write::write_var(out, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_lib0() {
        let mut out = Vec::new();
        for value in [0, 127, 128, 300, u64::from(u32::MAX)] {
            write_var(&mut out, value);
        }
        assert_eq!(
            out,
            [0, 0x7f, 0x80, 1, 0xac, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]
        );
    }
}
