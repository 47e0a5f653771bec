//! The real documents and updates the inputs are derived from, and the checks every accepted
//! input must pass (reads, snapshots that reload and read the same).

use std::sync::Arc;

use cardsync_core::{
    Attributes, CardDoc, CardId, DecodeError, Op, OpenError, Schema, SequenceId, Stamp, Value,
    merge_updates_v1, merge_updates_v2,
};

use super::inputs::{Rng, bit_flips, hex, random, random_short_varints, structural, truncations};

pub(crate) fn schema() -> Schema {
    cardsync_tests::board_schema()
}

pub(crate) fn card(n: u128) -> CardId {
    CardId::from_u128(n)
}

pub(crate) const SEQ: SequenceId = SequenceId::from_u128(0x5e0);

/// Real updates: a base document of two replicas, and a later change the base lacks.
pub(crate) struct Corpus {
    pub(crate) schema: Arc<Schema>,
    pub(crate) base_v1: Vec<u8>,
    pub(crate) base_v2: Vec<u8>,
    /// A small update on top of the base: a new card, a text edit, a move, a counter bump.
    pub(crate) next_v1: Vec<u8>,
    pub(crate) next_v2: Vec<u8>,
    /// The state vector of the base (two clients).
    pub(crate) state_vector: Vec<u8>,
    /// What loading the base and applying the next update reads as.
    pub(crate) expected: cardsync_core::DocExport,
}

pub(crate) fn corpus() -> Corpus {
    let s = Stamp::new(1_700_000_000_000, "ada");
    let mut a = CardDoc::new(schema(), 11).unwrap();
    for n in 1..=3 {
        a.create_card(
            &s,
            card(n),
            "task",
            [
                ("title", Value::from(format!("Task {n}"))),
                ("status", "todo".into()),
                ("estimate", Value::from(n as f64 * 1.5)),
                ("body", "Some text, ünïcødé and 😀 emoji".into()),
            ],
        )
        .unwrap();
    }
    let bold: Attributes = [("bold".to_owned(), Value::Bool(true))].into();
    a.format_text(&s, card(1), "body", 0, 4, bold).unwrap();
    a.increment(&s, card(1), "votes", 7).unwrap();
    a.raise_max(&s, card(1), "progress", 0.5).unwrap();
    a.add_to_set(&s, card(1), "tags", "x").unwrap();
    a.link(&s, card(1), "blocks", card(2), Attributes::new())
        .unwrap();
    a.create_sequence(&s, SEQ).unwrap();
    for n in 1..=3 {
        a.insert_into_sequence(&s, SEQ, card(n), 0).unwrap();
    }
    let mut b = CardDoc::load_v1(a.schema().clone(), 22, &a.snapshot_v1()).unwrap();
    b.increment(&s, card(2), "votes", -2).unwrap();
    b.delete_text(&s, card(2), "body", 0, 5).unwrap();
    b.delete_card(&s, card(3)).unwrap();
    a.apply_update_v1(&b.diff_v1(&a.state_vector()).unwrap())
        .unwrap();

    let before = a.state_vector();
    let (base_v1, base_v2) = (a.snapshot_v1(), a.snapshot_v2());
    a.apply(
        &s,
        &[
            Op::CreateCard {
                card: card(4),
                kind: "task".into(),
                fields: [("title".to_owned(), Value::from("Later"))].into(),
            },
            Op::InsertText {
                card: card(1),
                field: "body".into(),
                index: 3,
                text: "inserted".into(),
                attributes: Attributes::new(),
            },
            Op::MoveInSequence {
                sequence: SEQ,
                card: card(1),
                index: 0,
            },
            Op::Increment {
                card: card(2),
                field: "votes".into(),
                by: 1,
            },
        ],
    )
    .unwrap();
    Corpus {
        schema: a.schema().clone(),
        next_v1: a.diff_v1(&before).unwrap(),
        next_v2: a.diff_v2(&before).unwrap(),
        state_vector: before,
        expected: a.export(),
        base_v1,
        base_v2,
    }
}

/// How many inputs of each kind to derive from one real update.
#[derive(Clone, Copy)]
pub(crate) struct Counts {
    /// Bit flips (single and multi), structural mutations: each this many.
    pub(crate) mutations: usize,
    /// Fully random byte strings (slow in v1: decode bombs).
    pub(crate) random: usize,
    /// Random byte strings with mostly short varints.
    pub(crate) short_varints: usize,
}

/// The inputs derived from one real update: every truncation, bit flips, structural
/// mutations and random bytes.
pub(crate) fn update_inputs(
    rng: &mut Rng,
    real: &[u8],
    counts: Counts,
) -> Vec<(&'static str, Vec<u8>)> {
    let n = counts.mutations;
    let mut out = Vec::new();
    out.extend(truncations(real).into_iter().map(|b| ("truncated", b)));
    out.extend(
        bit_flips(rng, real, n, 1)
            .into_iter()
            .map(|b| ("1-bit flip", b)),
    );
    out.extend(
        bit_flips(rng, real, n, 8)
            .into_iter()
            .map(|b| ("n-bit flip", b)),
    );
    out.extend(
        structural(rng, real, n)
            .into_iter()
            .map(|b| ("structural", b)),
    );
    out.extend(
        random(rng, counts.random, 48)
            .into_iter()
            .map(|b| ("random", b)),
    );
    out.extend(
        random_short_varints(rng, counts.short_varints, 64)
            .into_iter()
            .map(|b| ("random, short varints", b)),
    );
    out
}

/// Inputs per kind. Fully random v1 bytes were once the slow part (decode bombs, see the
/// module doc); the core's screen now refuses those up front, so they get the full count too.
pub(crate) fn counts(mutations: usize) -> Counts {
    Counts {
        mutations,
        random: mutations,
        short_varints: mutations,
    }
}

/// Reads everything a UI would read, to catch panics in the read paths on odd documents.
pub(crate) fn read_all(doc: &CardDoc) {
    let export = doc.export();
    let _ = doc.export_json();
    let _ = doc.integrity_report();
    let _ = doc.relationships();
    for (id, card) in &export.cards {
        for field in card.fields.keys() {
            let _ = doc.text_runs(*id, field);
        }
        let _ = doc.outgoing(*id);
        let _ = doc.incoming(*id);
    }
    for id in doc.sequence_ids() {
        let _ = doc.sequence(id);
    }
    let _ = doc.schema_version();
}

/// A document that accepted (possibly odd) bytes must still read, persist and reopen: the
/// sync layer snapshots after every batch, so a snapshot that panics or does not load back
/// is as bad as a decode that panics.
pub(crate) fn still_usable(doc: &CardDoc, input: &[u8]) {
    read_all(doc);
    let v1 = doc.snapshot_v1();
    let v2 = doc.snapshot_v2();
    let schema = doc.schema().clone();
    let reopened = CardDoc::load_v1(schema.clone(), 55, &v1)
        .unwrap_or_else(|e| panic!("snapshot_v1 after {} does not load: {e}", hex(input)));
    CardDoc::load_v2(schema, 55, &v2)
        .unwrap_or_else(|e| panic!("snapshot_v2 after {} does not load: {e}", hex(input)));
    assert_eq!(
        reopened.export(),
        doc.export(),
        "snapshot of {} reads differently",
        hex(input)
    );
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Encoding {
    V1,
    V2,
}

pub(crate) fn apply(
    doc: &mut CardDoc,
    bytes: &[u8],
    encoding: Encoding,
) -> Result<(), DecodeError> {
    match encoding {
        Encoding::V1 => doc.apply_update_v1(bytes),
        Encoding::V2 => doc.apply_update_v2(bytes),
    }
}

pub(crate) fn load(
    schema: &Arc<Schema>,
    bytes: &[u8],
    encoding: Encoding,
) -> Result<CardDoc, OpenError> {
    match encoding {
        Encoding::V1 => CardDoc::load_v1(schema.clone(), 33, bytes),
        Encoding::V2 => CardDoc::load_v2(schema.clone(), 33, bytes),
    }
}

pub(crate) fn merge(updates: &[&[u8]], encoding: Encoding) -> Result<Vec<u8>, DecodeError> {
    match encoding {
        Encoding::V1 => merge_updates_v1(updates),
        Encoding::V2 => merge_updates_v2(updates),
    }
}
