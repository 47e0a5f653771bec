//! Convenience writes for cards: each builds one [`Op`] and applies it as its own transaction.
//! Use [`CardDoc::apply`] to group several ops into one user action.
//!
//! Every change must be an [`Op`], because the sync layer replays ops after a rejection; callers,
//! though, think in single edits (set this field, type this text). These methods are that
//! vocabulary, one op each, kept apart from the applying itself (`write.rs`). Relationships and
//! sequences have theirs beside their reads (`relationship.rs`, `sequence.rs`).

use crate::doc::CardDoc;
use crate::error::WriteError;
use crate::ids::CardId;
use crate::ops::{Op, Stamp};
use crate::value::{Attributes, Value};

impl CardDoc {
    /// Creates a card of a schema kind with initial register values and text.
    pub fn create_card<'a>(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        kind: &str,
        fields: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Result<(), WriteError> {
        let fields = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        self.apply(
            stamp,
            &[Op::CreateCard {
                card,
                kind: kind.to_owned(),
                fields,
            }],
        )
    }

    /// Sets a register field.
    pub fn set_field(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        value: impl Into<Value>,
    ) -> Result<(), WriteError> {
        let (field, value) = (field.to_owned(), value.into());
        self.apply(stamp, &[Op::SetField { card, field, value }])
    }

    /// Inserts plain text at a UTF-16 index.
    pub fn insert_text(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        index: u32,
        text: &str,
    ) -> Result<(), WriteError> {
        let (field, text) = (field.to_owned(), text.to_owned());
        self.apply(
            stamp,
            &[Op::InsertText {
                card,
                field,
                index,
                text,
                attributes: Attributes::new(),
            }],
        )
    }

    /// Deletes `len` UTF-16 units of text at `index`.
    pub fn delete_text(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        index: u32,
        len: u32,
    ) -> Result<(), WriteError> {
        let field = field.to_owned();
        self.apply(
            stamp,
            &[Op::DeleteText {
                card,
                field,
                index,
                len,
            }],
        )
    }

    /// Formats a text range.
    pub fn format_text(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        index: u32,
        len: u32,
        attributes: Attributes,
    ) -> Result<(), WriteError> {
        let field = field.to_owned();
        self.apply(
            stamp,
            &[Op::FormatText {
                card,
                field,
                index,
                len,
                attributes,
            }],
        )
    }

    /// Adds `by` (negative to subtract) to a counter.
    pub fn increment(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        by: i64,
    ) -> Result<(), WriteError> {
        let field = field.to_owned();
        self.apply(stamp, &[Op::Increment { card, field, by }])
    }

    /// Raises a max field to at least `value`.
    pub fn raise_max(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        value: f64,
    ) -> Result<(), WriteError> {
        let field = field.to_owned();
        self.apply(stamp, &[Op::RaiseMax { card, field, value }])
    }

    /// Adds an item to a set field.
    pub fn add_to_set(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        item: &str,
    ) -> Result<(), WriteError> {
        let (field, item) = (field.to_owned(), item.to_owned());
        self.apply(stamp, &[Op::AddToSet { card, field, item }])
    }

    /// Removes an item from a set field.
    pub fn remove_from_set(
        &mut self,
        stamp: &Stamp,
        card: CardId,
        field: &str,
        item: &str,
    ) -> Result<(), WriteError> {
        let (field, item) = (field.to_owned(), item.to_owned());
        self.apply(stamp, &[Op::RemoveFromSet { card, field, item }])
    }

    /// Soft-deletes a card.
    pub fn delete_card(&mut self, stamp: &Stamp, card: CardId) -> Result<(), WriteError> {
        self.apply(stamp, &[Op::DeleteCard { card }])
    }

    /// Restores a soft-deleted card (and with it, its relationships and sequence places).
    pub fn restore_card(&mut self, stamp: &Stamp, card: CardId) -> Result<(), WriteError> {
        self.apply(stamp, &[Op::RestoreCard { card }])
    }
}
