//! What the board ops of a batch did so far, for validating the later ops of the same batch
//! (`board/validate.rs`). A file of its own so that the batch overlay (`validate.rs`) can hold
//! one without the two validators importing each other.

use std::collections::HashMap;

use crate::ids::{BoardId, CardId, ColumnId};

/// What the board ops validated so far in this batch changed.
#[derive(Default)]
pub(crate) struct BoardOverlay {
    /// Kinds of the boards the batch created.
    pub created: HashMap<BoardId, String>,
    /// Columns the batch added (`true`) or removed (`false`).
    pub columns: HashMap<(BoardId, ColumnId), bool>,
    /// Placements the batch made (`true`) or took away (`false`).
    pub placed: HashMap<(BoardId, CardId), bool>,
}
