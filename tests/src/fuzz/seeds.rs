//! Seed inputs for every target, made from real documents and real protocol traffic.
//!
//! libFuzzer mutates what it starts from; random bytes almost never get past the first varint
//! of a yrs update, so each corpus starts from the real thing: snapshots and incremental
//! updates of [`fixture`], its state vectors, the frames a room exchanges, real schemas and
//! batches. `cargo xtask fuzz` writes these into the corpus folder before each run, and the
//! stable replay test runs every seed too, so a seed that breaks a target fails `cargo test`.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use cardsync_core::{Attributes, CardDoc, CardId, DocExport, Op, Origin, SequenceId, Stamp, Value};
use cardsync_sync::connection::SplitMix64;
use cardsync_sync::protocol::{BatchId, Message, PROTOCOL_VERSION};

use super::Target;

/// The schema every fuzzed document uses: the convergence simulator's (a field of every kind,
/// a state machine, two relationship kinds).
pub(super) fn schema() -> Arc<cardsync_core::Schema> {
    static SCHEMA: OnceLock<Arc<cardsync_core::Schema>> = OnceLock::new();
    Arc::clone(SCHEMA.get_or_init(|| Arc::new(crate::schema())))
}

/// A document with content: cards with text, a relationship and a sequence, written by
/// client 1; also returns each transaction's v1 update, in order.
///
/// Built once and handed out as loads of one snapshot, so every copy is the same document
/// byte for byte. A rebuild in another run makes the same items at the same clocks (a card's
/// entries are written in a fixed order), which keeps every regression file meeting the
/// clocks it was found on; only the byte order inside the stamps' plain maps may differ.
pub(super) fn fixture() -> (CardDoc, Vec<Vec<u8>>) {
    let (snapshot, updates) = fixture_bytes();
    let doc = CardDoc::load_v1(schema(), FIXTURE_READER, snapshot)
        .expect("the fixture's own snapshot loads");
    (doc, updates.clone())
}

/// A fresh copy of the document the update targets apply their input to (the regression
/// replay checks which check refuses each finding).
pub fn fixture_doc() -> CardDoc {
    fixture().0
}

/// The fixture's snapshot and transactions, built once per process.
fn fixture_bytes() -> &'static (Vec<u8>, Vec<Vec<u8>>) {
    static FIXTURE: OnceLock<(Vec<u8>, Vec<Vec<u8>>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut doc = CardDoc::with_schema(schema(), 1).expect("the fuzz schema is valid");
        let updates = fixture_batches()
            .iter()
            .map(|batch| {
                doc.apply_with_origin(&Stamp::new(1, "fuzz"), batch, Origin::Local)
                    .expect("the fixture's batches are valid")
                    .update
            })
            .collect();
        (doc.snapshot_v1(), updates)
    })
}

/// Runs `f` on this thread's own copy of the fixture and its export, loaded once.
///
/// Loading the fixture is most of what a decode target costs per input, and most fuzz inputs
/// do not even decode, which the document refuses before it opens a transaction. Those share
/// this copy; `f` must leave it as [`fixture`] would load it (the targets assert it through
/// the export and use a fresh [`fixture`] for anything that may change it).
pub(super) fn with_shared_fixture<T>(f: impl FnOnce(&mut CardDoc, &DocExport) -> T) -> T {
    thread_local! {
        static SHARED: RefCell<Option<(CardDoc, DocExport)>> = const { RefCell::new(None) };
    }
    SHARED.with(|shared| {
        let mut shared = shared.borrow_mut();
        let (doc, export) = shared.get_or_insert_with(|| {
            let (doc, _) = fixture();
            let export = doc.export();
            (doc, export)
        });
        f(doc, export)
    })
}

/// The fixture's transactions as v1 updates (the same as [`fixture`] returns), without
/// loading a document.
pub(super) fn fixture_updates() -> &'static [Vec<u8>] {
    &fixture_bytes().1
}

/// The fixture's v1 snapshot, without loading a document.
pub(super) fn fixture_snapshot() -> &'static [u8] {
    &fixture_bytes().0
}

/// The client id of fixture copies: they never write, but must not claim the writer's id.
const FIXTURE_READER: u64 = 100;

fn card(n: u128) -> CardId {
    CardId::from_u128(n)
}

fn title(text: &str) -> Attributes {
    Attributes::from([("title".to_owned(), Value::String(text.to_owned()))])
}

/// The fixture's transactions, one per user action.
pub(super) fn fixture_batches() -> Vec<Vec<Op>> {
    let column = SequenceId::from_u128(7);
    let create = |n: u128, name: &str| Op::CreateCard {
        card: card(n),
        kind: "task".into(),
        fields: title(name),
    };
    vec![
        vec![
            create(1, "write"),
            create(2, "review"),
            create(3, "ship 🚀"),
        ],
        vec![Op::InsertText {
            card: card(1),
            field: "body".into(),
            index: 0,
            text: "hello wörld".into(),
            attributes: Attributes::new(),
        }],
        vec![Op::Increment {
            card: card(2),
            field: "votes".into(),
            by: 3,
        }],
        vec![Op::AddToSet {
            card: card(2),
            field: "tags".into(),
            item: "urgent".into(),
        }],
        vec![Op::Link {
            from: card(1),
            kind: "blocks".into(),
            to: card(2),
            properties: Attributes::new(),
        }],
        vec![
            Op::CreateSequence { sequence: column },
            Op::InsertIntoSequence {
                sequence: column,
                card: card(1),
                index: 0,
            },
            Op::InsertIntoSequence {
                sequence: column,
                card: card(2),
                index: 1,
            },
        ],
        vec![Op::MoveInSequence {
            sequence: column,
            card: card(2),
            index: 0,
        }],
        vec![Op::DeleteCard { card: card(3) }],
    ]
}

/// The seed inputs of `target`.
pub fn seeds(target: Target) -> Vec<Vec<u8>> {
    let (doc, updates) = fixture();
    match target {
        Target::UpdateV1 => {
            let mut seeds = updates;
            seeds.push(doc.snapshot_v1());
            seeds
        }
        Target::UpdateV2 => {
            // Each transaction again, as the v2 diff from the state just before it.
            let mut before = CardDoc::with_schema(schema(), 2).expect("valid schema");
            let mut seeds = Vec::new();
            for update in &updates {
                let mut after = CardDoc::with_schema(schema(), 3).expect("valid schema");
                after
                    .apply_update_v1(&before.snapshot_v1())
                    .expect("own snapshot");
                after
                    .apply_update_v1(update)
                    .expect("the fixture's own update");
                seeds.push(
                    after
                        .diff_v2(&before.state_vector())
                        .expect("own state vector"),
                );
                before
                    .apply_update_v1(update)
                    .expect("the fixture's own update");
            }
            seeds.push(doc.snapshot_v2());
            seeds
        }
        Target::StateVector => {
            let mut partial = CardDoc::with_schema(schema(), 2).expect("valid schema");
            let mut seeds = vec![partial.state_vector(), doc.state_vector()];
            for update in &updates[..3] {
                partial
                    .apply_update_v1(update)
                    .expect("the fixture's own update");
                seeds.push(partial.state_vector());
            }
            seeds
        }
        Target::Protocol => room_frames(&doc, &updates)
            .iter()
            .map(Message::encode)
            .collect(),
        Target::Room => {
            let frames: Vec<Vec<u8>> = room_frames(&doc, &updates)
                .iter()
                .map(Message::encode)
                .collect();
            vec![super::protocol::frames_input(&frames)]
        }
        Target::Replicas => vec![
            (0u8..=255).collect(),
            vec![0; 64],
            (0u8..=255).rev().cycle().take(1024).collect(),
        ],
        Target::Session => session_seeds(),
        Target::Schema => fixture_batches()
            .into_iter()
            .map(|ops| super::schema::input(&crate::schema(), &ops))
            .collect(),
    }
}

/// What a native client says to a room over one connection.
fn room_frames(doc: &CardDoc, updates: &[Vec<u8>]) -> Vec<Message> {
    let mut frames = vec![
        Message::Hello {
            version: PROTOCOL_VERSION,
            token: super::protocol::EDITOR_TOKEN.into(),
            client: 1,
        },
        Message::SyncStep1 {
            state_vector: doc.state_vector(),
        },
        Message::Ping { nonce: 42 },
    ];
    frames.extend(
        updates
            .iter()
            .enumerate()
            .map(|(seq, update)| Message::SubmitBatch {
                batch: BatchId {
                    client: 1,
                    seq: seq as u64,
                },
                update: update.clone(),
            }),
    );
    frames.push(Message::Update {
        update: updates[0].clone(),
    });
    frames
}

/// Session schedules: random bytes of a few lengths (every byte string spells a schedule; the
/// replay test checks that these reach acks, rejections and crashes).
fn session_seeds() -> Vec<Vec<u8>> {
    let mut rng = SplitMix64::new(8);
    [64usize, 256, 512, 1024, 2048]
        .into_iter()
        .map(|len| (0..len).map(|_| rng.next_u64() as u8).collect())
        .collect()
}
