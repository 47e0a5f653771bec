//! A server whose stderr reader went away (a `| tee` that exited, a log shipper restarting)
//! keeps serving: a log line it cannot write is dropped, never a panic in the task that logged
//! it. Before the fix the first failed write panicked inside whichever task was logging, so a
//! bad-token connection took its room's task down with every healthy peer in it, and SIGTERM was
//! ignored because the signal handler logs before it shuts down.

mod common;

use std::time::{Duration, Instant};

use cardsync_client::ClientEvent;
use cardsync_core::{CardId, Op, Stamp};
use cardsync_sync::protocol::close_code;
use cardsync_sync::room::Role;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stderr_loses_log_lines_not_rooms_or_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with_logs(dir.path(), "", 0, Logs::BrokenPipe);
    let url = server.url("board");

    // A healthy peer in the room, with a write acked.
    let (healthy, mut events) = client(&url, "board", Role::Editor, None).await;
    let card = CardId::from_u128(1);
    let create = Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    };
    healthy
        .apply(Stamp::new(1, "ada"), vec![create])
        .await
        .unwrap();
    settled(&healthy, "the first write acked").await;

    // A bad token in the same room: refused, and closed alone.
    let mut intruder = raw(&url).await;
    send(&mut intruder, &hello_from("not-a-token", 77)).await;
    let (code, why) = expect_close(&mut intruder).await;
    assert_eq!(
        (code, why.as_str()),
        (close_code::POLICY_VIOLATION, "auth_denied")
    );
    drop(intruder);

    // The healthy peer is still served: another write is acked, on the same connection.
    let title = Op::SetField {
        card,
        field: "title".into(),
        value: "still here".into(),
    };
    healthy
        .apply(Stamp::new(2, "ada"), vec![title])
        .await
        .unwrap();
    settled(&healthy, "the second write acked").await;
    server.connections_settle_at(1).await;
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, ClientEvent::Closed { .. }),
            "the healthy peer's socket was closed: {event:?}"
        );
    }

    // SIGTERM still shuts the server down cleanly, and promptly.
    drop(healthy);
    let asked = Instant::now();
    assert!(server.terminate(), "the server did not exit cleanly");
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "SIGTERM took {took:?} to stop the server"
    );
}
