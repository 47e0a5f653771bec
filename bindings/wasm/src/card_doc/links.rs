//! Relationships between cards and ordered sequences of cards.

use cardsync_core::{Attributes, Op, SequenceId};
use wasm_bindgen::prelude::*;

use super::CardDoc;
use crate::convert::{self, card_id, from_js_or_default, ids_to_js, sequence_id, to_js};
use crate::random;
use crate::types::{
    JsAttributes, JsIds, JsIntegrityReport, JsOptionalIds, JsOptionalRelationship, JsRelationships,
};

#[wasm_bindgen]
impl CardDoc {
    /// Links `from` to `to` with a relationship kind and sets `properties`. Linking the same
    /// edge twice (here or concurrently elsewhere) yields one edge.
    pub fn link(
        &self,
        from: &str,
        kind: &str,
        to: &str,
        properties: Option<JsAttributes>,
    ) -> Result<(), JsValue> {
        let (from, to) = (card_id(from)?, card_id(to)?);
        let properties: Attributes = from_js_or_default(
            properties.map(JsValue::from).unwrap_or_default(),
            "properties",
        )?;
        let kind = kind.to_owned();
        self.write_ops(vec![Op::Link {
            from,
            kind,
            to,
            properties,
        }])
    }

    /// Removes a relationship.
    pub fn unlink(&self, from: &str, kind: &str, to: &str) -> Result<(), JsValue> {
        let (from, to) = (card_id(from)?, card_id(to)?);
        let kind = kind.to_owned();
        self.write_ops(vec![Op::Unlink { from, kind, to }])
    }

    /// The relationship, if it is linked and both of its cards are visible.
    pub fn relationship(
        &self,
        from: &str,
        kind: &str,
        to: &str,
    ) -> Result<JsOptionalRelationship, JsValue> {
        let found = self
            .read()?
            .relationship(card_id(from)?, kind, card_id(to)?);
        Ok(to_js(&found)?.unchecked_into())
    }

    /// Visible relationships from a card, in key order.
    pub fn outgoing(&self, card: &str) -> Result<JsRelationships, JsValue> {
        let found = self.read()?.outgoing(card_id(card)?);
        Ok(to_js(&found)?.unchecked_into())
    }

    /// Visible relationships to a card, in key order.
    pub fn incoming(&self, card: &str) -> Result<JsRelationships, JsValue> {
        let found = self.read()?.incoming(card_id(card)?);
        Ok(to_js(&found)?.unchecked_into())
    }

    /// Every visible relationship, in key order.
    pub fn relationships(&self) -> Result<JsRelationships, JsValue> {
        let found = self.read()?.relationships();
        Ok(to_js(&found)?.unchecked_into())
    }

    /// Linked relationships hidden because an endpoint card is missing or deleted.
    #[wasm_bindgen(js_name = integrityReport)]
    pub fn integrity_report(&self) -> Result<JsIntegrityReport, JsValue> {
        let report = self.read()?.integrity_report();
        Ok(to_js(&report)?.unchecked_into())
    }

    /// Creates an empty sequence and returns its id: `id` if given, else a fresh random one.
    #[wasm_bindgen(js_name = createSequence)]
    pub fn create_sequence(&self, id: Option<String>) -> Result<String, JsValue> {
        let sequence = match id {
            Some(id) => sequence_id(&id)?,
            None => SequenceId::from_bytes(random::id_bytes()?),
        };
        self.write_ops(vec![Op::CreateSequence { sequence }])?;
        Ok(sequence.to_string())
    }

    /// Inserts a card at a visible index of a sequence (past the end appends).
    #[wasm_bindgen(js_name = insertIntoSequence)]
    pub fn insert_into_sequence(
        &self,
        sequence: &str,
        card: &str,
        index: f64,
    ) -> Result<(), JsValue> {
        let (sequence, card, at) = (
            sequence_id(sequence)?,
            card_id(card)?,
            convert::index(index, "index")?,
        );
        self.write_ops(vec![Op::InsertIntoSequence {
            sequence,
            card,
            index: at,
        }])
    }

    /// Moves a card to a visible index, counted without the card itself. Concurrent moves of
    /// one card leave it in exactly one place.
    #[wasm_bindgen(js_name = moveInSequence)]
    pub fn move_in_sequence(&self, sequence: &str, card: &str, index: f64) -> Result<(), JsValue> {
        let (sequence, card, at) = (
            sequence_id(sequence)?,
            card_id(card)?,
            convert::index(index, "index")?,
        );
        self.write_ops(vec![Op::MoveInSequence {
            sequence,
            card,
            index: at,
        }])
    }

    /// Takes a card out of a sequence.
    #[wasm_bindgen(js_name = removeFromSequence)]
    pub fn remove_from_sequence(&self, sequence: &str, card: &str) -> Result<(), JsValue> {
        let (sequence, card) = (sequence_id(sequence)?, card_id(card)?);
        self.write_ops(vec![Op::RemoveFromSequence { sequence, card }])
    }

    /// The visible card ids of a sequence in order, or `undefined` if there is no such sequence.
    pub fn sequence(&self, sequence: &str) -> Result<JsOptionalIds, JsValue> {
        let order = self.read()?.sequence(sequence_id(sequence)?);
        Ok(match order {
            Some(ids) => ids_to_js(&ids).unchecked_into(),
            None => JsValue::UNDEFINED.unchecked_into(),
        })
    }

    /// Every sequence id, in order.
    #[wasm_bindgen(js_name = sequenceIds)]
    pub fn sequence_ids(&self) -> Result<JsIds, JsValue> {
        Ok(ids_to_js(&self.read()?.sequence_ids()).unchecked_into())
    }
}
