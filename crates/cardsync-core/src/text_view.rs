//! What validation needs to know of a text field: its length, and where characters begin.
//!
//! Splitting a surrogate pair makes yrs (like Yjs) replace both halves with U+FFFD, and
//! replicas that integrate the split in a different order keep the original character: a real
//! divergence, found by the convergence properties. So local writes never split a pair. Checking
//! that needs the text's UTF-16 units, which cost O(length) to materialize; texts without
//! characters outside the BMP (the common case) cannot contain a pair, so for them the length
//! alone (O(1) from yrs) is enough. Whether a text may hold such characters is tracked per field
//! by the event observers and computed once, lazily.

/// A text field as validation sees it while walking a batch.
pub(crate) enum TextView {
    /// The text holds no surrogate pairs: every index is a character boundary.
    Plain(u32),
    /// The text's UTF-16 units.
    Units(Vec<u16>),
}

impl TextView {
    /// A view of `text`.
    pub fn of(text: &str, astral: bool) -> Self {
        if astral {
            TextView::Units(text.encode_utf16().collect())
        } else {
            TextView::Plain(text.encode_utf16().count() as u32)
        }
    }

    /// Length in UTF-16 units.
    pub fn len(&self) -> u32 {
        match self {
            TextView::Plain(len) => *len,
            TextView::Units(units) => units.len() as u32,
        }
    }

    /// Whether `index` is a character boundary (not inside a surrogate pair).
    pub fn is_boundary(&self, index: u32) -> bool {
        match self {
            TextView::Plain(_) => true,
            TextView::Units(units) => !units
                .get(index as usize)
                .is_some_and(|u| (0xDC00..=0xDFFF).contains(u)),
        }
    }

    /// Records an insertion (the caller checked the index).
    pub fn insert(&mut self, index: u32, text: &str) {
        match self {
            TextView::Plain(len) => *len += text.encode_utf16().count() as u32,
            TextView::Units(units) => {
                let at = index as usize;
                units.splice(at..at, text.encode_utf16());
            }
        }
    }

    /// Records a deletion of `index..end` (the caller checked the range).
    pub fn delete(&mut self, index: u32, end: u32) {
        match self {
            TextView::Plain(len) => *len -= end - index,
            TextView::Units(units) => {
                units.drain(index as usize..end as usize);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_units_agree_on_lengths() {
        for astral in [false, true] {
            let mut view = TextView::of("ab", astral);
            view.insert(1, "xyz");
            view.delete(0, 2);
            assert_eq!(view.len(), 3);
        }
        let view = TextView::of("a🙂b", true);
        assert_eq!(view.len(), 4);
        assert!(view.is_boundary(1) && !view.is_boundary(2) && view.is_boundary(3));
    }
}
