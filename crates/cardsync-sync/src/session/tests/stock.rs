//! Behind a stock y-websocket server: no welcome, no acks; batches go out as plain updates
//! and leave the outbox once the server's state is seen to hold them.

use super::*;

/// A stock server: answers sync step 1 with step 2, applies updates, never welcomes or acks.
/// Returns how many plain updates it received in this drive.
fn drive_stock(client: &mut ClientSession, server: &mut CardDoc) -> usize {
    let mut updates = 0;
    while let Some(action) = client.poll_action() {
        match action {
            SessionAction::Persist { seq, .. } => client.handle_persisted(NOW, seq),
            SessionAction::Send(frame) => match Message::decode(&frame, usize::MAX).unwrap() {
                Message::SyncStep1 { state_vector } => {
                    let update = server.diff_v1(&state_vector).unwrap();
                    client
                        .handle_frame(NOW, &Message::SyncStep2 { update }.encode())
                        .unwrap();
                }
                Message::Update { update } => {
                    server.apply_update_v1(&update).unwrap();
                    updates += 1;
                }
                Message::SubmitBatch { .. } => panic!("a stock server gets no batches"),
                _ => {}
            },
        }
    }
    updates
}

#[test]
fn a_stock_server_gets_plain_updates_and_its_state_acks_them_on_reconnect() {
    let mut client = session(3, Persisted::default());
    let mut server = CardDoc::with_schema(schema(), 999).unwrap();
    client
        .apply(NOW, &stamp(), &[create(1, "offline")])
        .unwrap();
    client.handle_connected(NOW);
    assert_eq!(
        drive_stock(&mut client, &mut server),
        1,
        "the offline batch went out"
    );
    assert!(
        !client.status(NOW).server_acks,
        "the status says nothing is acked"
    );

    client.apply(NOW, &stamp(), &[create(2, "online")]).unwrap();
    assert_eq!(
        drive_stock(&mut client, &mut server),
        1,
        "a live edit goes out at once"
    );
    assert_eq!(server.export(), client.local().export());
    assert_eq!(client.status(NOW).pending, 2, "no acks from a stock server");

    // On the next connection the server's step 2 holds both: they are implicitly acked.
    client.handle_disconnected(NOW).unwrap();
    client.handle_connected(NOW);
    assert_eq!(
        drive_stock(&mut client, &mut server),
        0,
        "nothing needs sending again"
    );
    assert_eq!(client.status(NOW).pending, 0);
    assert_eq!(client.confirmed().export(), server.export());
}

#[test]
fn a_batch_the_stock_server_lost_is_sent_again_on_reconnect() {
    let mut client = session(4, Persisted::default());
    let mut server = CardDoc::with_schema(schema(), 999).unwrap();
    client.handle_connected(NOW);
    drive_stock(&mut client, &mut server);
    client.apply(NOW, &stamp(), &[create(1, "lost")]).unwrap();
    // The server restarts without persistence: what it got is gone.
    let mut fresh = CardDoc::with_schema(schema(), 998).unwrap();
    let _ = drive_stock(&mut client, &mut server);
    client.handle_disconnected(NOW).unwrap();
    client.handle_connected(NOW);
    assert_eq!(
        drive_stock(&mut client, &mut fresh),
        1,
        "resent to the new server"
    );
    assert_eq!(fresh.export(), client.local().export());
}

#[test]
fn behind_a_stock_server_the_heartbeat_is_a_sync_step_1_that_acks_what_it_holds() {
    let mut client = session(5, Persisted::default());
    let mut server = CardDoc::with_schema(schema(), 999).unwrap();
    assert!(matches!(
        Message::decode(&client.heartbeat(7), usize::MAX).unwrap(),
        Message::Ping { nonce: 7 }
    ));
    client.handle_connected(NOW);
    drive_stock(&mut client, &mut server);
    client.apply(NOW, &stamp(), &[create(1, "live")]).unwrap();
    drive_stock(&mut client, &mut server);
    assert_eq!(client.status(NOW).pending, 1);

    let Message::SyncStep1 { state_vector } =
        Message::decode(&client.heartbeat(8), usize::MAX).unwrap()
    else {
        panic!("a stock server's heartbeat is a sync step 1");
    };
    let update = server.diff_v1(&state_vector).unwrap();
    client
        .handle_frame(NOW, &Message::SyncStep2 { update }.encode())
        .unwrap();
    assert_eq!(client.status(NOW).pending, 0, "the answer acked the batch");
}
