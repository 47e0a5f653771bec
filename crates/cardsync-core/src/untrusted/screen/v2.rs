//! Screening v2. lib0 v2 splits an update into nine columns (key clocks, clients, left and
//! right clocks, infos, strings, parent infos, type refs, lengths), most of them run-length
//! encoded, and a "rest" stream holding counts, clocks, `Any` values and the delete set. The
//! screen runs a decoder per column that mirrors yrs' (`yrs::updates::decoder::DecoderV2`) step
//! by step, with checked arithmetic where yrs' is unchecked.

use super::error::ScreenError;
use super::format::{
    BLOCK_GC, BLOCK_SKIP, CONTENT_ANY, CONTENT_BINARY, CONTENT_DELETED, CONTENT_EMBED,
    CONTENT_FORMAT, CONTENT_MASK, CONTENT_STRING, CONTENT_TYPE, HAS_ORIGIN, HAS_PARENT_SUB,
    HAS_RIGHT_ORIGIN,
};
use super::reader::{Reader, advance, check_client, item_clock, shared_type, utf16_len};
use crate::untrusted::structure::{Block, BlockKind, Id, ItemInfo, Parent, Structure};

/// lib0's `UintOptRleDecoder`: a value, and if its sign bit is set, a run length minus two.
struct UintOptRle<'a> {
    r: Reader<'a>,
    last: u64,
    count: u32,
}

impl<'a> UintOptRle<'a> {
    fn new(r: Reader<'a>) -> Self {
        Self {
            r,
            last: 0,
            count: 0,
        }
    }

    fn next(&mut self) -> Result<u64, ScreenError> {
        if self.count == 0 {
            let (value, run) = self.r.signed()?;
            self.last = value;
            self.count = if run {
                let extra = self.r.var_u32()?;
                extra.checked_add(2).ok_or(ScreenError::Overflow)?
            } else {
                1
            };
        }
        self.count -= 1;
        Ok(self.last)
    }

    /// A value yrs reads as a `u32` (it would silently truncate a larger one).
    fn next_u32(&mut self) -> Result<u32, ScreenError> {
        u32::try_from(self.next()?).map_err(|_| ScreenError::VarIntOverflow)
    }
}

/// lib0's `IntDiffOptRleDecoder`: a signed delta (shifted left, its low bit flagging a run)
/// added to the previous value, in yrs' `i32` arithmetic.
struct IntDiffOptRle<'a> {
    r: Reader<'a>,
    last: u32,
    count: u32,
    diff: i32,
}

impl<'a> IntDiffOptRle<'a> {
    fn new(r: Reader<'a>) -> Self {
        Self {
            r,
            last: 0,
            count: 0,
            diff: 0,
        }
    }

    fn next(&mut self) -> Result<u32, ScreenError> {
        if self.count == 0 {
            let (magnitude, negative) = self.r.signed()?;
            let value = i64::try_from(magnitude).map_err(|_| ScreenError::VarIntOverflow)?;
            let value = if negative { -value } else { value };
            let value = i32::try_from(value).map_err(|_| ScreenError::VarIntOverflow)?;
            self.diff = value >> 1;
            self.count = if value & 1 != 0 {
                let extra = self.r.var_u32()?;
                extra.checked_add(2).ok_or(ScreenError::Overflow)?
            } else {
                1
            };
        }
        let next = (self.last as i32)
            .checked_add(self.diff)
            .ok_or(ScreenError::Overflow)?;
        self.last = next as u32;
        self.count -= 1;
        Ok(self.last)
    }
}

/// lib0's `RleDecoder` of bytes: a byte and its run length minus one; the last run has no
/// length and repeats forever.
struct Rle<'a> {
    r: Reader<'a>,
    last: u8,
    /// Reads left in the current run; `None` once the last run repeats forever.
    count: Option<u32>,
}

impl<'a> Rle<'a> {
    fn new(r: Reader<'a>) -> Self {
        Self {
            r,
            last: 0,
            count: Some(0),
        }
    }

    fn next(&mut self) -> Result<u8, ScreenError> {
        if self.count == Some(0) {
            self.last = self.r.u8()?;
            self.count = if self.r.is_empty() {
                None
            } else {
                // yrs computes `n as i32 + 1`: refuse what would wrap or overflow there.
                let n = i32::try_from(self.r.var_u32()?).map_err(|_| ScreenError::Overflow)?;
                let run = n.checked_add(1).ok_or(ScreenError::Overflow)?;
                Some(run.unsigned_abs())
            };
        }
        if let Some(count) = &mut self.count {
            *count -= 1;
        }
        Ok(self.last)
    }
}

/// lib0's `StringDecoder`: all strings concatenated, then their UTF-16 lengths as a
/// [`UintOptRle`] column.
struct Strings<'a> {
    text: &'a str,
    pos: usize,
    lens: UintOptRle<'a>,
}

impl<'a> Strings<'a> {
    fn new(mut r: Reader<'a>) -> Result<Self, ScreenError> {
        let text = r.string()?;
        Ok(Self {
            text,
            pos: 0,
            lens: UintOptRle::new(r),
        })
    }

    /// The next string; returns its UTF-16 length.
    fn next(&mut self) -> Result<u64, ScreenError> {
        self.next_str().map(utf16_len)
    }

    /// The next string.
    fn next_str(&mut self) -> Result<&'a str, ScreenError> {
        let len = self.lens.next()?;
        let mut remaining = len;
        let mut bytes = 0;
        for c in self.text[self.pos..].chars() {
            if remaining == 0 {
                break;
            }
            // yrs subtracts unchecked: a length ending inside a surrogate pair underflows.
            remaining = remaining
                .checked_sub(c.len_utf16() as u64)
                .ok_or(ScreenError::StringLength)?;
            bytes += c.len_utf8();
        }
        if remaining > 0 {
            // yrs would silently return a shorter string.
            return Err(ScreenError::StringLength);
        }
        let text = &self.text[self.pos..self.pos + bytes];
        self.pos += bytes;
        Ok(text)
    }
}

struct Screen<'a> {
    rest: Reader<'a>,
    key_clocks: IntDiffOptRle<'a>,
    clients: UintOptRle<'a>,
    left_clocks: IntDiffOptRle<'a>,
    right_clocks: IntDiffOptRle<'a>,
    infos: Rle<'a>,
    strings: Strings<'a>,
    parent_infos: Rle<'a>,
    type_refs: UintOptRle<'a>,
    lens: UintOptRle<'a>,
    /// How many keys yrs' key table holds so far (format keys are sent once, then by index).
    keys: u64,
    structure: Structure,
}

pub(super) fn update(bytes: &[u8]) -> Result<Structure, ScreenError> {
    let mut r = Reader::new(bytes);
    if !r.is_empty() {
        r.u8()?; // feature flag, unused
    }
    let mut column = || r.buf().map(Reader::new);
    let (key_clocks, clients, left_clocks, right_clocks, infos) =
        (column()?, column()?, column()?, column()?, column()?);
    let strings = column()?;
    let (parent_infos, type_refs, lens) = (column()?, column()?, column()?);
    let mut screen = Screen {
        rest: r,
        key_clocks: IntDiffOptRle::new(key_clocks),
        clients: UintOptRle::new(clients),
        left_clocks: IntDiffOptRle::new(left_clocks),
        right_clocks: IntDiffOptRle::new(right_clocks),
        infos: Rle::new(infos),
        strings: Strings::new(strings)?,
        parent_infos: Rle::new(parent_infos),
        type_refs: UintOptRle::new(type_refs),
        lens: UintOptRle::new(lens),
        keys: 0,
        structure: Structure::default(),
    };
    // Run-length columns let a few bytes describe any number of blocks, so blocks are
    // counted against the input's size rather than the bytes left in "rest".
    let mut budget = bytes.len() as u64;
    for _ in 0..screen.rest.count()? {
        let blocks = u64::from(screen.rest.var_u32()?);
        budget = budget.checked_sub(blocks).ok_or(ScreenError::Count {
            count: blocks,
            left: budget,
        })?;
        let client = check_client(screen.clients.next()?)?;
        screen.structure.start_client(client)?;
        let mut clock = screen.rest.clock()?;
        for _ in 0..blocks {
            let (len, kind) = screen.block()?;
            let end = advance(clock, len)?;
            screen.structure.push(Block {
                clock,
                len: end - clock,
                kind,
                bytes: 0..0,
            })?;
            clock = end;
        }
    }
    screen.delete_set()?;
    screen.rest.finish()?;
    Ok(screen.structure)
}

impl Screen<'_> {
    fn id(&mut self, right: bool) -> Result<Id, ScreenError> {
        let client = check_client(self.clients.next()?)?;
        let clock = if right {
            self.right_clocks.next()?
        } else {
            self.left_clocks.next()?
        };
        let clock = item_clock(clock.into())?;
        Ok(Id { client, clock })
    }

    fn key(&mut self) -> Result<(), ScreenError> {
        if u64::from(self.key_clocks.next()?) >= self.keys {
            self.strings.next()?;
            self.keys += 1;
        }
        Ok(())
    }

    /// One block: its length in clocks and what it is.
    fn block(&mut self) -> Result<(u64, BlockKind), ScreenError> {
        let info = self.infos.next()?;
        match info {
            BLOCK_SKIP => return Ok((self.rest.var_u32()?.into(), BlockKind::Skip)),
            BLOCK_GC => return Ok((self.lens.next_u32()?.into(), BlockKind::Gc)),
            _ => {}
        }
        let origin = (info & HAS_ORIGIN != 0)
            .then(|| self.id(false))
            .transpose()?;
        let right_origin = (info & HAS_RIGHT_ORIGIN != 0)
            .then(|| self.id(true))
            .transpose()?;
        let (mut parent, mut keyed) = (Parent::Neighbours, false);
        if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
            parent = if self.parent_infos.next()? == 1 {
                Parent::Root(self.strings.next_str()?.to_owned())
            } else {
                Parent::Item(self.id(false)?)
            };
            if info & HAS_PARENT_SUB != 0 {
                self.strings.next()?;
                keyed = true;
            }
        }
        let content = info & CONTENT_MASK;
        let mut type_ref = None;
        let len = match content {
            CONTENT_DELETED => self.lens.next_u32().map(u64::from),
            // Refused: yrs cannot write it back in v2 (see the module doc).
            CONTENT_BINARY => Err(ScreenError::Content(CONTENT_BINARY)),
            CONTENT_STRING => self.strings.next(),
            CONTENT_EMBED => self.rest.any(0).map(|()| 1),
            CONTENT_FORMAT => {
                self.key()?;
                self.rest.any(0).map(|()| 1)
            }
            CONTENT_TYPE => {
                let t = self.type_refs.next()?;
                type_ref = Some(t);
                shared_type(t).map(|()| 1)
            }
            CONTENT_ANY => {
                let count = u64::from(self.lens.next_u32()?);
                let left = self.rest.left();
                if count > left {
                    return Err(ScreenError::Count { count, left });
                }
                for _ in 0..count {
                    self.rest.any(0)?;
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

    /// The delete set: per client, ranges as (gap since the last end, length − 1).
    fn delete_set(&mut self) -> Result<(), ScreenError> {
        for _ in 0..self.rest.count()? {
            let client = self.rest.client()?;
            self.structure.start_deletes(client)?;
            let mut at = 0u32;
            for _ in 0..self.rest.count()? {
                at = advance(at, self.rest.var_u32()?.into())?;
                let start = at;
                let len = u64::from(self.rest.var_u32()?) + 1;
                at = advance(at, len)?;
                self.structure.delete(client, start, at - start);
            }
        }
        Ok(())
    }
}
