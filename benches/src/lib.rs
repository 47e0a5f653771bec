//! Side-by-side benchmarks of cardsync against raw yrs, automerge and loro.
//!
//! `cargo xtask bench` runs the `cardsync-bench` binary, which drives the workloads K1–K8
//! ([`workloads`]) through one [`adapter::Peer`] trait implemented for each library
//! ([`peers`]), times them ([`measure`]) and writes one table ([`report`]). The criterion
//! targets in `benches/` time single operations more finely.
//!
//! This file holds what every workload shares: the *same* card, the same ids and the same
//! seeded random choices, and the raw-yrs layout that stores exactly what cardsync stores
//! (docs/design.md §3 layout).
//!
//! Rules every workload follows, because they are what a real user pays:
//! - one transaction per user action: creating a card with all its fields is one
//!   [`CardDoc::apply`]; a move or an unlink is one convenience call;
//! - ids look random (128-bit, spread over the whole range), as client-generated ids are;
//! - randomness comes from [`Rng`], seeded, so runs are comparable.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

pub mod adapter;
pub mod error;
pub mod machine;
pub mod measure;
pub mod peers;
pub mod report;
pub mod trace;
pub mod workloads;

use cardsync_core::{
    BoardId, BoardKind, CardDoc, CardId, CardKind, ColumnId, FieldDef, FieldKind, Op,
    RelationshipKind, Schema, SequenceId, Stamp, Value, ValueType,
};
use yrs::{Any, In, Map, MapPrelim, Number, TextPrelim, Transact};

/// The card kind every workload creates.
pub const KIND: &str = "task";
/// The relationship kind of [`link_cards`].
pub const LINK_KIND: &str = "relates";
/// Characters in each card's body text.
pub const BODY_CHARS: usize = 500;
/// The board kind of the board workload (K4's cross-column moves).
pub const BOARD_KIND: &str = "kanban";
/// Columns of the benchmark board.
pub const BOARD_COLUMNS: usize = 4;
/// Client id of the replica that writes the workloads.
pub const WRITER: u64 = 1;

/// The workspace's seeded generator (SplitMix64), to pick cards and positions.
pub type Rng = cardsync_core::SplitMix64;

/// The schema: one card kind with the eight fields of the benchmark card, one relationship kind.
pub fn schema() -> Arc<Schema> {
    let task = CardKind::default()
        .field("title", FieldDef::register(ValueType::String).required())
        .field(
            "status",
            FieldDef::state_machine([("todo", "doing"), ("doing", "done"), ("done", "todo")]),
        )
        .field("priority", FieldDef::register(ValueType::Number))
        .field("done", FieldDef::register(ValueType::Bool))
        .field("body", FieldDef::new(FieldKind::Text))
        .field("votes", FieldDef::new(FieldKind::Counter))
        .field("progress", FieldDef::new(FieldKind::Max))
        .field("tags", FieldDef::new(FieldKind::Set));
    Arc::new(
        Schema::new(1)
            .card(KIND, task)
            .relationship(LINK_KIND, RelationshipKind::default())
            .board(BOARD_KIND, BoardKind::default()),
    )
}

/// An empty document for the writer replica.
pub fn empty_doc() -> CardDoc {
    CardDoc::with_schema(schema(), WRITER).expect("the bench schema is valid")
}

/// The stamp of the `i`-th action.
pub fn stamp(i: usize) -> Stamp {
    Stamp::new(1_700_000_000_000 + i as u64, "bench-user")
}

/// The id of the `i`-th card: random-looking, as client-generated ids are.
pub fn card_id(i: usize) -> CardId {
    let mut rng = Rng::new(i as u64);
    CardId::from_u128((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
}

/// The sequence the sequence workloads use.
pub fn sequence_id() -> SequenceId {
    SequenceId::from_u128(0x5e9)
}

/// The board the board workload uses.
pub fn board_id() -> BoardId {
    BoardId::from_u128(0xb0a7d)
}

/// Column `c` of [`board_id`].
pub fn column_id(c: usize) -> ColumnId {
    ColumnId::from_u128(0xc01 + c as u128)
}

/// The 500-character body of the `i`-th card (plain ASCII, varied per card). A slice of one
/// shared string, so building the input costs next to nothing inside a timed loop.
pub fn body(i: usize) -> &'static str {
    const WORDS: &str = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod \
                         tempor incididunt ut labore et dolore magna aliqua ";
    static TEXT: LazyLock<String> = LazyLock::new(|| {
        WORDS
            .chars()
            .cycle()
            .take(WORDS.len() + BODY_CHARS)
            .collect()
    });
    let start = i % WORDS.len();
    &TEXT[start..start + BODY_CHARS]
}

/// The ops creating the `i`-th card with all eight fields set: four registers (string,
/// state machine, number, bool), a 500-char text, a counter at 1, a max at 0.5 and a set of
/// two tags. Applied together they are one user action, one transaction.
pub fn create_card_ops(i: usize) -> Vec<Op> {
    let card = card_id(i);
    let fields = [
        ("title", Value::from(format!("Card {i}"))),
        ("status", Value::from("todo")),
        ("priority", Value::from((i % 5) as f64)),
        ("done", Value::from(false)),
        ("body", Value::from(body(i))),
    ];
    vec![
        Op::CreateCard {
            card,
            kind: KIND.to_owned(),
            fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        },
        Op::Increment {
            card,
            field: "votes".to_owned(),
            by: 1,
        },
        Op::RaiseMax {
            card,
            field: "progress".to_owned(),
            value: 0.5,
        },
        Op::AddToSet {
            card,
            field: "tags".to_owned(),
            item: "backend".to_owned(),
        },
        Op::AddToSet {
            card,
            field: "tags".to_owned(),
            item: format!("team-{}", i % 7),
        },
    ]
}

/// Creates cards `0..n` in `doc`, one transaction per card.
pub fn create_cards(doc: &mut CardDoc, n: usize) {
    for i in 0..n {
        doc.apply(&stamp(i), &create_card_ops(i))
            .expect("a valid card");
    }
}

/// A document holding cards `0..n`.
pub fn doc_with_cards(n: usize) -> CardDoc {
    let mut doc = empty_doc();
    create_cards(&mut doc, n);
    doc
}

/// A document holding cards `0..n`, all appended to [`sequence_id`] in creation order (one
/// transaction per insert).
pub fn doc_with_sequence(n: usize) -> CardDoc {
    let mut doc = doc_with_cards(n);
    let seq = sequence_id();
    doc.create_sequence(&stamp(n), seq).expect("a new sequence");
    for i in 0..n {
        doc.insert_into_sequence(&stamp(n + i), seq, card_id(i), u32::MAX)
            .expect("a card not yet in the sequence");
    }
    doc
}

/// The `per_card` targets of card `i` among `n` cards: fixed strides, so every card has
/// `per_card` outgoing and `per_card` incoming edges (distinct while `n` exceeds the largest
/// stride used).
pub fn link_targets(i: usize, n: usize, per_card: usize) -> impl Iterator<Item = usize> {
    const STRIDES: [usize; 8] = [1, 7, 31, 127, 1009, 2003, 4001, 4999];
    assert!(per_card <= STRIDES.len() && n > STRIDES[per_card - 1]);
    STRIDES[..per_card].iter().map(move |s| (i + s) % n)
}

/// Links every card `i < n` to its [`link_targets`], one transaction per link.
pub fn link_cards(doc: &mut CardDoc, n: usize, per_card: usize) {
    for i in 0..n {
        for t in link_targets(i, n, per_card) {
            doc.link(
                &stamp(i),
                card_id(i),
                LINK_KIND,
                card_id(t),
                Default::default(),
            )
            .expect("a valid link");
        }
    }
}

/// Every edge of [`link_cards`] as `(from, to)` card ids.
pub fn edges(n: usize, per_card: usize) -> Vec<(CardId, CardId)> {
    (0..n)
        .flat_map(|i| link_targets(i, n, per_card).map(move |t| (card_id(i), card_id(t))))
        .collect()
}

/// Shuffles in place (Fisher–Yates with `rng`).
pub fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// The raw-yrs baseline: the same card with the same layout written straight into a
/// `yrs::Doc`, one transaction per card. It skips only what cardsync adds on top of yrs:
/// validation, the derived indexes, change events and the undo stack.
pub mod raw {
    use super::*;

    fn stamp_any(i: usize) -> Any {
        let stamp = stamp(i);
        Any::from(HashMap::from([
            (
                "at".to_owned(),
                Any::Number(Number::try_i64(stamp.at as f64)),
            ),
            ("by".to_owned(), Any::from(stamp.by)),
        ]))
    }

    /// A fresh yrs document for the writer replica, with the `cards` and `meta` roots.
    pub fn empty_doc() -> yrs::Doc {
        let mut options =
            yrs::Options::with_guid_and_client_id("raw".into(), yrs::block::ClientID::new(WRITER));
        options.offset_kind = yrs::OffsetKind::Utf16;
        yrs::Doc::with_options(options)
    }

    /// Writes the `i`-th card in one transaction: bookkeeping keys, four registers, a Y.Text
    /// body and three nested Y.Maps (counter, max, set) with their entries.
    pub fn create_card(doc: &yrs::Doc, cards: &yrs::MapRef, i: usize) {
        let mut txn = doc.transact_mut();
        cards.insert(&mut txn, card_id(i).to_string(), card_prelim(i, WRITER));
    }

    /// The `i`-th card as yrs builds it inside a transaction, its counter and max entries
    /// keyed by `client` as cardsync keys them.
    pub fn card_prelim(i: usize, client: u64) -> MapPrelim {
        let client = client.to_string();
        let entries = |pairs: Vec<(String, Any)>| {
            In::Map(MapPrelim::from_iter(
                pairs.into_iter().map(|(k, v)| (k, In::Any(v))),
            ))
        };
        MapPrelim::from_iter([
            ("$kind".to_owned(), In::from(KIND)),
            ("$created".to_owned(), In::Any(stamp_any(i))),
            ("$modified".to_owned(), In::Any(stamp_any(i))),
            ("title".to_owned(), In::from(format!("Card {i}"))),
            ("status".to_owned(), In::from("todo")),
            (
                "priority".to_owned(),
                In::Any(Any::Number(Number::try_i64((i % 5) as f64))),
            ),
            ("done".to_owned(), In::Any(Any::Bool(false))),
            ("body".to_owned(), In::Text(TextPrelim::new(body(i)).into())),
            (
                "votes".to_owned(),
                entries(vec![(client.clone(), 1.into())]),
            ),
            (
                "progress".to_owned(),
                entries(vec![(client.clone(), 0.5.into())]),
            ),
            (
                "tags".to_owned(),
                entries(vec![
                    (format!("backend@{client}"), true.into()),
                    (format!("team-{}@{client}", i % 7), true.into()),
                ]),
            ),
        ])
    }

    /// A yrs document holding cards `0..n`, one transaction per card.
    pub fn doc_with_cards(n: usize) -> yrs::Doc {
        let doc = empty_doc();
        let cards = doc.get_or_insert_map("cards");
        let meta = doc.get_or_insert_map("meta");
        {
            let mut txn = doc.transact_mut();
            meta.insert(&mut txn, "schema_version", 1);
            // The record of the schema a replica writes under, as cardsync keeps it
            // (docs/design.md §3), so the twin holds the same content.
            let schema = schema();
            let json = serde_json::to_string(&*schema).unwrap_or_default();
            meta.insert(
                &mut txn,
                cardsync_core::layout::schema_key(schema.version),
                json,
            );
        }
        for i in 0..n {
            create_card(&doc, &cards, i);
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cardsync_core::FieldValue;
    use yrs::ReadTxn;

    #[test]
    fn the_card_has_all_eight_fields_and_the_raw_twin_matches_in_size() {
        let doc = doc_with_cards(3);
        let card = doc.card(card_id(1)).expect("created");
        assert_eq!(card.fields.len(), 8, "{card:?}");
        assert_eq!(card.fields["votes"], FieldValue::Counter(1));
        assert_eq!(body(1).len(), BODY_CHARS);
        assert_ne!(body(1), body(2));

        let raw = raw::doc_with_cards(3);
        let raw_len = raw
            .transact()
            .encode_state_as_update_v1(&Default::default())
            .len();
        let ours = doc.snapshot_v1().len();
        // Same content, so the same size give or take a few bytes: the twin's `MapPrelim`
        // inserts a card's keys in hash-map order, which moves clocks across varint boundaries
        // from run to run, and cardsync's schema record is a fixed item of a client of its own
        // (an 8-byte client id and a parent reference more than the twin's entry), 3,187 bytes
        // against the twin's 3,168..=3,172 for three cards. A twin without even its smallest
        // field, `done`, is 34..=41 bytes short.
        assert!(ours.abs_diff(raw_len) <= 24, "{ours} vs {raw_len}");
    }

    #[test]
    fn sequences_and_links_build() {
        let doc = doc_with_sequence(20);
        assert_eq!(doc.sequence(sequence_id()).map(|s| s.len()), Some(20));
        let mut doc = doc_with_cards(1010);
        link_cards(&mut doc, 1010, 5);
        assert_eq!(doc.outgoing(card_id(0)).len(), 5);
        assert_eq!(doc.incoming(card_id(0)).len(), 5);
        assert_eq!(edges(1010, 5).len(), 5050);
    }
}
