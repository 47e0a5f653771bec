//! A session adopting the store another replica of the document left (a tab taking over).

use super::*;

#[test]
fn an_adopted_store_joins_the_outbox_and_nothing_either_side_made_is_lost() {
    // The owner made two edits offline, durable in its store, then closed.
    let mut owner = Harness::new(1);
    owner
        .client
        .apply(NOW, &stamp(), &[create(1, "owner's")])
        .unwrap();
    owner
        .client
        .apply(NOW, &stamp(), &[create(2, "owner's too")])
        .unwrap();
    owner.drive();
    let left = owner.store.state().clone();
    assert_eq!(left.outbox.len(), 2);

    // A follower tab made its own edit in memory, then takes the store over.
    let mut tab = Harness::new(2);
    tab.client
        .apply(NOW, &stamp(), &[create(3, "follower's")])
        .unwrap();
    tab.drive();
    tab.store = MemoryStore::default();
    for update in &left.confirmed {
        tab.store
            .persist(&PersistOp::AppendConfirmed(update.clone()))
            .unwrap();
    }
    for batch in &left.outbox {
        tab.store
            .persist(&PersistOp::PutBatch(batch.clone()))
            .unwrap();
    }
    tab.client.adopt(NOW, left).unwrap();
    tab.drive();
    for card in 1..=3 {
        assert!(
            title(tab.client.local(), card).is_some(),
            "card {card} shows"
        );
    }
    assert_eq!(
        tab.store.state().outbox.len(),
        3,
        "the store holds all three batches"
    );

    // A restart from the adopted store restores all three; syncing lands each once.
    let restored = session(3, tab.store.state().clone());
    assert_eq!(restored.local().export(), tab.client.local().export());
    tab.connect();
    assert_eq!(tab.submitted.len(), 3);
    tab.ack_all();
    assert_eq!(tab.client.status(NOW).pending, 0);
    assert_eq!(tab.server.export(), tab.client.local().export());
}

/// The ids each side retired survive the takeover: the adopted store learns the follower's,
/// and the follower keeps the owner's for its own next draws.
#[test]
fn adoption_keeps_the_retired_client_ids_of_both_sides() {
    let mut left = Persisted::default();
    left.retired.push(41);
    let mut tab = Harness::new(2);
    tab.client.retired.push(42);
    tab.client.adopt(NOW, left).unwrap();
    tab.drive();
    let mut retired = tab.store.state().retired.clone();
    retired.sort_unstable();
    assert_eq!(retired, [41, 42]);
    assert!(tab.client.retired.contains(&41));
}
