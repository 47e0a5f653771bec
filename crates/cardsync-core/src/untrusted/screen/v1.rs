//! Screening v1: lib0 v1 lays an update out in one stream, client blocks first, then the
//! delete set, every value in place. Each block's bytes are contiguous, which is what lets
//! [`crate::untrusted::intake`] cut a v1 update into the part that can be integrated now and the part
//! that waits, by copying byte ranges.

use super::error::ScreenError;
use super::format::{
    BLOCK_GC, BLOCK_SKIP, CONTENT_ANY, CONTENT_BINARY, CONTENT_DELETED, CONTENT_EMBED,
    CONTENT_FORMAT, CONTENT_MASK, CONTENT_STRING, CONTENT_TYPE, HAS_ORIGIN, HAS_PARENT_SUB,
    HAS_RIGHT_ORIGIN,
};
use super::reader::{Reader, advance, shared_type, utf16_len};
use crate::untrusted::structure::{Block, BlockKind, Id, ItemInfo, Parent, Structure};

pub(super) fn update(bytes: &[u8]) -> Result<Structure, ScreenError> {
    let mut r = Reader::new(bytes);
    let mut structure = Structure::default();
    let at = |r: &Reader<'_>| bytes.len() - r.left() as usize;
    for _ in 0..r.count()? {
        let blocks = r.count()?;
        structure.start_client(r.client()?)?;
        let mut clock = r.clock()?;
        for _ in 0..blocks {
            let start = at(&r);
            let (len, kind) = block(&mut r)?;
            let end = advance(clock, len)?;
            structure.push(Block {
                clock,
                len: end - clock,
                kind,
                bytes: start..at(&r),
            })?;
            clock = end;
        }
    }
    for _ in 0..r.count()? {
        let client = r.client()?;
        structure.start_deletes(client)?;
        for _ in 0..r.count()? {
            let clock = r.clock()?;
            let len = r.var_u32()?;
            advance(clock, len.into())?;
            structure.delete(client, clock, len);
        }
    }
    r.finish()?;
    Ok(structure)
}

fn id(r: &mut Reader<'_>) -> Result<Id, ScreenError> {
    Ok(Id {
        client: r.client()?,
        clock: r.clock()?,
    })
}

/// One block: its length in clocks and what it is.
fn block(r: &mut Reader<'_>) -> Result<(u64, BlockKind), ScreenError> {
    let info = r.u8()?;
    if info == BLOCK_SKIP {
        return Ok((r.var_u32()?.into(), BlockKind::Skip));
    }
    if info == BLOCK_GC {
        return Ok((r.var_u32()?.into(), BlockKind::Gc));
    }
    let origin = (info & HAS_ORIGIN != 0).then(|| id(r)).transpose()?;
    let right_origin = (info & HAS_RIGHT_ORIGIN != 0).then(|| id(r)).transpose()?;
    let (mut parent, mut keyed) = (Parent::Neighbours, false);
    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
        parent = if r.var_u32()? == 1 {
            Parent::Root(r.string()?.to_owned())
        } else {
            Parent::Item(id(r)?)
        };
        if info & HAS_PARENT_SUB != 0 {
            r.string()?;
            keyed = true;
        }
    }
    let content = info & CONTENT_MASK;
    let mut type_ref = None;
    let len = match content {
        CONTENT_DELETED => r.var_u32().map(u64::from),
        // Refused: yrs cannot write it back in v2 (see the module doc).
        CONTENT_BINARY => Err(ScreenError::Content(CONTENT_BINARY)),
        CONTENT_STRING => r.string().map(utf16_len),
        // JSON text; yrs parses it with serde_json, which bounds nesting itself.
        CONTENT_EMBED => r.string().map(|_| 1),
        CONTENT_FORMAT => {
            r.string()?;
            r.string().map(|_| 1)
        }
        CONTENT_TYPE => {
            let t = r.u8()?.into();
            type_ref = Some(t);
            shared_type(t).map(|()| 1)
        }
        CONTENT_ANY => {
            let count = r.count()?;
            for _ in 0..count {
                r.any(0)?;
            }
            Ok(count)
        }
        other => Err(ScreenError::Content(other)),
    }?;
    let item = ItemInfo {
        origin,
        right_origin,
        parent,
        keyed,
        content,
        type_ref,
    };
    Ok((len, BlockKind::Item(item)))
}
