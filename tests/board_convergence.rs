//! Board, composite and time-ordered register properties on 3–5 replicas: random programs
//! that create boards, add, remove and reorder columns, move cards within and across columns,
//! take cards off boards, and write composite and time-ordered registers, with partial syncs in
//! between, always end in identical documents where
//! - every card is in at most one column of a board;
//! - no card is lost: every card with a placement on a board shows exactly once on it;
//! - the incrementally kept board index equals a fresh load of the same document;
//! - every time-ordered register holds the value with the greatest stamp (ties: replica id);
//! - every composite value is one written value, never a mix of two writes.
//!
//! 256 cases by default; `CARDSYNC_SLOW=1` (`cargo xtask test --slow`) runs 10,000.

use std::collections::{BTreeMap, BTreeSet};

use cardsync_core::layout::{self, BoardKey};
use cardsync_core::{
    BoardId, BoardKind, CardDoc, CardId, CardKind, ColumnId, Composite, FieldDef, FieldKind,
    FieldValue, Schema, Shape, Stamp, Value,
};
use cardsync_tests::cases;
use proptest::prelude::*;
use yrs::{Map, Transact};

const CARDS: u128 = 6;
const BOARDS: u128 = 3;
const COLUMNS: u128 = 5;

fn schema() -> Schema {
    let geo = Composite::new(Shape::object([
        ("lat", Shape::number(-90.0, 90.0)),
        ("lng", Shape::number(-180.0, 180.0)),
    ]));
    Schema::new(1)
        .card(
            "task",
            CardKind::default()
                .field("geo", FieldDef::composite(geo))
                .field("pin", FieldDef::new(FieldKind::TimeOrdered)),
        )
        .board("kanban", BoardKind::default())
}

fn card(n: u8) -> CardId {
    CardId::from_u128(1 + u128::from(n) % CARDS)
}
fn board(n: u8) -> BoardId {
    BoardId::from_u128(100 + u128::from(n) % BOARDS)
}
fn column(n: u8) -> ColumnId {
    ColumnId::from_u128(200 + u128::from(n) % COLUMNS)
}

/// One step of a program; `r` picks a replica.
#[derive(Clone, Debug)]
enum Step {
    CreateBoard {
        r: u8,
        board: u8,
    },
    AddColumn {
        r: u8,
        board: u8,
        column: u8,
        index: u8,
    },
    MoveColumn {
        r: u8,
        board: u8,
        column: u8,
        index: u8,
    },
    RemoveColumn {
        r: u8,
        board: u8,
        column: u8,
    },
    Place {
        r: u8,
        board: u8,
        card: u8,
        column: u8,
        index: u8,
    },
    Unplace {
        r: u8,
        board: u8,
        card: u8,
    },
    Geo {
        r: u8,
        card: u8,
        lat: i8,
        lng: i16,
    },
    Pin {
        r: u8,
        card: u8,
        at: u8,
    },
    Sync {
        from: u8,
        to: u8,
    },
}

/// Mostly the board every replica has from the start, sometimes one created meanwhile.
fn b() -> impl Strategy<Value = u8> + Clone {
    (0u8..8).prop_map(|b| b.saturating_sub(5))
}

fn step() -> impl Strategy<Value = Step> {
    let r = any::<u8>();
    prop_oneof![
        1 => (r, any::<u8>()).prop_map(|(r, board)| Step::CreateBoard { r, board }),
        2 => (r, b(), any::<u8>(), any::<u8>())
            .prop_map(|(r, board, column, index)| Step::AddColumn { r, board, column, index: index % 6 }),
        1 => (r, b(), any::<u8>(), any::<u8>())
            .prop_map(|(r, board, column, index)| Step::MoveColumn { r, board, column, index: index % 6 }),
        1 => (r, b(), any::<u8>())
            .prop_map(|(r, board, column)| Step::RemoveColumn { r, board, column }),
        6 => (r, b(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(r, board, card, column, index)| Step::Place { r, board, card, column, index: index % 8 }),
        1 => (r, b(), any::<u8>())
            .prop_map(|(r, board, card)| Step::Unplace { r, board, card }),
        2 => (r, any::<u8>(), any::<i8>(), any::<i16>())
            .prop_map(|(r, card, lat, lng)| Step::Geo { r, card, lat: lat % 90, lng: lng % 180 }),
        2 => (r, any::<u8>(), any::<u8>()).prop_map(|(r, card, at)| Step::Pin { r, card, at: at % 16 }),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(from, to)| Step::Sync { from, to }),
    ]
}

fn geo(lat: f64, lng: f64) -> Value {
    Value::Object([("lat".into(), lat.into()), ("lng".into(), lng.into())].into())
}

/// A time-ordered write: `(at, replica, seq)` and the value.
type PinWrite = ((u64, u64, usize), Value);

/// The replicas, and every value written to the registers under test.
struct World {
    docs: Vec<CardDoc>,
    /// Per card: every composite value written.
    geos: BTreeMap<CardId, Vec<Value>>,
    /// Per card: every time-ordered write as `((at, replica, seq), value)`.
    pins: BTreeMap<CardId, Vec<PinWrite>>,
    writes: usize,
    applied: usize,
}

impl World {
    fn new(replicas: usize) -> Self {
        let mut first = CardDoc::new(schema(), 1).unwrap();
        let s = Stamp::new(0, "setup");
        let mut geos = BTreeMap::new();
        for n in 0..CARDS as u8 {
            first
                .create_card(&s, card(n), "task", [("geo", geo(0.0, 0.0))])
                .unwrap();
            geos.insert(card(n), vec![geo(0.0, 0.0)]);
        }
        first.create_board(&s, board(0), "kanban").unwrap();
        for c in 0..3 {
            first
                .add_column(&s, board(0), column(c), "c", u32::from(c))
                .unwrap();
        }
        let snapshot = first.snapshot_v1();
        let mut docs = vec![first];
        for client in 2..=replicas as u64 {
            let mut doc = CardDoc::new(schema(), client).unwrap();
            doc.apply_update_v1(&snapshot).unwrap();
            docs.push(doc);
        }
        Self {
            docs,
            geos,
            pins: BTreeMap::new(),
            writes: 0,
            applied: 0,
        }
    }

    fn run(&mut self, step: &Step) {
        let n = self.docs.len();
        let pick = |r: &u8| usize::from(*r) % n;
        let s = Stamp::new(1, "p");
        let result = match step {
            Step::Sync { from, to } => {
                let (from, to) = (pick(from), pick(to));
                if from != to {
                    let update = self.docs[from]
                        .diff_v1(&self.docs[to].state_vector())
                        .unwrap();
                    self.docs[to].apply_update_v1(&update).unwrap();
                }
                return;
            }
            Step::CreateBoard { r, board: b } => {
                self.docs[pick(r)].create_board(&s, board(*b), "kanban")
            }
            Step::AddColumn {
                r,
                board: b,
                column: c,
                index,
            } => self.docs[pick(r)].add_column(&s, board(*b), column(*c), "c", u32::from(*index)),
            Step::MoveColumn {
                r,
                board: b,
                column: c,
                index,
            } => self.docs[pick(r)].move_column(&s, board(*b), column(*c), u32::from(*index)),
            Step::RemoveColumn {
                r,
                board: b,
                column: c,
            } => self.docs[pick(r)].remove_column(&s, board(*b), column(*c)),
            Step::Place {
                r,
                board: b,
                card: k,
                column: c,
                index,
            } => self.docs[pick(r)].place_card(
                &s,
                board(*b),
                card(*k),
                column(*c),
                u32::from(*index),
            ),
            Step::Unplace {
                r,
                board: b,
                card: k,
            } => self.docs[pick(r)].unplace_card(&s, board(*b), card(*k)),
            Step::Geo {
                r,
                card: k,
                lat,
                lng,
            } => {
                let value = geo(f64::from(*lat), f64::from(*lng));
                let result = self.docs[pick(r)].set_field(&s, card(*k), "geo", value.clone());
                if result.is_ok() {
                    self.geos.entry(card(*k)).or_default().push(value);
                }
                result
            }
            Step::Pin { r, card: k, at } => {
                let doc = &mut self.docs[pick(r)];
                self.writes += 1;
                let value = Value::from(format!("w{}", self.writes));
                let at = u64::from(*at);
                let result = doc.set_field(&Stamp::new(at, "p"), card(*k), "pin", value.clone());
                if result.is_ok() {
                    let key = (at, doc.client_id(), self.writes);
                    self.pins.entry(card(*k)).or_default().push((key, value));
                }
                result
            }
        };
        if result.is_ok() {
            self.applied += 1;
        }
    }

    fn heal(&mut self) {
        for _ in 0..2 {
            for from in 0..self.docs.len() {
                for to in 0..self.docs.len() {
                    if from != to {
                        let update = self.docs[from]
                            .diff_v1(&self.docs[to].state_vector())
                            .unwrap();
                        self.docs[to].apply_update_v1(&update).unwrap();
                    }
                }
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        let first = &self.docs[0];
        let export = first.export();
        for doc in &self.docs[1..] {
            if doc.export() != export {
                return Err(format!("replica {} diverged", doc.client_id()));
            }
        }
        let fresh = CardDoc::load_v1(first.schema().clone(), 99, &first.snapshot_v1())
            .map_err(|e| e.to_string())?;
        if fresh.export() != export {
            return Err("the board index differs from a fresh load".into());
        }
        // Placements as stored, read with the layout's parsers alone.
        let mut placed: BTreeMap<BoardId, BTreeSet<CardId>> = BTreeMap::new();
        {
            let txn = first.yrs_doc().transact();
            if let Some(root) = yrs::ReadTxn::get_map(&txn, layout::BOARDS) {
                for (key, value) in root.iter(&txn) {
                    if let Some(BoardKey::Placement(b, c)) = layout::parse_board_key(key)
                        && layout::placement_value(&value).is_some()
                    {
                        placed.entry(b).or_default().insert(c);
                    }
                }
            }
        }
        for (id, view) in &export.boards {
            let mut seen: BTreeMap<CardId, usize> = BTreeMap::new();
            for c in view
                .columns
                .iter()
                .flat_map(|c| &c.cards)
                .chain(&view.unplaced)
            {
                *seen.entry(*c).or_default() += 1;
            }
            if let Some((c, n)) = seen.iter().find(|(_, n)| **n > 1) {
                return Err(format!("card {c} shows {n} times on board {id}"));
            }
            let shown: BTreeSet<CardId> = seen.keys().copied().collect();
            let stored = placed.get(id).cloned().unwrap_or_default();
            if shown != stored {
                return Err(format!("board {id}: placed {stored:?} but shows {shown:?}"));
            }
        }
        for (id, card) in &export.cards {
            let geo = match card.fields.get("geo") {
                Some(FieldValue::Register(v)) => v.clone(),
                other => return Err(format!("card {id}: geo reads {other:?}")),
            };
            if !self.geos.get(id).is_some_and(|all| all.contains(&geo)) {
                return Err(format!("card {id}: geo {geo:?} is no written value"));
            }
            let want = self
                .pins
                .get(id)
                .and_then(|all| all.iter().max_by_key(|(key, _)| *key))
                .map_or(Value::Null, |(_, v)| v.clone());
            let got = match card.fields.get("pin") {
                Some(FieldValue::Register(v)) => v.clone(),
                None => Value::Null,
                other => return Err(format!("card {id}: pin reads {other:?}")),
            };
            if got != want {
                return Err(format!(
                    "card {id}: pin {got:?}, the latest write is {want:?}"
                ));
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/board_convergence.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn boards_and_registers_converge(replicas in 3usize..=5, steps in proptest::collection::vec(step(), 1..120)) {
        let mut world = World::new(replicas);
        for s in &steps {
            world.run(s);
        }
        world.heal();
        if let Err(violation) = world.check() {
            prop_assert!(false, "{}", violation);
        }
    }
}

/// The generator must produce programs that mostly apply.
#[test]
fn programs_mostly_apply() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut applied, mut total) = (0, 0);
    for _ in 0..32 {
        let steps: Vec<Step> = proptest::collection::vec(step(), 60..100)
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        let mut world = World::new(3);
        for s in &steps {
            world.run(s);
            total += usize::from(!matches!(s, Step::Sync { .. }));
        }
        applied += world.applied;
    }
    assert!(2 * applied > total, "applied {applied} of {total}");
}
