//! A batch larger than the server's limit (from its welcome) is refused by the session itself,
//! as `too_large`, and rolled back: never sent, so no socket is closed on it again and again.

use super::*;

fn welcome(h: &mut Harness, max: u64) {
    h.client.handle_connected(NOW);
    let welcome = Message::Welcome {
        version: 1,
        role: "editor".into(),
        max_update_bytes: Some(max),
    };
    h.client.handle_frame(NOW, &welcome.encode()).unwrap();
    h.drive();
}

fn too_large(events: &[SyncEvent]) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(e, SyncEvent::Rejected { rejection, .. } if rejection.code == RejectCode::TooLarge)
        })
        .count()
}

#[test]
fn a_batch_over_the_servers_limit_is_rejected_here_and_never_sent() {
    let mut h = Harness::new(11);
    welcome(&mut h, 1_000);
    let big = "x".repeat(2_000);
    h.client.apply(NOW, &stamp(), &[create(1, &big)]).unwrap();
    h.drive();
    assert!(h.submitted.is_empty(), "sent: {:?}", h.submitted.len());
    assert_eq!(too_large(&h.events()), 1);
    assert_eq!(title(h.client.local(), 1), None);
    // A batch within the limit goes out as usual.
    h.client
        .apply(NOW, &stamp(), &[create(2, "small")])
        .unwrap();
    h.drive();
    assert_eq!(h.submitted.len(), 1);
    h.ack_all();
    assert_eq!(
        title(h.client.local(), 2),
        Some(FieldValue::Register("small".into()))
    );
    assert_eq!(h.client.status(NOW).pending, 0);
}

#[test]
fn a_batch_made_offline_is_judged_by_the_limit_at_the_next_welcome() {
    let mut h = Harness::new(12);
    let big = "x".repeat(2_000);
    h.client.apply(NOW, &stamp(), &[create(1, &big)]).unwrap();
    h.client
        .apply(NOW, &stamp(), &[create(2, "small")])
        .unwrap();
    h.drive();
    assert_eq!(h.client.status(NOW).pending, 2);
    welcome(&mut h, 1_000);
    assert_eq!(too_large(&h.events()), 1);
    assert_eq!(h.submitted.len(), 1, "only the small one");
    h.ack_all();
    assert_eq!(title(h.client.local(), 1), None);
    assert_eq!(
        title(h.client.local(), 2),
        Some(FieldValue::Register("small".into()))
    );
    assert_eq!(h.client.confirmed().export(), h.client.local().export());
}
