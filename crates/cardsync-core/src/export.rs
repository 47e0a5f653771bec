//! A plain picture of the whole document, for comparing replicas and for JSON export.
//!
//! Everything is in a canonical order (`BTreeMap`s, sorted relationships), so two replicas
//! that converged produce equal exports, and a test can assert convergence with `==`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use yrs::Transact;

use crate::board::BoardView;
use crate::btree::map_of;
use crate::doc::CardDoc;
use crate::ids::{BoardId, CardId, SequenceId};
use crate::read::Card;
use crate::relationship::Relationship;

/// The whole document as plain data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocExport {
    /// Every card, deleted ones included (with `deleted: true`).
    pub cards: BTreeMap<CardId, Card>,
    /// Visible relationships in key order.
    pub relationships: Vec<Relationship>,
    /// Each sequence's visible order.
    pub sequences: BTreeMap<SequenceId, Vec<CardId>>,
    /// Each board's columns and their visible cards (absent from JSON when there is none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boards: BTreeMap<BoardId, BoardView>,
}

impl CardDoc {
    /// Exports the document.
    pub fn export(&self) -> DocExport {
        let ids = self.card_ids();
        let cards = {
            let txn = self.doc.transact();
            map_of(
                ids.into_iter()
                    .filter_map(|id| Some((id, self.read_card(&txn, id)?))),
            )
        };
        let sequences = map_of(
            self.sequence_ids()
                .into_iter()
                .filter_map(|id| Some((id, self.sequence(id)?))),
        );
        let boards = map_of(
            self.board_ids()
                .into_iter()
                .filter_map(|id| Some((id, self.board(id)?))),
        );
        DocExport {
            cards,
            relationships: self.relationships(),
            sequences,
            boards,
        }
    }

    /// The export as JSON text.
    pub fn export_json(&self) -> String {
        // Serializing plain maps, strings and finite numbers cannot fail.
        serde_json::to_string(&self.export()).unwrap_or_default()
    }
}
