//! Cards and their fields: create, read, every field kind, delete and restore, batches of ops.

use cardsync_core::{Attributes, CardId, Op};
use wasm_bindgen::prelude::*;

use super::CardDoc;
use crate::convert::{self, card_id, from_js, safe_integer, to_js};
use crate::random;
use crate::types::{JsAttributes, JsCards, JsOps, JsOptionalCard, JsTextRuns, JsValueType};

#[wasm_bindgen]
impl CardDoc {
    /// Creates a card of a schema kind with initial register values and text, and returns
    /// its id: `id` if given (26 base32 characters), else a fresh random one.
    #[wasm_bindgen(js_name = createCard)]
    pub fn create_card(
        &self,
        kind: String,
        fields: Option<JsAttributes>,
        id: Option<String>,
    ) -> Result<String, JsValue> {
        let fields = convert::attributes(fields.map(JsValue::from).unwrap_or_default(), "fields")?;
        let card = match id {
            Some(id) => card_id(&id)?,
            None => CardId::from_bytes(random::id_bytes()?),
        };
        let op = Op::CreateCard { card, kind, fields };
        self.write_ops(vec![op])?;
        Ok(card.to_string())
    }

    /// A card, deleted or not, or `undefined` if it does not exist here.
    pub fn card(&self, id: &str) -> Result<JsOptionalCard, JsValue> {
        let card = self.read()?.card(card_id(id)?);
        Ok(to_js(&card)?.unchecked_into())
    }

    /// Cards that are not deleted, optionally only of one kind, in id order.
    pub fn cards(&self, kind: Option<String>) -> Result<JsCards, JsValue> {
        let cards = self.read()?.cards(kind.as_deref());
        Ok(to_js(&cards)?.unchecked_into())
    }

    /// Whether a card exists here and is not deleted.
    #[wasm_bindgen(js_name = isVisible)]
    pub fn is_visible(&self, id: &str) -> Result<bool, JsValue> {
        Ok(self.read()?.is_visible(card_id(id)?))
    }

    /// Sets a register field (`null` clears it).
    #[wasm_bindgen(js_name = setField)]
    pub fn set_field(&self, card: &str, field: &str, value: JsValueType) -> Result<(), JsValue> {
        let (card, value) = (card_id(card)?, convert::value(value.into())?);
        let field = field.to_owned();
        self.write_ops(vec![Op::SetField { card, field, value }])
    }

    /// Inserts text into a text field at a UTF-16 index, optionally formatted.
    #[wasm_bindgen(js_name = insertText)]
    pub fn insert_text(
        &self,
        card: &str,
        field: String,
        index: f64,
        text: String,
        attributes: Option<JsAttributes>,
    ) -> Result<(), JsValue> {
        let op = Op::InsertText {
            card: card_id(card)?,
            field,
            index: convert::index(index, "index")?,
            text,
            attributes: convert::attributes(
                attributes.map(JsValue::from).unwrap_or_default(),
                "attributes",
            )?,
        };
        self.write_ops(vec![op])
    }

    /// Deletes `len` UTF-16 units of a text field at `index`.
    #[wasm_bindgen(js_name = deleteText)]
    pub fn delete_text(
        &self,
        card: &str,
        field: &str,
        index: f64,
        len: f64,
    ) -> Result<(), JsValue> {
        let (card, at, len) = (
            card_id(card)?,
            convert::index(index, "index")?,
            convert::index(len, "len")?,
        );
        let field = field.to_owned();
        self.write_ops(vec![Op::DeleteText {
            card,
            field,
            index: at,
            len,
        }])
    }

    /// Formats a range of a text field (`null` removes an attribute).
    #[wasm_bindgen(js_name = formatText)]
    pub fn format_text(
        &self,
        card: &str,
        field: &str,
        index: f64,
        len: f64,
        attributes: JsAttributes,
    ) -> Result<(), JsValue> {
        let (card, at, len) = (
            card_id(card)?,
            convert::index(index, "index")?,
            convert::index(len, "len")?,
        );
        let attributes: Attributes = from_js(attributes.into(), "attributes")?;
        let field = field.to_owned();
        self.write_ops(vec![Op::FormatText {
            card,
            field,
            index: at,
            len,
            attributes,
        }])
    }

    /// A text field as runs of equally formatted text.
    #[wasm_bindgen(js_name = textRuns)]
    pub fn text_runs(&self, card: &str, field: &str) -> Result<JsTextRuns, JsValue> {
        let runs = self.read()?.text_runs(card_id(card)?, field);
        Ok(to_js(&runs)?.unchecked_into())
    }

    /// Adds `by` (a safe integer, negative to subtract) to a counter field.
    pub fn increment(&self, card: &str, field: &str, by: f64) -> Result<(), JsValue> {
        let (card, by) = (card_id(card)?, safe_integer(by, "by")?);
        let field = field.to_owned();
        self.write_ops(vec![Op::Increment { card, field, by }])
    }

    /// Raises a max field to at least `value`.
    #[wasm_bindgen(js_name = raiseMax)]
    pub fn raise_max(&self, card: &str, field: &str, value: f64) -> Result<(), JsValue> {
        let card = card_id(card)?;
        let field = field.to_owned();
        self.write_ops(vec![Op::RaiseMax { card, field, value }])
    }

    /// Adds an item to a set field.
    #[wasm_bindgen(js_name = addToSet)]
    pub fn add_to_set(&self, card: &str, field: &str, item: &str) -> Result<(), JsValue> {
        let card = card_id(card)?;
        let (field, item) = (field.to_owned(), item.to_owned());
        self.write_ops(vec![Op::AddToSet { card, field, item }])
    }

    /// Removes an item from a set field (a concurrent add elsewhere wins).
    #[wasm_bindgen(js_name = removeFromSet)]
    pub fn remove_from_set(&self, card: &str, field: &str, item: &str) -> Result<(), JsValue> {
        let card = card_id(card)?;
        let (field, item) = (field.to_owned(), item.to_owned());
        self.write_ops(vec![Op::RemoveFromSet { card, field, item }])
    }

    /// Soft-deletes a card: it, its relationships and its sequence places vanish from reads
    /// until it is restored.
    #[wasm_bindgen(js_name = deleteCard)]
    pub fn delete_card(&self, card: &str) -> Result<(), JsValue> {
        let card = card_id(card)?;
        self.write_ops(vec![Op::DeleteCard { card }])
    }

    /// Restores a soft-deleted card.
    #[wasm_bindgen(js_name = restoreCard)]
    pub fn restore_card(&self, card: &str) -> Result<(), JsValue> {
        let card = card_id(card)?;
        self.write_ops(vec![Op::RestoreCard { card }])
    }

    /// Applies many ops as one transaction: one undo step, one event batch, all or nothing.
    /// The fast path for bulk changes.
    pub fn apply(&self, ops: JsOps) -> Result<(), JsValue> {
        let ops: Vec<Op> = from_js(ops.into(), "ops")?;
        self.write_ops(ops)
    }
}
