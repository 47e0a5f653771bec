//! The example validators end to end: a real server process whose configuration enables all
//! four (`[[validators]]`), and real native clients whose tokens name their users. Each
//! validator refuses one batch: the client hears `rejected_by_validator` with the
//! validator's code first in the reason, and rolls the batch back, while the other client
//! never sees it. Batches the rules allow are acked.

mod common;

use std::sync::Arc;

use cardsync_client::{Client, ClientConfig, ClientEvent, ClientEvents};
use cardsync_core::{
    BoardId, BoardKind, CardId, CardKind, ColumnId, Composite, FieldDef, Op, Schema, Shape, Stamp,
    Value, ValueType,
};
use cardsync_server::auth::{Claims, Secret, mint, unix_now};
use cardsync_sync::room::{Refused, Role};
use cardsync_sync::{RejectCode, SyncEvent};
use common::{SECRET, TestServer, eventually, fast_connection, next_event, settled};

const DOC: &str = "team-board";
const BOARD: BoardId = BoardId::from_u128(1);
const TODO: ColumnId = ColumnId::from_u128(1);
const DOING: ColumnId = ColumnId::from_u128(2);
const DONE: ColumnId = ColumnId::from_u128(3);

const CONFIG: &str = r#"
[[validators]]
docs = "team-*"
wip_limit = { column = "Doing", limit = 1 }
assignee_moves_to_done = { column = "Done", field = "assignee" }

[[validators]]
docs = "*"
distance = { kind = "task", field = "position", planned = "planned", max_metres = 100.0 }
milestone = { kind = "task", field = "progress", threshold = 50.0, flag = "inspected" }
"#;

fn schema() -> Schema {
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
                .field("position", geo())
                .field("planned", geo()),
        )
        .board("kanban", BoardKind::default())
}

fn token(sub: &str) -> String {
    let claims = Claims {
        doc: DOC.into(),
        role: Role::Editor,
        exp: unix_now() + 3600,
        sub: Some(sub.into()),
    };
    mint(&Secret::new(SECRET.to_vec()).unwrap(), &claims)
}

async fn open(server: &TestServer, sub: &str) -> (Client, ClientEvents) {
    let mut config = ClientConfig::new(server.url(DOC), token(sub));
    config.connection = fast_connection();
    Client::open(Arc::new(schema()), config).await.unwrap()
}

fn card(n: u128) -> CardId {
    CardId::from_u128(n)
}

fn place(n: u128, column: ColumnId) -> Op {
    Op::PlaceCard {
        board: BOARD,
        card: card(n),
        column,
        index: 0,
    }
}

fn set(n: u128, field: &str, value: impl Into<Value>) -> Op {
    Op::SetField {
        card: card(n),
        field: field.into(),
        value: value.into(),
    }
}

fn point(lat: f64, lon: f64) -> Value {
    Value::Object([("lat".into(), lat.into()), ("lon".into(), lon.into())].into())
}

/// The card's value of `field` as `client` holds it locally.
async fn local(client: &Client, n: u128, field: &'static str) -> Option<String> {
    client
        .read(move |s| {
            let c = s.local().card(card(n))?;
            Some(format!("{:?}", c.fields.get(field)?))
        })
        .await
        .unwrap()
}

async fn column_of(client: &Client, n: u128) -> Option<ColumnId> {
    client
        .read(move |s| s.local().card_place(BOARD, card(n)).map(|p| p.column))
        .await
        .unwrap()
}

/// Applies `ops` and waits for their rejection; returns the validator's code.
async fn refused(client: &Client, events: &mut ClientEvents, ops: Vec<Op>) -> String {
    let batch = client
        .apply(Stamp::new(2, "test"), ops)
        .await
        .unwrap()
        .unwrap();
    let rejection = next_event(events, "the validator's rejection", |e| match e {
        ClientEvent::Sync(SyncEvent::Rejected { rejection, .. }) => Some(rejection),
        _ => None,
    })
    .await;
    assert_eq!(rejection.batch, batch);
    assert_eq!(
        rejection.code,
        RejectCode::RejectedByValidator,
        "{}",
        rejection.reason
    );
    assert_eq!(
        client.status().session.pending,
        0,
        "rolled back, nothing left to send"
    );
    Refused::code_of(&rejection.reason)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_example_validator_rejects_a_real_batch_and_the_client_rolls_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_schema(dir.path(), CONFIG, &schema());
    let (ana, mut ana_events) = open(&server, "ana").await;
    let (bo, mut bo_events) = open(&server, "bo").await;

    // A board with three columns and two of ana's tasks in Todo, one planned at a point.
    let mut setup = vec![Op::CreateBoard {
        board: BOARD,
        kind: "kanban".into(),
    }];
    for (i, (column, name)) in [(TODO, "Todo"), (DOING, "Doing"), (DONE, "Done")]
        .into_iter()
        .enumerate()
    {
        setup.push(Op::AddColumn {
            board: BOARD,
            column,
            name: name.into(),
            index: i as u32,
        });
    }
    for n in 1..=2 {
        setup.push(Op::CreateCard {
            card: card(n),
            kind: "task".into(),
            fields: [
                ("assignee".to_owned(), Value::from("ana")),
                ("planned".to_owned(), point(52.5, 13.4)),
            ]
            .into(),
        });
        setup.push(place(n, TODO));
    }
    ana.apply(Stamp::new(1, "ana"), setup).await.unwrap();
    settled(&ana, "the board is acked").await;
    eventually(&bo, "bo sees the board", |s| {
        s.local().card_place(BOARD, card(2)).is_some()
    })
    .await;

    // The WIP limit: one card may enter Doing, a second may not.
    ana.apply(Stamp::new(2, "ana"), vec![place(1, DOING)])
        .await
        .unwrap();
    settled(&ana, "one card in Doing").await;
    let code = refused(&ana, &mut ana_events, vec![place(2, DOING)]).await;
    assert_eq!(code, "wip_limit");
    assert_eq!(column_of(&ana, 2).await, Some(TODO), "moved back to Todo");

    // The distance rule: 222 m from the planned point is too far; 56 m is fine.
    let code = refused(
        &ana,
        &mut ana_events,
        vec![set(2, "position", point(52.502, 13.4))],
    )
    .await;
    assert_eq!(code, "too_far");
    assert_eq!(local(&ana, 2, "position").await, None, "rolled back");
    ana.apply(
        Stamp::new(3, "ana"),
        vec![set(2, "position", point(52.5005, 13.4))],
    )
    .await
    .unwrap();
    settled(&ana, "a position near the plan").await;

    // The milestone rule: past 50 only once inspected.
    let code = refused(&ana, &mut ana_events, vec![set(2, "progress", 80.0)]).await;
    assert_eq!(code, "not_inspected");
    assert_eq!(local(&ana, 2, "progress").await, None, "rolled back");
    ana.apply(
        Stamp::new(4, "ana"),
        vec![set(2, "inspected", true), set(2, "progress", 80.0)],
    )
    .await
    .unwrap();
    settled(&ana, "progress past 50 once inspected").await;

    // Only the assignee moves to Done: bo may not, ana may.
    let code = refused(&bo, &mut bo_events, vec![place(1, DONE)]).await;
    assert_eq!(code, "not_assignee");
    assert_eq!(column_of(&bo, 1).await, Some(DOING), "moved back to Doing");
    ana.apply(Stamp::new(5, "ana"), vec![place(1, DONE)])
        .await
        .unwrap();
    settled(&ana, "ana moves her card to Done").await;
    eventually(&bo, "bo sees ana's move", |s| {
        s.local().card_place(BOARD, card(1)).map(|p| p.column) == Some(DONE)
    })
    .await;

    // Both ended on the same document, which holds none of the refused changes.
    let a = ana.read(|s| s.local().export()).await.unwrap();
    let b = bo.read(|s| s.local().export()).await.unwrap();
    assert_eq!(a, b);
    let metrics = server.metrics().await;
    assert_eq!(metrics["rejections"], 4, "{metrics}");
}
