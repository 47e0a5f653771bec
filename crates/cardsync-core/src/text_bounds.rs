//! What validation needs to know of a text field: its length, and where characters begin.
//!
//! Splitting a surrogate pair makes yrs (like Yjs) replace both halves with U+FFFD, and
//! replicas that integrate the split in a different order keep the original character: a real
//! divergence, found by the convergence properties. So local writes never split a pair. Checking
//! that needs the text's UTF-16 units, which cost O(length) to materialize; texts without
//! characters outside the BMP (the common case) cannot contain a pair, so for them the length
//! alone (O(1) from yrs) is enough. Whether a text may hold such characters is tracked per field
//! by the event observers and computed once, lazily; both ask [`has_astral`], defined here.

/// Whether text contains a character outside the Basic Multilingual Plane (a surrogate pair
/// in UTF-16).
pub(crate) fn has_astral(text: &str) -> bool {
    text.chars().any(|c| c.len_utf16() == 2)
}

/// A text field as validation sees it while walking a batch.
pub(crate) enum TextBounds {
    /// The text holds no surrogate pairs: every index is a character boundary.
    Plain(u32),
    /// The text's UTF-16 units.
    Units(Vec<u16>),
}

impl TextBounds {
    /// The bounds of `text`: its length, and with `astral` its units.
    pub fn of(text: &str, astral: bool) -> Self {
        if astral {
            TextBounds::Units(text.encode_utf16().collect())
        } else {
            TextBounds::Plain(text.encode_utf16().count() as u32)
        }
    }

    /// Length in UTF-16 units.
    pub fn len(&self) -> u32 {
        match self {
            TextBounds::Plain(len) => *len,
            TextBounds::Units(units) => units.len() as u32,
        }
    }

    /// Whether `index` is a character boundary (not inside a surrogate pair).
    pub fn is_boundary(&self, index: u32) -> bool {
        match self {
            TextBounds::Plain(_) => true,
            TextBounds::Units(units) => !units
                .get(index as usize)
                .is_some_and(|u| (0xDC00..=0xDFFF).contains(u)),
        }
    }

    /// Records an insertion (the caller checked the index).
    pub fn insert(&mut self, index: u32, text: &str) {
        match self {
            TextBounds::Plain(len) => *len += text.encode_utf16().count() as u32,
            TextBounds::Units(units) => {
                let at = index as usize;
                units.splice(at..at, text.encode_utf16());
            }
        }
    }

    /// Records a deletion of `index..end` (the caller checked the range).
    pub fn delete(&mut self, index: u32, end: u32) {
        match self {
            TextBounds::Plain(len) => *len -= end - index,
            TextBounds::Units(units) => {
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
            let mut bounds = TextBounds::of("ab", astral);
            bounds.insert(1, "xyz");
            bounds.delete(0, 2);
            assert_eq!(bounds.len(), 3);
        }
        let bounds = TextBounds::of("a🙂b", true);
        assert_eq!(bounds.len(), 4);
        assert!(bounds.is_boundary(1) && !bounds.is_boundary(2) && bounds.is_boundary(3));
    }
}
