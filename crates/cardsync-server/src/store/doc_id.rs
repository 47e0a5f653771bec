//! Document ids: the room name in the URL, the key in the store, the subject of a token.
//!
//! One id names a document everywhere, so it is validated once, where it enters (the URL),
//! and carried as a [`DocId`] after that. The alphabet is what is safe unescaped in a URL
//! path, a log line and a SQL parameter alike, and the length bound keeps a hostile URL from
//! becoming a large key.

use std::fmt;

use thiserror::Error;

/// Longest document id, in bytes.
pub const MAX_DOC_ID_LEN: usize = 128;

/// A validated document id: 1 to 128 of `A-Z a-z 0-9 - _ .`, not starting with a dot.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocId(String);

/// Why a string is not a document id.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DocIdError {
    /// Empty, or longer than 128 bytes.
    #[error("a document id has 1 to {MAX_DOC_ID_LEN} characters, not {0}")]
    Length(usize),
    /// A character outside the alphabet, or a leading dot.
    #[error("a document id uses only A-Z a-z 0-9 - _ . and does not start with a dot")]
    Character,
}

impl DocId {
    /// Validates `id`.
    ///
    /// ```
    /// use cardsync_server::store::DocId;
    /// assert!(DocId::new("board-42").is_ok());
    /// assert!(DocId::new("../etc/passwd").is_err());
    /// ```
    pub fn new(id: &str) -> Result<Self, DocIdError> {
        if id.is_empty() || id.len() > MAX_DOC_ID_LEN {
            return Err(DocIdError::Length(id.len()));
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if id.starts_with('.') || !id.chars().all(ok) {
            return Err(DocIdError::Character);
        }
        Ok(Self(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_and_length() {
        assert!(DocId::new("a").is_ok());
        assert!(DocId::new("Board_1.v2-x").is_ok());
        assert_eq!(DocId::new(""), Err(DocIdError::Length(0)));
        assert_eq!(DocId::new(&"a".repeat(129)), Err(DocIdError::Length(129)));
        assert_eq!(DocId::new(".hidden"), Err(DocIdError::Character));
        assert_eq!(DocId::new("a/b"), Err(DocIdError::Character));
        assert_eq!(DocId::new("é"), Err(DocIdError::Character));
    }
}
