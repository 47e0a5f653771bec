//! # cardsync-core
//!
//! The data model of cardsync on [`yrs`]: *cards* with typed fields and rich text,
//! *relationships* between cards, and ordered *sequences* of cards. Every change merges
//! with concurrent changes by construction, and documents stay readable by a stock Yjs doc
//! (`doc.getMap("cards")`, `"relationships"`, `"sequences"`).
//!
//! The core is pure Rust: no clock, no RNG, no I/O, no wasm or tokio. Ids, client ids and
//! stamps come in as arguments; that is what makes the sync layer above it testable by
//! deterministic simulation.
//!
//! ## Quick start: two replicas diverge and converge
//!
//! ```
//! use cardsync_core::{CardDoc, CardId, CardKind, FieldDef, FieldKind, Schema, SequenceId,
//!     Stamp, Value, ValueType};
//!
//! let schema = Schema::new(1).card("task", CardKind::default()
//!     .field("title", FieldDef::register(ValueType::String).required())
//!     .field("status", FieldDef::state_machine([("todo", "doing"), ("doing", "done")]))
//!     .field("votes", FieldDef::new(FieldKind::Counter)));
//! let mut alice = CardDoc::new(schema.clone(), 1)?;
//! let mut bob = CardDoc::new(schema, 2)?;
//! let (a, b) = (Stamp::new(1, "alice"), Stamp::new(1, "bob"));
//!
//! // Alice creates a card in a column and shares it.
//! let (card, column) = (CardId::from_u128(7), SequenceId::from_u128(1));
//! alice.create_card(&a, card, "task", [("title", Value::from("Ship it")), ("status", "todo".into())])?;
//! alice.create_sequence(&a, column)?;
//! alice.insert_into_sequence(&a, column, card, 0)?;
//! bob.apply_update_v1(&alice.snapshot_v1())?;
//!
//! // Both edit while apart...
//! alice.increment(&a, card, "votes", 1)?;
//! bob.increment(&b, card, "votes", 2)?;
//! bob.set_field(&b, card, "status", "doing")?;
//! assert!(bob.set_field(&b, card, "status", "todo").is_err()); // not a valid transition
//!
//! // ...then exchange what the other lacks.
//! let to_bob = alice.diff_v1(&bob.state_vector())?;
//! let to_alice = bob.diff_v1(&alice.state_vector())?;
//! bob.apply_update_v1(&to_bob)?;
//! alice.apply_update_v1(&to_alice)?;
//!
//! assert_eq!(alice.export(), bob.export());
//! assert_eq!(alice.card(card).unwrap().fields["votes"], cardsync_core::FieldValue::Counter(3));
//! assert_eq!(alice.sequence(column), Some(vec![card]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Map of the crate
//! - [`CardDoc`]: the document; reads in `read`, writes through [`Op`]s ([`CardDoc::apply`]).
//! - [`Schema`]: card kinds, field kinds ([`FieldKind`]), state machines.
//! - Relationships: [`CardDoc::link`], [`CardDoc::outgoing`], [`CardDoc::integrity_report`].
//! - Sequences: [`CardDoc::insert_into_sequence`], [`CardDoc::move_in_sequence`].
//! - Boards (a card in at most one column): [`CardDoc::create_board`],
//!   [`CardDoc::place_card`], [`CardDoc::board`], [`CardDoc::card_place`].
//! - Events: [`CardDoc::poll_changes`] hands out a [`ChangeBatch`] per transaction (after
//!   [`CardDoc::buffer_changes`]).
//! - Updates: state vectors, diffs, v1/v2, snapshots, [`merge_updates_v1`]. Every entry point
//!   that decodes bytes treats them as hostile: the [`untrusted`] firewall bounds yrs' work first.
//! - [`layout`]: the document's wire format (root names, key formats, canonical parsers), for
//!   code that reads or validates a document at the yrs level, like the sync server.
//! - [`CardDoc::export`]: a plain, comparable picture of the whole document.

/// The README's Rust quick start, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

mod board;
mod btree;
mod card_writes;
mod composite;
mod container;
mod doc;
mod error;
mod events;
mod export;
mod ids;
pub mod layout;
pub mod lib0;
mod live_query;
mod ops;
mod order_index;
pub mod order_key;
mod query;
mod read;
mod relationship;
mod schema;
mod schema_change;
mod schema_upgrade;
mod sequence;
mod splitmix;
mod text_bounds;
pub mod untrusted;
mod update;
mod validate;
mod value;
mod write;

pub use board::{BoardView, ColumnView, Place};
pub use composite::{Composite, Shape, ShapeError};
pub use doc::CardDoc;
pub use error::{OpenError, RegisterError, SchemaError, WriteError};
pub use events::{ChangeBatch, ChangeEvent, Origin};
pub use export::DocExport;
pub use ids::{
    BoardId, COMPENSATOR_CLIENT_ID, CONTAINER_CLIENT_BASE, CardId, ColumnId, IdError,
    MAX_CLIENT_ID, MAX_REPLICA_CLIENT_ID, RelationshipKey, SequenceId,
};
pub use live_query::{LiveQuery, QueryDelta};
pub use ops::{Op, Stamp};
pub use query::{OrderBy, Query, QueryError};
pub use read::{Card, FieldValue, TextRun};
pub use relationship::{DanglingEdge, DanglingReason, IntegrityReport, Relationship};
pub use schema::{BoardKind, CardKind, FieldDef, RelationshipKind, Schema};
pub use schema_change::SchemaChange;
pub use splitmix::SplitMix64;
pub use untrusted::{DecodeError, IntegrateError, concat_updates_v1};
pub use update::{decode_update_v1, decode_update_v2, merge_updates_v1, merge_updates_v2};
pub use value::{Attributes, FieldKind, Value, ValueType};
pub use write::Applied;
