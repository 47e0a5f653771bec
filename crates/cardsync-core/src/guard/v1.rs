//! The v1 scan: lib0 v1 lays an update out in one stream, client blocks first, then the
//! delete set, every value in place.

use super::reader::Reader;
use super::{
    BLOCK_GC, BLOCK_SKIP, CONTENT_ANY, CONTENT_BINARY, CONTENT_DELETED, CONTENT_EMBED,
    CONTENT_FORMAT, CONTENT_MASK, CONTENT_STRING, CONTENT_TYPE, GuardError, HAS_ORIGIN,
    HAS_PARENT_SUB, HAS_RIGHT_ORIGIN, advance, shared_type, utf16_len,
};

pub(super) fn update(bytes: &[u8]) -> Result<(), GuardError> {
    let mut r = Reader::new(bytes);
    for _ in 0..r.count()? {
        let blocks = r.count()?;
        r.client()?;
        let mut clock = r.clock()?;
        for _ in 0..blocks {
            let len = block(&mut r)?;
            clock = advance(clock, len)?;
        }
    }
    for _ in 0..r.count()? {
        r.client()?;
        for _ in 0..r.count()? {
            let clock = r.clock()?;
            let len = r.var_u32()?;
            advance(clock, len.into())?;
        }
    }
    r.finish()
}

fn id(r: &mut Reader<'_>) -> Result<(), GuardError> {
    r.client()?;
    r.clock().map(drop)
}

/// One block; returns its length in clocks.
fn block(r: &mut Reader<'_>) -> Result<u64, GuardError> {
    let info = r.u8()?;
    if info == BLOCK_SKIP || info == BLOCK_GC {
        return r.var_u32().map(u64::from);
    }
    if info & HAS_ORIGIN != 0 {
        id(r)?;
    }
    if info & HAS_RIGHT_ORIGIN != 0 {
        id(r)?;
    }
    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
        if r.var_u32()? == 1 {
            r.string()?; // named root
        } else {
            id(r)?; // parent item
        }
        if info & HAS_PARENT_SUB != 0 {
            r.string()?;
        }
    }
    match info & CONTENT_MASK {
        CONTENT_DELETED => r.var_u32().map(u64::from),
        CONTENT_BINARY => r.buf().map(|_| 1),
        CONTENT_STRING => r.string().map(utf16_len),
        // JSON text; yrs parses it with serde_json, which bounds nesting itself.
        CONTENT_EMBED => r.string().map(|_| 1),
        CONTENT_FORMAT => {
            r.string()?;
            r.string().map(|_| 1)
        }
        CONTENT_TYPE => shared_type(r.u8()?.into()).map(|()| 1),
        CONTENT_ANY => {
            let count = r.count()?;
            for _ in 0..count {
                r.any(0)?;
            }
            Ok(count)
        }
        other => Err(GuardError::Content(other)),
    }
}
