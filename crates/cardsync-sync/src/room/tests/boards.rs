//! Boards in the room: valid board batches are acked; placements in unknown or removed
//! columns, of cards the board kind does not allow, and malformed entries are refused with
//! typed reasons, whether a cardsync client or raw yrs wrote them.

use std::collections::HashMap;

use cardsync_core::layout::{self, BOARDS};
use cardsync_core::{BoardId, BoardKind, ColumnId, Op};
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, Transact, Update};

use super::*;
use crate::protocol::RejectCode;

const BOARD: BoardId = BoardId::from_u128(900);

fn col(n: u128) -> ColumnId {
    ColumnId::from_u128(950 + n)
}

fn board_schema() -> Schema {
    schema()
        .card("note", CardKind::default())
        .board(
            "kanban",
            BoardKind {
                cards: vec!["task".into()],
            },
        )
        .board("scrum", BoardKind::default())
}

/// A room with an editor (peer 1, client 7) whose board has columns 0 and 1 and task 1 in
/// column 0, and a note card 2.
fn seeded() -> (Driver, Client) {
    let config = RoomConfig {
        rejection_rate: crate::room::RateLimit {
            burst: 0,
            refill_ms: 0,
        },
        ..RoomConfig::default()
    };
    let mut d = Driver::with_schema(config, board_schema());
    d.join(1, "edit", 7);
    let mut alice = Client::with_schema(7, board_schema());
    let (msg, ..) = alice.batch(&[
        create_task(1, "todo"),
        Op::CreateCard {
            card: card(2),
            kind: "note".into(),
            fields: Default::default(),
        },
        Op::CreateBoard {
            board: BOARD,
            kind: "kanban".into(),
        },
        Op::AddColumn {
            board: BOARD,
            column: col(0),
            name: "todo".into(),
            index: 0,
        },
        Op::AddColumn {
            board: BOARD,
            column: col(1),
            name: "done".into(),
            index: 1,
        },
        Op::PlaceCard {
            board: BOARD,
            card: card(1),
            column: col(0),
            index: 0,
        },
    ]);
    let actions = d.send(PeerId(1), &msg);
    assert!(super::batches::rejects(&actions, PeerId(1)).is_empty());
    d.persist_all();
    (d, alice)
}

/// Writes `key → value` into the room document's `boards` root with raw yrs as `client`,
/// submits it, and returns the reject, if any.
fn submit_raw(d: &mut Driver, client: u64, key: &str, value: Any) -> Option<(RejectCode, String)> {
    let doc = Doc::with_client_id(client);
    let boards = doc.get_or_insert_map(BOARDS);
    let update = {
        let mut txn = doc.transact_mut();
        txn.apply_update(Update::decode_v1(&d.room.doc().snapshot_v1()).unwrap())
            .unwrap();
        boards.insert(&mut txn, key, value);
        txn.encode_update_v1()
    };
    let batch = BatchId { client, seq: 0 };
    let actions = d.send(PeerId(1), &Message::SubmitBatch { batch, update });
    to(&actions, PeerId(1)).into_iter().find_map(|m| match m {
        Message::Reject { code, reason, .. } => Some((code, reason)),
        _ => None,
    })
}

fn placement(column: ColumnId, order: &str) -> Any {
    Any::from(HashMap::from([
        (layout::COLUMN.to_owned(), Any::from(column.to_string())),
        (layout::ORDER.to_owned(), Any::from(order)),
    ]))
}

#[test]
fn a_board_batch_is_acked_and_moves_are_too() {
    let (mut d, mut alice) = seeded();
    let (msg, ..) = alice.batch(&[Op::PlaceCard {
        board: BOARD,
        card: card(1),
        column: col(1),
        index: 0,
    }]);
    let actions = d.send(PeerId(1), &msg);
    assert!(super::batches::rejects(&actions, PeerId(1)).is_empty());
    d.persist_all();
    let view = d.room.doc().board(BOARD).unwrap();
    assert_eq!(view.columns[1].cards, [card(1)]);
}

#[test]
fn invalid_placements_are_refused_with_typed_reasons() {
    let (mut d, _) = seeded();
    let key = layout::placement_entry(&BOARD.to_string(), &card(1).to_string());
    let refused = |d: &mut Driver, client, key: &str, value: Any, words: &str| {
        let (code, reason) = submit_raw(d, client, key, value).expect("refused");
        assert_eq!(code, RejectCode::SchemaViolation, "{reason}");
        assert!(reason.contains(words), "{reason:?} lacks {words:?}");
    };
    refused(&mut d, 40, &key, placement(col(7), "a0"), "has no column");
    refused(
        &mut d,
        41,
        &key,
        placement(col(0), "not a key"),
        "is invalid",
    );
    refused(&mut d, 42, &key, Any::from("a0"), "is invalid");
    let note = layout::placement_entry(&BOARD.to_string(), &card(2).to_string());
    refused(
        &mut d,
        43,
        &note,
        placement(col(0), "a0"),
        "may not hold card",
    );
    let elsewhere =
        layout::placement_entry(&BoardId::from_u128(1).to_string(), &card(1).to_string());
    refused(
        &mut d,
        44,
        &elsewhere,
        placement(col(0), "a0"),
        "does not exist",
    );
    let board = Any::from(HashMap::from([(
        layout::BOARD_KIND.to_owned(),
        Any::from("scrum"),
    )]));
    refused(&mut d, 45, &BOARD.to_string(), board, "changed kind");
    let board = Any::from(HashMap::from([(
        layout::BOARD_KIND.to_owned(),
        Any::from("nope"),
    )]));
    refused(
        &mut d,
        47,
        &BoardId::from_u128(2).to_string(),
        board,
        "unknown board kind",
    );
    // A valid raw placement (a stock Yjs peer moving a card) passes.
    assert_eq!(submit_raw(&mut d, 46, &key, placement(col(1), "a5")), None);
    d.persist_all();
    assert_eq!(
        d.room.doc().card_place(BOARD, card(1)).map(|p| p.column),
        Some(col(1))
    );
}

#[test]
fn a_move_into_a_column_removed_meanwhile_is_refused_and_the_client_agrees() {
    let (mut d, mut alice) = seeded();
    let mut bob = Client::with_schema(8, board_schema());
    bob.doc
        .apply_update_v1(&d.room.doc().snapshot_v1())
        .unwrap();
    d.join(2, "edit", 8);
    // Alice removes column 1; Bob, not having seen it, moves the task there.
    let (remove, ..) = alice.batch(&[Op::RemoveColumn {
        board: BOARD,
        column: col(1),
    }]);
    d.send(PeerId(1), &remove);
    d.persist_all();
    let (moved, ..) = bob.batch(&[Op::PlaceCard {
        board: BOARD,
        card: card(1),
        column: col(1),
        index: 0,
    }]);
    let actions = d.send(PeerId(2), &moved);
    let rejects = super::batches::rejects(&actions, PeerId(2));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0].1, RejectCode::SchemaViolation);
    // Bob's own validation, once it sees the removal, refuses the same move.
    bob.doc
        .apply_update_v1(&d.room.doc().snapshot_v1())
        .unwrap();
    let error = bob
        .doc
        .apply(
            &cardsync_core::Stamp::new(2, "bob"),
            &[Op::PlaceCard {
                board: BOARD,
                card: card(1),
                column: col(1),
                index: 0,
            }],
        )
        .unwrap_err();
    assert_eq!(error.code(), "unknown_column");
}
