//! Unit tests of the example validators: real documents before and after a change, judged
//! through the same [`Proposal`] the room builds (here by hand, naming what changed).

use std::collections::BTreeMap;

use cardsync_core::{
    BoardId, BoardKind, CardDoc, CardId, CardKind, ColumnId, Composite, FieldDef, FieldKind, Op,
    Schema, Shape, Stamp, Value, ValueType,
};

use super::distance::metres_between;
use super::{AssigneeMovesToDone, Distance, Milestone, WipLimit};
use crate::room::Role;
use crate::room::{Author, Proposal, Refused, Validator};

const BOARD: BoardId = BoardId::from_u128(1);
const TODO: ColumnId = ColumnId::from_u128(1);
const DOING: ColumnId = ColumnId::from_u128(2);
const DONE: ColumnId = ColumnId::from_u128(3);

pub(crate) fn schema() -> Schema {
    let geo = || {
        FieldDef::composite(Composite::new(Shape::object([
            ("lat", Shape::number(-90.0, 90.0)),
            ("lon", Shape::number(-180.0, 180.0)),
        ])))
    };
    Schema::new(1)
        .card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String))
                .field("assignee", FieldDef::register(ValueType::String))
                .field("progress", FieldDef::register(ValueType::Number))
                .field("inspected", FieldDef::register(ValueType::Bool))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("position", geo())
                .field("planned", geo()),
        )
        .board("kanban", BoardKind::default())
}

fn card(n: u128) -> CardId {
    CardId::from_u128(100 + n)
}

pub(crate) fn point(lat: f64, lon: f64) -> Value {
    Value::Object(BTreeMap::from([
        ("lat".to_owned(), lat.into()),
        ("lon".to_owned(), lon.into()),
    ]))
}

/// A board with Todo, Doing and Done and `cards` tasks in Todo.
fn board(cards: u128) -> CardDoc {
    let mut doc = CardDoc::new(schema(), 1).unwrap();
    let mut ops = vec![Op::CreateBoard {
        board: BOARD,
        kind: "kanban".into(),
    }];
    for (i, (column, name)) in [(TODO, "Todo"), (DOING, "Doing"), (DONE, "Done")]
        .into_iter()
        .enumerate()
    {
        ops.push(Op::AddColumn {
            board: BOARD,
            column,
            name: name.into(),
            index: i as u32,
        });
    }
    for n in 0..cards {
        let fields = [("assignee".to_owned(), Value::from("ana"))].into();
        ops.push(Op::CreateCard {
            card: card(n),
            kind: "task".into(),
            fields,
        });
        ops.push(place(n, TODO));
    }
    doc.apply(&Stamp::new(1, "ana"), &ops).unwrap();
    doc
}

fn place(n: u128, column: ColumnId) -> Op {
    Op::PlaceCard {
        board: BOARD,
        card: card(n),
        column,
        index: 99,
    }
}

fn set(n: u128, field: &str, value: impl Into<Value>) -> Op {
    Op::SetField {
        card: card(n),
        field: field.into(),
        value: value.into(),
    }
}

/// `before` with `ops` applied, as another replica.
fn after(before: &CardDoc, ops: &[Op]) -> CardDoc {
    let mut doc = CardDoc::new(schema(), 2).unwrap();
    doc.apply_update_v1(&before.snapshot_v1()).unwrap();
    doc.apply(&Stamp::new(2, "ana"), ops).unwrap();
    doc
}

/// Judges `ops` on `before` by `author` with `validator`, naming the cards and placements the
/// ops touch (as the room's shadow would).
fn judge(
    validator: &dyn Validator,
    before: &CardDoc,
    ops: &[Op],
    author: &Author,
) -> Result<(), Refused> {
    let after = after(before, ops);
    let mut proposal = Proposal::of(before, &after, author);
    for op in ops {
        match op {
            Op::PlaceCard { board, card, .. } => {
                proposal.boards.insert(*board);
                proposal.placements.insert((*board, *card));
            }
            Op::SetField { card, .. }
            | Op::CreateCard { card, .. }
            | Op::Increment { card, .. } => {
                proposal.cards.insert(*card);
            }
            _ => {}
        }
    }
    validator.validate(&proposal)
}

fn ana() -> Author {
    Author::with_subject(Role::Editor, "ana")
}

fn code(verdict: Result<(), Refused>) -> Option<String> {
    verdict.err().map(|r| r.code)
}

#[test]
fn wip_limit_refuses_only_growing_a_full_column() {
    let wip = WipLimit {
        column: "Doing".into(),
        limit: 2,
        field: None,
    };
    let doc = board(4);
    assert_eq!(
        judge(&wip, &doc, &[place(0, DOING), place(1, DOING)], &ana()),
        Ok(())
    );
    let refused = judge(
        &wip,
        &doc,
        &[place(0, DOING), place(1, DOING), place(2, DOING)],
        &ana(),
    );
    assert_eq!(code(refused.clone()), Some("wip_limit".into()));
    assert!(refused.unwrap_err().reason.contains("at most 2"));
    // Other columns have no limit.
    assert_eq!(
        judge(
            &wip,
            &doc,
            &[place(0, DONE), place(1, DONE), place(2, DONE)],
            &ana()
        ),
        Ok(())
    );

    // A column over its limit (filled before the rule) may shrink, and its cards be edited.
    let full = after(&doc, &[place(0, DOING), place(1, DOING), place(2, DOING)]);
    assert_eq!(judge(&wip, &full, &[place(0, DONE)], &ana()), Ok(()));
    assert_eq!(judge(&wip, &full, &[set(0, "title", "x")], &ana()), Ok(()));
    // Moving within the column keeps its count.
    assert_eq!(judge(&wip, &full, &[place(0, DOING)], &ana()), Ok(()));
    assert_eq!(
        code(judge(&wip, &full, &[place(3, DOING)], &ana())),
        Some("wip_limit".into())
    );
}

#[test]
fn wip_limit_counts_a_status_field_when_named() {
    let wip = WipLimit {
        column: "doing".into(),
        limit: 1,
        field: Some("title".into()),
    };
    let doc = board(3);
    assert_eq!(
        judge(&wip, &doc, &[set(0, "title", "doing")], &ana()),
        Ok(())
    );
    let one = after(&doc, &[set(0, "title", "doing")]);
    assert_eq!(
        code(judge(&wip, &one, &[set(1, "title", "doing")], &ana())),
        Some("wip_limit".into())
    );
    // Leaving, or editing elsewhere, is fine; a deleted card does not count.
    assert_eq!(
        judge(&wip, &one, &[set(0, "title", "done")], &ana()),
        Ok(())
    );
    assert_eq!(
        judge(&wip, &one, &[set(1, "assignee", "bo")], &ana()),
        Ok(())
    );
    let deleted = after(&one, &[Op::DeleteCard { card: card(0) }]);
    assert_eq!(
        judge(&wip, &deleted, &[set(1, "title", "doing")], &ana()),
        Ok(())
    );
}

#[test]
fn distance_measures_great_circles() {
    // One degree of latitude is about 111.2 km anywhere; one of longitude shrinks with cos(lat).
    let degree = metres_between((0.0, 0.0), (1.0, 0.0));
    assert!((degree - 111_195.0).abs() < 10.0, "{degree}");
    let at_60 = metres_between((60.0, 0.0), (60.0, 1.0));
    assert!((at_60 - degree / 2.0).abs() < 200.0, "{at_60}");
    assert_eq!(metres_between((52.5, 13.4), (52.5, 13.4)), 0.0);
}

#[test]
fn distance_refuses_a_position_too_far_from_the_plan() {
    let rule = Distance {
        kind: "task".into(),
        field: "position".into(),
        planned: "planned".into(),
        max_metres: 100.0,
    };
    let mut doc = board(1);
    doc = after(&doc, &[set(0, "planned", point(52.5, 13.4))]);
    // 0.0005° of latitude is about 56 m; 0.002° about 222 m.
    assert_eq!(
        judge(
            &rule,
            &doc,
            &[set(0, "position", point(52.5005, 13.4))],
            &ana()
        ),
        Ok(())
    );
    let refused = judge(
        &rule,
        &doc,
        &[set(0, "position", point(52.502, 13.4))],
        &ana(),
    );
    assert_eq!(code(refused.clone()), Some("too_far".into()));
    assert!(refused.unwrap_err().reason.contains("222 m"));
    // Moving the plan away from a recorded position is refused too.
    let placed = after(&doc, &[set(0, "position", point(52.5, 13.4))]);
    assert_eq!(
        code(judge(
            &rule,
            &placed,
            &[set(0, "planned", point(53.0, 13.4))],
            &ana()
        )),
        Some("too_far".into())
    );
    // Without a plan there is nothing to measure; other fields are not its business.
    let unplanned = board(1);
    assert_eq!(
        judge(
            &rule,
            &unplanned,
            &[set(0, "position", point(0.0, 0.0))],
            &ana()
        ),
        Ok(())
    );
    let far = after(
        &unplanned,
        &[
            set(0, "position", point(0.0, 0.0)),
            set(0, "planned", point(1.0, 1.0)),
        ],
    );
    assert_eq!(judge(&rule, &far, &[set(0, "title", "x")], &ana()), Ok(()));
}

#[test]
fn milestone_needs_the_flag_to_pass_the_threshold() {
    let rule = Milestone {
        kind: "task".into(),
        field: "progress".into(),
        threshold: 50.0,
        flag: "inspected".into(),
    };
    let doc = board(1);
    assert_eq!(
        judge(&rule, &doc, &[set(0, "progress", 50.0)], &ana()),
        Ok(())
    );
    assert_eq!(
        code(judge(&rule, &doc, &[set(0, "progress", 51.0)], &ana())),
        Some("not_inspected".into())
    );
    assert_eq!(
        judge(
            &rule,
            &doc,
            &[set(0, "inspected", true), set(0, "progress", 80.0)],
            &ana()
        ),
        Ok(())
    );
    let unset = after(&doc, &[set(0, "inspected", false)]);
    assert!(judge(&rule, &unset, &[set(0, "progress", 80.0)], &ana()).is_err());
    // Past the threshold already: edits and further progress stay allowed, and so does lowering.
    let past = after(&doc, &[set(0, "inspected", true), set(0, "progress", 60.0)]);
    let uninspected = after(&past, &[set(0, "inspected", false)]);
    assert_eq!(
        judge(&rule, &uninspected, &[set(0, "progress", 70.0)], &ana()),
        Ok(())
    );
    assert_eq!(
        judge(&rule, &uninspected, &[set(0, "progress", 10.0)], &ana()),
        Ok(())
    );
    // A new card created past the threshold is judged too.
    let create = Op::CreateCard {
        card: card(7),
        kind: "task".into(),
        fields: [("progress".to_owned(), Value::from(90.0))].into(),
    };
    assert!(judge(&rule, &doc, &[create], &ana()).is_err());
}

#[test]
fn only_the_assignee_moves_a_card_to_done() {
    let rule = AssigneeMovesToDone {
        column: "Done".into(),
        field: "assignee".into(),
    };
    let doc = board(2);
    assert_eq!(judge(&rule, &doc, &[place(0, DONE)], &ana()), Ok(()));
    let bo = Author::with_subject(Role::Admin, "bo");
    let refused = judge(&rule, &doc, &[place(0, DONE)], &bo);
    assert_eq!(code(refused.clone()), Some("not_assignee".into()));
    assert!(refused.unwrap_err().reason.contains("not bo"));
    // No subject (an old token) is nobody's assignee.
    let anonymous = Author::anonymous(Role::Editor);
    assert!(judge(&rule, &doc, &[place(0, DONE)], &anonymous).is_err());
    // Other columns, and moves out of or within Done, are anyone's.
    assert_eq!(judge(&rule, &doc, &[place(0, DOING)], &bo), Ok(()));
    let done = after(&doc, &[place(0, DONE)]);
    assert_eq!(judge(&rule, &done, &[place(0, DONE)], &bo), Ok(()));
    assert_eq!(judge(&rule, &done, &[place(0, TODO)], &bo), Ok(()));
    // A card without an assignee goes to Done with nobody.
    let unassigned = after(&doc, &[set(1, "assignee", Value::Null)]);
    assert!(judge(&rule, &unassigned, &[place(1, DONE)], &ana()).is_err());
}

#[test]
fn validators_deserialize_strictly() {
    let wip: WipLimit = serde_json::from_str(r#"{"column":"Doing","limit":3}"#).unwrap();
    assert_eq!((wip.limit, wip.field), (3, None));
    assert!(serde_json::from_str::<WipLimit>(r#"{"column":"Doing","limit":3,"x":1}"#).is_err());
    assert!(serde_json::from_str::<Milestone>(r#"{"kind":"task"}"#).is_err());
}

#[test]
fn the_reason_on_the_wire_names_the_code_first() {
    let refused = Refused::new("wip_limit", "column \"Doing\": full");
    assert_eq!(refused.wire_reason(), "wip_limit: column \"Doing\": full");
    assert_eq!(Refused::code_of(&refused.wire_reason()), Some("wip_limit"));
}
