//! The TypeScript shapes of the plain JS objects that cross the boundary.
//!
//! They mirror the core's serde types (`Schema`, `Card`, `Op`, `ChangeBatch`, …) field for
//! field, and go into the generated `.d.ts` verbatim, so the public API has no `any`. The
//! extern types below only give Rust signatures those TypeScript names; at run time they are
//! plain `JsValue`s converted in `convert`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/**
 * A register value, text attribute or relationship property. Numbers must be finite. Arrays
 * and objects only in a composite register (`FieldDef.composite`), written and merged whole.
 */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** Named values: initial register values, text formatting, relationship properties. */
export type Attributes = { [name: string]: Value };

/**
 * How a field merges concurrent writes. `time_ordered`: a register where the write with the
 * latest stamp wins (ties: the higher replica id), whatever order writes arrive in.
 */
export type FieldKind = "register" | "text" | "counter" | "max" | "set" | "time_ordered";

/** The shape of a composite register's value. */
export type Shape =
  | { type: "number"; min?: number; max?: number }
  | { type: "string"; max_len?: number }
  | { type: "bool" }
  | { type: "object"; fields: { [key: string]: Shape }; optional?: string[] }
  | { type: "array"; items: Shape; max_items?: number };

/** A composite register's shape and limits (defaults: depth 4, 4096 bytes of JSON, 64 keys). */
export interface Composite {
  shape: Shape;
  max_depth?: number;
  max_bytes?: number;
  max_keys?: number;
}

/** A board kind: the card kinds its boards may hold (empty or absent: any kind). */
export interface BoardKind {
  cards?: string[];
}

/** A board as read at one moment: live columns in order with their visible cards. */
export interface BoardView {
  kind: string;
  columns: ColumnView[];
  /** Cards placed on a board that has no live column. */
  unplaced?: string[];
}

/** One column of a `BoardView`. */
export interface ColumnView {
  id: string;
  name: string;
  cards: string[];
}

/** Where a card shows on a board. */
export interface Place {
  column: string;
  index: number;
}

/** The type a register accepts. */
export type ValueType = "any" | "string" | "number" | "bool";

/** One field of a card kind. */
export interface FieldDef {
  /** The merge policy. */
  kind: FieldKind;
  /** For registers: the accepted value type (default `"any"`). */
  value_type?: ValueType;
  /** For registers: the card cannot be created without it, nor the value cleared. */
  required?: boolean;
  /** For string registers: a state machine; keys are states, values the states each may move to. */
  transitions?: { [state: string]: string[] };
  /** For registers: a composite value of this shape, written and merged whole. */
  composite?: Composite;
}

/** A card kind: the fields its cards may hold. */
export interface CardKind {
  /** Fields by name. */
  fields: { [name: string]: FieldDef };
}

/** A relationship kind and the card kinds its endpoints may have (empty or absent: any kind). */
export interface RelationshipKind {
  /** Allowed kinds of the `from` card. */
  from?: string[];
  /** Allowed kinds of the `to` card. */
  to?: string[];
}

/** The schema: card kinds, their fields, relationship kinds. The same JSON the server validates with. */
export interface Schema {
  /** Written to the document's `meta.schema_version`. */
  version: number;
  /** Card kinds by name. */
  cards?: { [kind: string]: CardKind };
  /** Relationship kinds by name. */
  relationships?: { [kind: string]: RelationshipKind };
  /** Board kinds by name. */
  boards?: { [kind: string]: BoardKind };
}

/** Who changed something and when (`at`: milliseconds since the epoch). */
export interface Stamp {
  at: number;
  by: string;
}

/**
 * A field's current value: a register's `Value`, a text field's plain text, a counter's sum,
 * a max field's maximum (`null` until first raised), or a set's items (sorted).
 */
export type FieldValue = Value | string[];

/** A card as read at one moment: a plain snapshot, not a live handle. */
export interface Card {
  id: string;
  kind: string;
  deleted: boolean;
  created: Stamp | null;
  /**
   * The last writer, and when its burst of writes began: a write by the same actor within
   * a second (in the stamps' unit, ms) of the stored stamp leaves it, so typing stays compact.
   */
  modified: Stamp | null;
  /** Fields the schema declares for the kind; registers never set are absent. */
  fields: { [name: string]: FieldValue };
}

/** A run of text with one set of formatting attributes. */
export interface TextRun {
  text: string;
  /** Absent when the run is plain. */
  attributes?: Attributes;
}

/** A visible relationship. */
export interface Relationship {
  from: string;
  kind: string;
  to: string;
  properties: Attributes;
}

/** Why a relationship is hidden: its endpoint card is missing or soft-deleted. */
export type DanglingReason = "missing" | "deleted";

/** A relationship hidden because of an endpoint. `key` is `"{from}:{kind}:{to}"`. */
export interface DanglingEdge {
  key: string;
  from: DanglingReason | null;
  to: DanglingReason | null;
}

/** What the integrity check found. */
export interface IntegrityReport {
  dangling: DanglingEdge[];
}

/** The whole document as plain data; two converged replicas export deep-equal objects. */
export interface DocExport {
  /** Every card by id, deleted ones included. */
  cards: { [id: string]: Card };
  /** Visible relationships in key order. */
  relationships: Relationship[];
  /** Each sequence's visible order of card ids. */
  sequences: { [id: string]: string[] };
  /** Each board's columns and visible cards (absent when there is none). */
  boards?: { [id: string]: BoardView };
}

/** Where a transaction came from. */
export type Origin = "local" | "remote" | "rollback" | "undo";

/** What changed. Relationship `key`s are `"{from}:{kind}:{to}"`. */
export type ChangeEvent =
  | { type: "card_created"; card: string; kind: string }
  | { type: "field_changed"; card: string; field: string }
  | { type: "card_deleted"; card: string }
  | { type: "card_restored"; card: string }
  | { type: "relationship_added"; key: string }
  | { type: "relationship_removed"; key: string }
  | { type: "relationship_changed"; key: string }
  | { type: "sequence_changed"; sequence: string }
  | { type: "board_changed"; board: string };

/** The events of one transaction. */
export interface ChangeBatch {
  origin: Origin;
  events: ChangeEvent[];
}

/**
 * One card operation, as `CardDoc.apply` takes them and the outbox stores them. Text indexes
 * and lengths count UTF-16 code units, like JavaScript strings.
 */
export type Op =
  | { op: "create_card"; card: string; kind: string; fields?: Attributes }
  | { op: "set_field"; card: string; field: string; value: Value }
  | { op: "insert_text"; card: string; field: string; index: number; text: string; attributes?: Attributes }
  | { op: "delete_text"; card: string; field: string; index: number; len: number }
  | { op: "format_text"; card: string; field: string; index: number; len: number; attributes: Attributes }
  | { op: "increment"; card: string; field: string; by: number }
  | { op: "raise_max"; card: string; field: string; value: number }
  | { op: "add_to_set"; card: string; field: string; item: string }
  | { op: "remove_from_set"; card: string; field: string; item: string }
  | { op: "delete_card"; card: string }
  | { op: "restore_card"; card: string }
  | { op: "link"; from: string; kind: string; to: string; properties?: Attributes }
  | { op: "unlink"; from: string; kind: string; to: string }
  | { op: "create_sequence"; sequence: string }
  | { op: "insert_into_sequence"; sequence: string; card: string; index: number }
  | { op: "move_in_sequence"; sequence: string; card: string; index: number }
  | { op: "remove_from_sequence"; sequence: string; card: string }
  | { op: "create_board"; board: string; kind: string }
  | { op: "add_column"; board: string; column: string; name: string; index: number }
  | { op: "rename_column"; board: string; column: string; name: string }
  | { op: "move_column"; board: string; column: string; index: number }
  | { op: "remove_column"; board: string; column: string }
  | { op: "place_card"; board: string; card: string; column: string; index: number }
  | { op: "unplace_card"; board: string; card: string };

/** Options of a new or loaded document. */
export interface DocOptions {
  /**
   * This replica's yrs client id: unique per replica *and* session, at most 2^53 - 1.
   * Default: drawn from `crypto.getRandomValues`. Never reuse one across tabs or sessions.
   */
  clientId?: number;
  /** The actor (user) written into `created`/`modified` stamps. Default `""`. */
  actor?: string;
  /** Keep a local undo history (default `true`). */
  undo?: boolean;
}

/**
 * The stable `code` of a `CardsyncError`:
 * - `decode_error`: bytes (an update, a state vector, a snapshot) are malformed;
 * - `unknown_card`, `card_exists`, `card_deleted`, `card_not_deleted`: the card is not in the
 *   state the write needs;
 * - `schema_violation`: unknown kind or field, wrong field kind or value type, missing required field;
 * - `invalid_transition`: the field's state machine does not allow the move;
 * - `out_of_range`: a text range, sequence index or counter beyond its bounds;
 * - `unknown_relationship`, `unknown_sequence`, `sequence_exists`, `already_in_sequence`,
 *   `not_in_sequence`: relationships and sequences likewise;
 * - `unknown_board`, `board_exists`, `unknown_column`, `column_exists`, `not_on_board`: boards
 *   likewise (a card kind the board kind does not allow is a `schema_violation`);
 * - `bad_shape`: a composite value does not fit its declared shape or limits;
 * - `invalid_argument`, `invalid_id`, `invalid_schema`, `invalid_client_id`: a malformed argument;
 * - `unsafe_schema_change`: the schema cannot replace the one the document records (a field
 *   removed or changed kind, a state removed...): opening it would strand data;
 * - `reentrant_call`: the document was used while one of its calls was running.
 */
export type ErrorCode =
  | "decode_error"
  | "unknown_card"
  | "card_exists"
  | "card_deleted"
  | "card_not_deleted"
  | "schema_violation"
  | "invalid_transition"
  | "out_of_range"
  | "unknown_relationship"
  | "unknown_sequence"
  | "sequence_exists"
  | "already_in_sequence"
  | "not_in_sequence"
  | "unknown_board"
  | "board_exists"
  | "unknown_column"
  | "column_exists"
  | "not_on_board"
  | "bad_shape"
  | "invalid_argument"
  | "invalid_id"
  | "invalid_schema"
  | "invalid_client_id"
  | "unsafe_schema_change"
  | "reentrant_call"
  | "synced_doc"
  | "outbox_full"
  | "store_corrupt";

/** A listener of `CardDoc.subscribe`. */
export type ChangeListener = (batch: ChangeBatch) => void;

/** Stops a subscription; calling it again does nothing. */
export type Unsubscribe = () => void;
"#;

#[wasm_bindgen]
extern "C" {
    /// `Schema` in TypeScript.
    #[wasm_bindgen(typescript_type = "Schema")]
    pub type JsSchema;
    /// `DocOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "DocOptions")]
    pub type JsDocOptions;
    /// `Attributes` in TypeScript.
    #[wasm_bindgen(typescript_type = "Attributes")]
    pub type JsAttributes;
    /// `Value` in TypeScript.
    #[wasm_bindgen(typescript_type = "Value")]
    pub type JsValueType;
    /// `Card | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "Card | undefined")]
    pub type JsOptionalCard;
    /// `Card[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "Card[]")]
    pub type JsCards;
    /// `TextRun[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "TextRun[]")]
    pub type JsTextRuns;
    /// `Relationship | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "Relationship | undefined")]
    pub type JsOptionalRelationship;
    /// `Relationship[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "Relationship[]")]
    pub type JsRelationships;
    /// `IntegrityReport` in TypeScript.
    #[wasm_bindgen(typescript_type = "IntegrityReport")]
    pub type JsIntegrityReport;
    /// `string[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type JsIds;
    /// `string[] | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "string[] | undefined")]
    pub type JsOptionalIds;
    /// `DocExport` in TypeScript.
    #[wasm_bindgen(typescript_type = "DocExport")]
    pub type JsDocExport;
    /// `Op[]` in TypeScript.
    #[wasm_bindgen(typescript_type = "Op[]")]
    pub type JsOps;
    /// `BoardView | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "BoardView | undefined")]
    pub type JsOptionalBoard;
    /// `Place | undefined` in TypeScript.
    #[wasm_bindgen(typescript_type = "Place | undefined")]
    pub type JsOptionalPlace;
    /// `ChangeListener` in TypeScript.
    #[wasm_bindgen(typescript_type = "ChangeListener")]
    pub type JsChangeListener;
    /// `Unsubscribe` in TypeScript.
    #[wasm_bindgen(typescript_type = "Unsubscribe")]
    pub type JsUnsubscribe;
}
