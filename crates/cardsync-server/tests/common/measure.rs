//! The workloads the ignored measurement tests share: E1 (one op on client A to the change
//! event on client B) and E2 (many clients voting at once, acks timed). One node or several,
//! SQLite or PostgreSQL, differ only in where the clients connect, so the loops live here once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cardsync_client::{Client, ClientEvent, ClientEvents};
use cardsync_core::{CardId, Op, Stamp};
use cardsync_sync::SyncEvent;
use cardsync_sync::protocol::BatchId;

use super::{eventually, next_event, settled};

/// An environment variable as a number, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn vote(card: CardId) -> Op {
    Op::Increment {
        card,
        field: "votes".into(),
        by: 1,
    }
}

fn create(card: CardId) -> Op {
    Op::CreateCard {
        card,
        kind: "task".into(),
        fields: Default::default(),
    }
}

/// E1: `a` creates a card, then votes on it `ops` times, 20 ms apart (under the default
/// batch rate); each sample is one vote's time to `b`'s change event. Returns the card.
pub async fn op_to_event(
    a: &Client,
    b: &Client,
    b_events: &mut ClientEvents,
    ops: u64,
) -> (CardId, Vec<Duration>) {
    let card = CardId::from_u128(1);
    a.apply(Stamp::new(0, "a"), vec![create(card)])
        .await
        .unwrap();
    eventually(b, "b has the card", move |s| s.local().card(card).is_some()).await;
    while b_events.try_recv().is_ok() {}
    let mut samples = Vec::new();
    for i in 0..ops {
        let start = Instant::now();
        a.apply(Stamp::new(i + 1, "a"), vec![vote(card)])
            .await
            .unwrap();
        next_event(b_events, "b's change event", |e| {
            matches!(e, ClientEvent::Changes(_)).then_some(())
        })
        .await;
        samples.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (card, samples)
}

/// E2's bookkeeping: when each batch was sent, each ack's latency, and how many acks came.
#[derive(Clone, Default)]
pub struct Acks {
    sent: Arc<Mutex<HashMap<BatchId, Instant>>>,
    /// Apply to `Acked`, per acked batch.
    pub latencies: Arc<Mutex<Vec<Duration>>>,
    /// Batches acked so far.
    pub acked: Arc<AtomicUsize>,
}

impl Acks {
    /// Counts `events`' acks and times them against the sends, until the client stops.
    pub fn watch(&self, mut events: ClientEvents) {
        let acks = self.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let ClientEvent::Sync(SyncEvent::Acked(ids)) = event {
                    let now = Instant::now();
                    acks.acked.fetch_add(ids.len(), Ordering::Relaxed);
                    let sent = acks.sent.lock().unwrap();
                    let mut latencies = acks.latencies.lock().unwrap();
                    latencies.extend(ids.iter().filter_map(|id| sent.get(id)).map(|t| now - *t));
                }
            }
        });
    }

    /// E2's load, open loop: every client creates its card, submits `batches` votes at once
    /// and waits until all are acked. Returns the clients (to keep their connections).
    pub async fn run(&self, clients: Vec<Client>, batches: usize) -> Vec<Client> {
        let mut tasks = Vec::new();
        for (i, client) in clients.into_iter().enumerate() {
            let sent = Arc::clone(&self.sent);
            tasks.push(tokio::spawn(async move {
                let card = CardId::from_u128(i as u128 + 1);
                client
                    .apply(Stamp::new(0, "load"), vec![create(card)])
                    .await
                    .unwrap();
                for n in 0..batches {
                    let before = Instant::now();
                    let id = client
                        .apply(Stamp::new(n as u64 + 1, "load"), vec![vote(card)])
                        .await
                        .unwrap();
                    if let Some(id) = id {
                        sent.lock().unwrap().insert(id, before);
                    }
                }
                settled(&client, "all acked").await;
                client
            }));
        }
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.unwrap());
        }
        done
    }
}
