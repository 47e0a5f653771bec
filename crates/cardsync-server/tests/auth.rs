//! Tokens and roles end to end: refused tokens get a reason and a close; viewers cannot
//! write, and their rejected edits roll back on their side only.

mod common;

use cardsync_client::ClientEvent;
use cardsync_core::{CardId, Op, Stamp, Value};
use cardsync_server::auth::{Claims, Secret, mint, unix_now};
use cardsync_sync::SyncEvent;
use cardsync_sync::protocol::{Message, RejectCode, close_code};
use cardsync_sync::room::Role;
use common::*;

fn hello(token: &str) -> Message {
    hello_from(token, 77)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_missing_expired_and_foreign_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let url = server.url("board");
    let secret = Secret::new(SECRET.to_vec()).unwrap();
    let expired = mint(
        &secret,
        &Claims {
            doc: "board".into(),
            role: Role::Editor,
            exp: unix_now() - 1,
            sub: None,
        },
    );
    let other_secret = Secret::new(vec![9; 32]).unwrap();
    let forged = mint(
        &other_secret,
        &Claims {
            doc: "board".into(),
            role: Role::Admin,
            exp: unix_now() + 60,
            sub: None,
        },
    );
    let cases = [
        ("garbage", "not-a-token".to_owned(), "invalid token"),
        ("missing", String::new(), "invalid token"),
        ("forged", forged, "invalid token"),
        ("expired", expired, "token expired"),
        (
            "other document",
            token("another-board", Role::Admin),
            "no access to this document",
        ),
    ];
    for (case, bad, reason) in cases {
        let mut ws = raw(&url).await;
        send(&mut ws, &hello(&bad)).await;
        let denied = expect_message(&mut ws, |m| match m {
            Message::AuthDenied { reason } => Some(reason),
            _ => None,
        })
        .await;
        assert_eq!(denied, reason, "{case}");
        let (code, why) = expect_close(&mut ws).await;
        assert_eq!(
            (code, why.as_str()),
            (close_code::POLICY_VIOLATION, "auth_denied"),
            "{case}"
        );
    }

    // A stock client (no hello) without a token is refused too: no anonymous access. It is
    // told what it lacks, and how a stock client brings it.
    let mut ws = raw(&url).await;
    send(
        &mut ws,
        &Message::SyncStep1 {
            state_vector: vec![0],
        },
    )
    .await;
    let reason = expect_message(&mut ws, |m| match m {
        Message::AuthDenied { reason } => Some(reason),
        _ => None,
    })
    .await;
    assert!(reason.starts_with("token missing"), "{reason}");
    let (code, _) = expect_close(&mut ws).await;
    assert_eq!(code, close_code::POLICY_VIOLATION);

    // A stock client with `?token=` (as y-websocket's `params` send it) syncs.
    let mut ws = raw(&format!("{url}?token={}", token("board", Role::Viewer))).await;
    send(
        &mut ws,
        &Message::SyncStep1 {
            state_vector: vec![0],
        },
    )
    .await;
    expect_message(&mut ws, |m| {
        matches!(m, Message::SyncStep2 { .. }).then_some(())
    })
    .await;

    // A good token is welcomed with its role.
    let mut ws = raw(&url).await;
    send(&mut ws, &hello(&token("board", Role::Admin))).await;
    let role = expect_message(&mut ws, |m| match m {
        Message::Welcome { role, .. } => Some(role),
        _ => None,
    })
    .await;
    assert_eq!(role, "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_write_is_rejected_and_rolled_back_on_the_viewer() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(dir.path(), "", 0);
    let url = server.url("board");
    let (editor, _) = client(&url, "board", Role::Editor, None).await;
    let (viewer, mut viewer_events) = client(&url, "board", Role::Viewer, None).await;
    settled(&editor, "editor online").await;
    settled(&viewer, "viewer online").await;
    let card = CardId::from_u128(7);
    let create = Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    };
    editor
        .apply(Stamp::new(1, "ed"), vec![create])
        .await
        .unwrap();
    eventually(&viewer, "the viewer sees the card", move |s| {
        s.local().card(card).is_some()
    })
    .await;

    let title = Op::SetField {
        card,
        field: "title".into(),
        value: Value::from("hijacked"),
    };
    let batch = viewer
        .apply(Stamp::new(2, "viewer"), vec![title])
        .await
        .unwrap()
        .unwrap();
    // Optimistic at first...
    let (rejected, code) = next_event(&mut viewer_events, "the rejection", |e| match e {
        ClientEvent::Sync(SyncEvent::Rejected { rejection, .. }) => {
            Some((rejection.batch, rejection.code))
        }
        _ => None,
    })
    .await;
    assert_eq!((rejected, code), (batch, RejectCode::Forbidden));
    // ...then rolled back, on the viewer, and never seen by anyone else.
    let status = viewer.status();
    assert_eq!(status.session.pending, 0);
    assert_eq!(
        status.session.last_rejection.unwrap().code,
        RejectCode::Forbidden
    );
    let no_title = move |s: &cardsync_sync::session::ClientSession| {
        s.local()
            .card(card)
            .is_some_and(|c| !c.fields.contains_key("title"))
    };
    assert!(viewer.read(no_title).await.unwrap());
    // The editor's next write reaches the viewer, proving the room is still in sync.
    let votes = Op::Increment {
        card,
        field: "votes".into(),
        by: 2,
    };
    editor
        .apply(Stamp::new(3, "ed"), vec![votes])
        .await
        .unwrap();
    settled(&editor, "editor acked").await;
    let voted = move |s: &cardsync_sync::session::ClientSession| {
        s.local()
            .card(card)
            .and_then(|c| c.fields.get("votes").cloned())
            == Some(cardsync_core::FieldValue::Counter(2))
    };
    eventually(&viewer, "the viewer sees the votes", voted).await;
    assert!(editor.read(no_title).await.unwrap());
    assert_eq!(
        editor.read(|s| s.local().export()).await.unwrap(),
        viewer.read(|s| s.local().export()).await.unwrap()
    );
}
