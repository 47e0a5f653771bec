//! App-defined validators in the room: a refusal is a `Reject` with `rejected_by_validator`
//! and the validator's code, the batch is neither applied nor broadcast, a version 1 client
//! gets `forbidden` instead, validators see the token's subject, and a batch judged again
//! after a lost compare-and-append (`log.rs`) meets the validators again.

use cardsync_core::{BoardId, ColumnId, Op};

use super::{Client, persists, to};
use crate::protocol::{BatchId, Message, PROTOCOL_VERSION, RejectCode};
use crate::room::validators::tests::{point, schema};
use crate::room::validators::{AssigneeMovesToDone, Distance, Milestone, WipLimit};
use crate::room::{
    AuthError, Authenticator, Author, PeerId, Refused, Role, Room, RoomAction, RoomConfig,
    Validators,
};
use crate::time::Instant;

const BOARD: BoardId = BoardId::from_u128(1);
const TODO: ColumnId = ColumnId::from_u128(1);
const DOING: ColumnId = ColumnId::from_u128(2);
const DONE: ColumnId = ColumnId::from_u128(3);

/// Tokens that name a user: `"<role>:<subject>"`, or a bare role for no subject.
struct Subjects;

impl Authenticator for Subjects {
    fn authenticate(&self, token: &str) -> Result<Role, AuthError> {
        self.identify(token).map(|a| a.role)
    }

    fn identify(&self, token: &str) -> Result<Author, AuthError> {
        let (role, subject) = match token.split_once(':') {
            Some((role, subject)) => (role, Some(subject)),
            None => (token, None),
        };
        let role = match role {
            "editor" => Role::Editor,
            "admin" => Role::Admin,
            _ => return Err(AuthError::InvalidToken),
        };
        Ok(match subject {
            Some(s) => Author::with_subject(role, s),
            None => Author::anonymous(role),
        })
    }
}

fn all_four() -> Validators {
    Validators::new()
        .with(WipLimit {
            column: "Doing".into(),
            limit: 1,
            field: None,
        })
        .with(Distance {
            kind: "task".into(),
            field: "position".into(),
            planned: "planned".into(),
            max_metres: 100.0,
        })
        .with(Milestone {
            kind: "task".into(),
            field: "progress".into(),
            threshold: 50.0,
            flag: "inspected".into(),
        })
        .with(AssigneeMovesToDone {
            column: "Done".into(),
            field: "assignee".into(),
        })
}

fn open(log: &[Vec<u8>]) -> Room<Subjects> {
    Room::new(RoomConfig::default(), schema(), Subjects, log)
        .unwrap()
        .with_validators(all_four())
}

fn drain(room: &mut Room<Subjects>) -> Vec<RoomAction> {
    std::iter::from_fn(|| room.poll_action()).collect()
}

fn join(room: &mut Room<Subjects>, peer: u64, token: &str, version: u32, client: u64) {
    let hello = Message::Hello {
        version,
        token: token.into(),
        client,
    };
    room.handle_connect(Instant(0), PeerId(peer)).unwrap();
    room.handle_message(Instant(0), PeerId(peer), &hello.encode())
        .unwrap();
    drain(room);
}

/// Sends a batch, persists whatever it asks to; returns the messages `peer` and peer 9 got.
fn submit(room: &mut Room<Subjects>, peer: u64, client: &mut Client, ops: &[Op]) -> Vec<Message> {
    let (message, _, _) = client.batch(ops);
    room.handle_message(Instant(1), PeerId(peer), &message.encode())
        .unwrap();
    let mut actions = drain(room);
    for action in actions.clone() {
        if let RoomAction::Persist { token, .. } = action {
            room.handle_persisted(Instant(2), token).unwrap();
            actions.extend(drain(room));
        }
    }
    to(&actions, PeerId(peer))
}

fn rejection(messages: &[Message]) -> Option<(RejectCode, String)> {
    messages.iter().find_map(|m| match m {
        Message::Reject { code, reason, .. } => Some((*code, reason.clone())),
        _ => None,
    })
}

fn place(card: u128, column: ColumnId) -> Op {
    Op::PlaceCard {
        board: BOARD,
        card: cardsync_core::CardId::from_u128(card),
        column,
        index: 0,
    }
}

/// A board with three columns and tasks 1..=3 assigned to ana, made by client 1 as `admin:ana`.
fn setup(room: &mut Room<Subjects>, ana: &mut Client) {
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
    for n in 1..=3 {
        ops.push(Op::CreateCard {
            card: cardsync_core::CardId::from_u128(n),
            kind: "task".into(),
            fields: [("assignee".to_owned(), "ana".into())].into(),
        });
        ops.push(place(n, TODO));
    }
    let out = submit(room, 1, ana, &ops);
    assert!(matches!(out.as_slice(), [Message::Ack { .. }]), "{out:?}");
}

#[test]
fn each_validator_refuses_with_its_code_and_nothing_is_applied() {
    let mut room = open(&[]);
    join(&mut room, 1, "admin:ana", PROTOCOL_VERSION, 1);
    join(&mut room, 2, "editor:bo", PROTOCOL_VERSION, 2);
    join(&mut room, 9, "editor", PROTOCOL_VERSION, 3);
    let mut ana = Client::with_schema(1, schema());
    setup(&mut room, &mut ana);
    let cases: [(u64, Vec<Op>, &str); 4] = [
        (1, vec![place(1, DOING), place(2, DOING)], "wip_limit"),
        (
            1,
            vec![
                super::set(3, "planned", point(52.5, 13.4)),
                super::set(3, "position", point(52.51, 13.4)),
            ],
            "too_far",
        ),
        (1, vec![super::set(3, "progress", 75.0)], "not_inspected"),
        (2, vec![place(1, DONE)], "not_assignee"),
    ];
    for (i, (peer, ops, expected)) in cases.into_iter().enumerate() {
        let before = room.doc().export();
        // A fresh client id per case: a rejected one is abandoned (docs/design.md §5).
        let mut fresh = Client::with_schema(10 + i as u64, schema());
        fresh
            .doc
            .apply_update_v1(&room.doc().snapshot_v1())
            .unwrap();
        let out = submit(&mut room, peer, &mut fresh, &ops);
        let (code, reason) = rejection(&out).unwrap_or_else(|| panic!("{expected}: {out:?}"));
        assert_eq!(code, RejectCode::RejectedByValidator, "{reason}");
        assert_eq!(Refused::code_of(&reason), Some(expected), "{reason}");
        assert_eq!(room.doc().export(), before, "{expected}: nothing applied");
    }
    // What the rules allow passes: ana moves her own card to Done, one card into Doing.
    let mut ana2 = Client::with_schema(40, schema());
    ana2.doc.apply_update_v1(&room.doc().snapshot_v1()).unwrap();
    let out = submit(&mut room, 1, &mut ana2, &[place(1, DONE), place(2, DOING)]);
    assert!(matches!(out.as_slice(), [Message::Ack { .. }]), "{out:?}");
    assert_eq!(room.verdicts().rejections, 4);
}

#[test]
fn a_version_1_client_gets_forbidden_with_the_same_reason() {
    let mut room = open(&[]);
    join(&mut room, 1, "admin:ana", PROTOCOL_VERSION, 1);
    join(&mut room, 2, "editor:ana", 1, 2);
    let mut ana = Client::with_schema(1, schema());
    setup(&mut room, &mut ana);
    let mut old = Client::with_schema(2, schema());
    old.doc.apply_update_v1(&room.doc().snapshot_v1()).unwrap();
    let out = submit(&mut room, 2, &mut old, &[place(1, DOING), place(2, DOING)]);
    let (code, reason) = rejection(&out).expect("a reject");
    assert_eq!(code, RejectCode::Forbidden);
    assert!(reason.starts_with("wip_limit: "), "{reason}");
    // The frame decodes with the code table version 1 knew (its first seven codes).
    let frame = Message::Reject {
        batch: BatchId { client: 2, seq: 0 },
        code,
        reason,
    }
    .encode();
    assert!(Message::decode(&frame, usize::MAX).is_ok());
}

#[test]
fn a_batch_judged_again_after_the_log_moved_meets_the_validators() {
    // Node 1 and node 2 serve one document; each lets one card into Doing, unaware of the
    // other. Node 2 appends first; node 1's append is refused and its batch judged again on
    // the log that holds node 2's card: now it overfills Doing.
    let mut origin = open(&[]);
    join(&mut origin, 1, "admin:ana", PROTOCOL_VERSION, 1);
    let mut ana = Client::with_schema(1, schema());
    setup(&mut origin, &mut ana);
    let base = origin.doc().snapshot_v1();
    let log = vec![base.clone()];
    let (mut n1, mut n2) = (open(&log), open(&log));
    join(&mut n1, 1, "editor:ana", PROTOCOL_VERSION, 21);
    join(&mut n2, 1, "editor:ana", PROTOCOL_VERSION, 22);
    let mut on1 = Client::with_schema(21, schema());
    let mut on2 = Client::with_schema(22, schema());
    on1.doc.apply_update_v1(&base).unwrap();
    on2.doc.apply_update_v1(&base).unwrap();

    let out = submit(&mut n2, 1, &mut on2, &[place(1, DOING)]);
    assert!(matches!(out.as_slice(), [Message::Ack { .. }]), "{out:?}");
    let entry = n2.doc().diff_v1(&n1.doc().state_vector()).unwrap();

    let (message, _, _) = on1.batch(&[place(2, DOING)]);
    n1.handle_message(Instant(1), PeerId(1), &message.encode())
        .unwrap();
    assert_eq!(persists(&drain(&mut n1)), 1, "accepted on node 1's state");
    n1.handle_log_moved(Instant(3), [base.as_slice(), entry.as_slice()])
        .unwrap();
    let out = to(&drain(&mut n1), PeerId(1));
    let (code, reason) = rejection(&out).expect("judged again and refused");
    assert_eq!(code, RejectCode::RejectedByValidator);
    assert_eq!(Refused::code_of(&reason), Some("wip_limit"));
    assert_eq!(n1.doc().export(), n2.doc().export());
}
