//! Schema upgrades that lose nothing (issue 17, docs/design.md §3 "Fields added later"): 2–5
//! replicas of a document made under schema v1 move to v2 at random points; v2 adds a text, a
//! counter, a max and a set field to the existing card kind, and the upgraded replicas write
//! them concurrently, syncing at random. After a full sync every replica holds every write:
//! texts every insertion, counters the sum, max the max, sets every add.
//!
//! 256 cases by default; `CARDSYNC_SLOW=1` (`cargo xtask test --slow`) runs 10,000.

use std::collections::BTreeSet;
use std::sync::Arc;

use cardsync_core::{
    Attributes, CardDoc, CardId, CardKind, FieldDef, FieldKind, FieldValue, Op, Schema, Stamp,
    ValueType,
};
use cardsync_tests::cases;
use proptest::prelude::*;

/// The card kind in v1: a title only.
fn v1() -> Arc<Schema> {
    Arc::new(Schema::new(1).card(
        "task",
        CardKind::default().field("title", FieldDef::register(ValueType::String)),
    ))
}

/// v2 adds one field of each container kind.
fn v2() -> Arc<Schema> {
    Arc::new(
        Schema::new(2).card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String))
                .field("notes", FieldDef::new(FieldKind::Text))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("peak", FieldDef::new(FieldKind::Max))
                .field("tags", FieldDef::new(FieldKind::Set)),
        ),
    )
}

#[derive(Clone, Debug)]
enum Step {
    /// The replica reopens its document with v2 (a no-op once upgraded).
    Upgrade(usize),
    /// The replica writes one new field of one card (skipped while it is on v1).
    Write {
        replica: usize,
        card: u8,
        field: u8,
        arg: u16,
    },
    /// Everything `from` has that `to` lacks.
    Sync { from: usize, to: usize },
}

fn step(replicas: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..replicas).prop_map(Step::Upgrade),
        6 => (0..replicas, 0u8..2, 0u8..4, any::<u16>())
            .prop_map(|(replica, card, field, arg)| Step::Write { replica, card, field, arg }),
        2 => (0..replicas, 0..replicas).prop_map(|(from, to)| Step::Sync { from, to }),
    ]
}

/// What every replica must end up holding, per card.
#[derive(Default, Clone)]
struct Expected {
    tokens: Vec<String>,
    votes: i64,
    peak: Option<f64>,
    tags: BTreeSet<String>,
}

struct Replica {
    doc: CardDoc,
    upgraded: bool,
    client: u64,
}

impl Replica {
    fn upgrade(&mut self) {
        if self.upgraded {
            return;
        }
        // A new session after the restart: a fresh client id, as an app gets.
        self.client += 100;
        let snapshot = self.doc.snapshot_v1();
        self.doc = CardDoc::load_v1(v2(), self.client, &snapshot).expect("v1 → v2 is safe");
        self.upgraded = true;
    }
}

fn sync(from: &CardDoc, to: &mut CardDoc) {
    let diff = from.diff_v1(&to.state_vector()).expect("own state vector");
    to.apply_update_v1(&diff).expect("a replica's own update");
}

fn run(replicas: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let cards = [CardId::from_u128(1), CardId::from_u128(2)];
    let mut origin = CardDoc::with_schema(v1(), 1).expect("doc");
    for card in cards {
        origin
            .create_card(&Stamp::new(0, "origin"), card, "task", [])
            .expect("create");
    }
    let snapshot = origin.snapshot_v1();
    let mut docs: Vec<Replica> = (0..replicas as u64)
        .map(|i| Replica {
            doc: CardDoc::load_v1(v1(), 2 + i, &snapshot).expect("load"),
            upgraded: false,
            client: 2 + i,
        })
        .collect();
    let mut expected = [Expected::default(), Expected::default()];
    let mut serial = 0u32;
    for s in steps {
        match *s {
            Step::Upgrade(r) => docs[r].upgrade(),
            Step::Write {
                replica,
                card,
                field,
                arg,
            } => {
                let r = &mut docs[replica];
                if !r.upgraded {
                    continue;
                }
                serial += 1;
                let (id, exp) = (cards[card as usize], &mut expected[card as usize]);
                let field_name = ["notes", "votes", "peak", "tags"][field as usize];
                let op = match field {
                    0 => {
                        // At either end, so no later insert splits an earlier token.
                        let token = format!("<{replica}.{serial}>");
                        let len = match r.doc.card(id).and_then(|c| c.fields.get("notes").cloned())
                        {
                            Some(FieldValue::Text(t)) => t.encode_utf16().count() as u32,
                            _ => 0,
                        };
                        exp.tokens.push(token.clone());
                        Op::InsertText {
                            card: id,
                            field: field_name.into(),
                            index: if arg.is_multiple_of(2) { 0 } else { len },
                            text: token,
                            attributes: Attributes::default(),
                        }
                    }
                    1 => {
                        let by = i64::from(arg % 7) + 1;
                        exp.votes += by;
                        Op::Increment {
                            card: id,
                            field: field_name.into(),
                            by,
                        }
                    }
                    2 => {
                        let value = f64::from(arg);
                        exp.peak = Some(exp.peak.map_or(value, |p| p.max(value)));
                        Op::RaiseMax {
                            card: id,
                            field: field_name.into(),
                            value,
                        }
                    }
                    _ => {
                        let item = format!("t{}", arg % 16);
                        exp.tags.insert(item.clone());
                        Op::AddToSet {
                            card: id,
                            field: field_name.into(),
                            item,
                        }
                    }
                };
                let stamp = Stamp::new(u64::from(serial), "user");
                r.doc.apply(&stamp, &[op]).map_err(|e| {
                    TestCaseError::fail(format!("replica {replica} refused its write: {e}"))
                })?;
            }
            Step::Sync { from, to } if from != to => {
                let (a, b) = if from < to {
                    let (l, r) = docs.split_at_mut(to);
                    (&l[from], &mut r[0])
                } else {
                    let (l, r) = docs.split_at_mut(from);
                    (&r[0], &mut l[to])
                };
                sync(&a.doc, &mut b.doc);
            }
            Step::Sync { .. } => {}
        }
    }
    for r in &mut docs {
        r.upgrade();
    }
    for _ in 0..2 {
        for from in 0..replicas {
            for to in 0..replicas {
                if from != to {
                    let snapshot = docs[from].doc.snapshot_v1();
                    docs[to].doc.apply_update_v1(&snapshot).expect("snapshot");
                }
            }
        }
    }
    let first = docs[0].doc.export();
    for (i, r) in docs.iter().enumerate() {
        prop_assert_eq!(&r.doc.export(), &first, "replica {} differs", i);
        prop_assert!(!r.doc.has_pending_updates());
    }
    for (card, exp) in cards.iter().zip(&expected) {
        let fields = &first.cards[card].fields;
        let text = match fields.get("notes") {
            Some(FieldValue::Text(t)) => t.clone(),
            _ => String::new(),
        };
        for token in &exp.tokens {
            prop_assert!(
                text.contains(token.as_str()),
                "{} lost from {:?}",
                token,
                text
            );
        }
        let total: usize = exp.tokens.iter().map(String::len).sum();
        prop_assert_eq!(text.len(), total, "text {:?}", text);
        let votes = match fields.get("votes") {
            Some(FieldValue::Counter(n)) => *n,
            _ => 0,
        };
        prop_assert_eq!(votes, exp.votes);
        let peak = match fields.get("peak") {
            Some(FieldValue::Max(m)) => *m,
            _ => None,
        };
        prop_assert_eq!(peak, exp.peak);
        let tags = match fields.get("tags") {
            Some(FieldValue::Set(s)) => s.clone(),
            _ => BTreeSet::new(),
        };
        prop_assert_eq!(&tags, &exp.tags);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/schema_upgrade.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn upgrades_keep_every_concurrent_write(
        (replicas, steps) in (2usize..=5).prop_flat_map(|n| (Just(n), proptest::collection::vec(step(n), 1..80)))
    ) {
        run(replicas, &steps)?;
    }
}

/// The issue's reproduction, fixed: both replicas first-write all three fields of an old card.
#[test]
fn the_issue_17_reproduction_keeps_both_sides() {
    let steps = [
        Step::Upgrade(0),
        Step::Upgrade(1),
        Step::Write {
            replica: 0,
            card: 0,
            field: 0,
            arg: 0,
        },
        Step::Write {
            replica: 1,
            card: 0,
            field: 0,
            arg: 0,
        },
        Step::Write {
            replica: 0,
            card: 0,
            field: 1,
            arg: 0,
        },
        Step::Write {
            replica: 1,
            card: 0,
            field: 1,
            arg: 1,
        },
        Step::Write {
            replica: 0,
            card: 0,
            field: 3,
            arg: 0,
        },
        Step::Write {
            replica: 1,
            card: 0,
            field: 3,
            arg: 1,
        },
        Step::Write {
            replica: 0,
            card: 0,
            field: 2,
            arg: 5,
        },
        Step::Write {
            replica: 1,
            card: 0,
            field: 2,
            arg: 9,
        },
    ];
    run(2, &steps).expect("nothing lost");
}
