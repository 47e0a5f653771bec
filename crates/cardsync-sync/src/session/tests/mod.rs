//! Session behaviour against a minimal stand-in server (a `CardDoc` that acks or rejects on
//! demand). The real server room and the network simulation test the full protocol.
//! `verdicts.rs`: what is and is not a verdict (rate limits, coalesced batches), client ids
//! across restarts, durable rollback reports.

mod adopt;
mod oversize;
mod stock;
mod verdicts;

use std::sync::Arc;

use cardsync_core::{
    CardDoc, CardId, CardKind, ChangeEvent, FieldDef, FieldKind, FieldValue, Op, Origin, Schema,
    Stamp, Value, ValueType,
};

use super::*;
use crate::connection::SplitMix64;
use crate::outbox::{MemoryStore, OutboxStore};
use crate::protocol::{Message, RejectCode};

fn schema() -> Arc<Schema> {
    Arc::new(
        Schema::new(1).card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String))
                .field("votes", FieldDef::new(FieldKind::Counter)),
        ),
    )
}

fn session(seed: u64, persisted: Persisted) -> ClientSession {
    let config = SessionConfig {
        token: "t".into(),
        ..SessionConfig::default()
    };
    session_with(config, seed, persisted)
}

fn session_with(config: SessionConfig, seed: u64, persisted: Persisted) -> ClientSession {
    ClientSession::new(schema(), config, persisted, Box::new(SplitMix64::new(seed))).unwrap()
}

const NOW: Instant = Instant(1_000);

fn stamp() -> Stamp {
    Stamp::new(1, "me")
}

/// The stand-in server plus the driver duties: persists into a MemoryStore, confirms at once.
struct Harness {
    client: ClientSession,
    store: MemoryStore,
    server: CardDoc,
    submitted: Vec<(BatchId, Vec<u8>)>,
}

impl Harness {
    fn new(seed: u64) -> Self {
        Self {
            client: session(seed, Persisted::default()),
            store: MemoryStore::default(),
            server: CardDoc::with_schema(schema(), 999).unwrap(),
            submitted: Vec::new(),
        }
    }

    /// Drains actions: persists and confirms, records submitted batches, answers sync frames.
    fn drive(&mut self) {
        while let Some(action) = self.client.poll_action() {
            match action {
                SessionAction::Persist { seq, op } => {
                    self.store.persist(&op).unwrap();
                    self.client.handle_persisted(NOW, seq);
                }
                SessionAction::Send(frame) => match Message::decode(&frame, usize::MAX).unwrap() {
                    Message::SubmitBatch { batch, update } => self.submitted.push((batch, update)),
                    Message::SyncStep1 { state_vector } => {
                        let update = self.server.diff_v1(&state_vector).unwrap();
                        self.client
                            .handle_frame(NOW, &Message::SyncStep2 { update }.encode())
                            .unwrap();
                    }
                    _ => {}
                },
            }
        }
    }

    fn connect(&mut self) {
        self.client.handle_connected(NOW);
        let welcome = Message::Welcome {
            version: 1,
            role: "editor".into(),
            max_update_bytes: Some(1 << 20),
        };
        self.client.handle_frame(NOW, &welcome.encode()).unwrap();
        self.drive();
    }

    fn ack_all(&mut self) {
        for (batch, update) in std::mem::take(&mut self.submitted) {
            self.server.apply_update_v1(&update).unwrap();
            let ack = Message::Ack { batch, clock: 0 };
            self.client.handle_frame(NOW, &ack.encode()).unwrap();
        }
        self.drive();
    }

    fn events(&mut self) -> Vec<SyncEvent> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }
}

fn create(card: u128, title: &str) -> Op {
    Op::CreateCard {
        card: CardId::from_u128(card),
        kind: "task".into(),
        fields: [("title".to_owned(), Value::from(title))].into(),
    }
}

fn title(doc: &CardDoc, card: u128) -> Option<FieldValue> {
    doc.card(CardId::from_u128(card))?
        .fields
        .get("title")
        .cloned()
}

#[test]
fn batches_are_sent_only_when_durable_and_confirmed_on_ack() {
    let mut h = Harness::new(1);
    h.client.apply(NOW, &stamp(), &[create(1, "a")]).unwrap();
    // Not connected: persisted, not sent.
    assert!(matches!(
        h.client.poll_action(),
        Some(SessionAction::Persist { seq: 1, .. })
    ));
    assert!(h.client.poll_action().is_none());
    h.client.handle_persisted(NOW, 1);
    h.connect();
    assert_eq!(h.submitted.len(), 1);
    assert_eq!(h.client.status(Instant(1_500)).oldest_pending_ms, Some(500));
    h.ack_all();
    assert_eq!(h.client.status(NOW).pending, 0);
    assert_eq!(h.client.confirmed().export(), h.client.local().export());
    assert!(h.store.state().outbox.is_empty());
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, SyncEvent::Acked(ids) if ids.len() == 1))
    );
}

#[test]
fn a_rejection_rolls_back_only_the_rejected_batch() {
    let mut h = Harness::new(2);
    h.connect();
    let first = h
        .client
        .apply(NOW, &stamp(), &[create(1, "keep")])
        .unwrap()
        .unwrap();
    h.drive();
    h.ack_all();
    let bad = h
        .client
        .apply(NOW, &stamp(), &[create(2, "bad")])
        .unwrap()
        .unwrap();
    let set = Op::SetField {
        card: CardId::from_u128(1),
        field: "title".into(),
        value: "kept edit".into(),
    };
    h.client
        .apply(NOW, &stamp(), std::slice::from_ref(&set))
        .unwrap();
    let on_bad = Op::Increment {
        card: CardId::from_u128(2),
        field: "votes".into(),
        by: 1,
    };
    h.client
        .apply(NOW, &stamp(), std::slice::from_ref(&on_bad))
        .unwrap();
    h.drive();
    assert_eq!(h.submitted.len(), 3);
    h.submitted.clear();
    let old_client = h.client.local().client_id();
    h.events();

    let reject = Message::Reject {
        batch: bad,
        code: RejectCode::Forbidden,
        reason: "no".into(),
    };
    h.client.handle_frame(NOW, &reject.encode()).unwrap();
    h.drive();

    let local = h.client.local();
    assert_ne!(local.client_id(), old_client, "fresh client id");
    assert!(
        local.card(CardId::from_u128(2)).is_none(),
        "the rejected card vanished"
    );
    assert_eq!(
        title(local, 1),
        Some(FieldValue::Register("kept edit".into())),
        "later independent edit kept"
    );
    let events = h.events();
    let vanished = events.iter().find_map(|e| match e {
        SyncEvent::Rejected {
            vanished,
            rejection,
        } => Some((vanished.clone(), rejection.code)),
        _ => None,
    });
    assert_eq!(
        vanished,
        Some((vec![create(2, "bad"), on_bad], RejectCode::Forbidden))
    );
    let changes: Vec<_> = std::iter::from_fn(|| h.client.poll_changes()).collect();
    assert!(changes.iter().any(|b| b.origin == Origin::Rollback
        && b.events.contains(&ChangeEvent::CardDeleted {
            card: CardId::from_u128(2)
        })));
    // The surviving edit is resubmitted under the new client id.
    assert_eq!(h.submitted.len(), 1);
    assert_eq!(h.submitted[0].0.client, h.client.local().client_id());
    // The old client id's dependents are rejected by the server; that changes nothing now.
    let late = Message::Reject {
        batch: BatchId {
            client: old_client,
            seq: 2,
        },
        code: RejectCode::DependsOnRejected,
        reason: String::new(),
    };
    h.client.handle_frame(NOW, &late.encode()).unwrap();
    h.ack_all();
    assert_eq!(h.client.status(NOW).pending, 0);
    assert_eq!(h.server.export(), h.client.local().export());
    assert_eq!(h.client.status(NOW).last_rejection.unwrap().batch, bad);
    let _ = first;
    // Undo cannot bring the rejected card back: the history went with the old doc.
    assert!(!h.client.undo(NOW, &stamp()).unwrap());
}

#[test]
fn remote_overwrites_of_pending_writes_are_conflicts() {
    let mut h = Harness::new(3);
    h.connect();
    h.client.apply(NOW, &stamp(), &[create(1, "base")]).unwrap();
    h.drive();
    h.ack_all();
    // Another writer (a higher client id wins ties in yrs) sets the title on the server...
    let mut other = CardDoc::load_v1(
        schema(),
        cardsync_core::MAX_REPLICA_CLIENT_ID,
        &h.server.snapshot_v1(),
    )
    .unwrap();
    let before = other.state_vector();
    other
        .set_field(
            &Stamp::new(2, "them"),
            CardId::from_u128(1),
            "title",
            "theirs",
        )
        .unwrap();
    let remote = other.diff_v1(&before).unwrap();
    // ...while ours is pending.
    let set = Op::SetField {
        card: CardId::from_u128(1),
        field: "title".into(),
        value: "ours".into(),
    };
    h.client.apply(NOW, &stamp(), &[set]).unwrap();
    h.drive();
    h.events();
    h.client
        .handle_frame(NOW, &Message::Update { update: remote }.encode())
        .unwrap();
    let conflicts: Vec<Conflict> = h.client.conflicts().entries().cloned().collect();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(
        (c.local.clone(), c.remote.clone()),
        (Value::from("ours"), Value::from("theirs"))
    );
    assert_eq!(
        Some(FieldValue::Register(c.winner.clone())),
        title(h.client.local(), 1)
    );
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, SyncEvent::Conflict(_)))
    );
}

#[test]
fn a_restart_resumes_with_nothing_lost_or_duplicated() {
    let mut h = Harness::new(4);
    h.connect();
    h.client
        .apply(NOW, &stamp(), &[create(1, "acked")])
        .unwrap();
    h.drive();
    h.ack_all();
    h.client.handle_disconnected(NOW).unwrap();
    for i in 0..5 {
        let op = Op::Increment {
            card: CardId::from_u128(1),
            field: "votes".into(),
            by: 1,
        };
        h.client.apply(Instant(2_000 + i), &stamp(), &[op]).unwrap();
    }
    h.drive();
    let before = h.client.local().export();

    // The process dies; a new one starts from the store.
    let persisted = h.store.load().unwrap();
    assert_eq!(persisted.outbox.len(), 5);
    let mut h2 = Harness {
        client: session(5, persisted),
        store: h.store.clone(),
        server: h.server,
        submitted: Vec::new(),
    };
    assert_eq!(h2.client.local().export(), before);
    assert_eq!(
        h2.client.status(Instant(3_000)).oldest_pending_ms,
        Some(1_000)
    );
    h2.connect();
    assert_eq!(h2.submitted.len(), 5, "restored batches go out, each once");
    h2.ack_all();
    assert_eq!(
        h2.server.card(CardId::from_u128(1)).unwrap().fields["votes"],
        FieldValue::Counter(5)
    );
    assert_eq!(h2.server.export(), h2.client.local().export());
}

#[test]
fn offline_runs_are_compacted_and_lost_acks_are_recovered_by_sync() {
    let mut h = Harness::new(6);
    h.client.apply(NOW, &stamp(), &[create(1, "x")]).unwrap();
    for _ in 0..100 {
        let op = Op::Increment {
            card: CardId::from_u128(1),
            field: "votes".into(),
            by: 1,
        };
        h.client.apply(NOW, &stamp(), &[op]).unwrap();
    }
    h.drive();
    let pending = h.client.status(NOW).pending;
    assert!(
        pending < SessionConfig::default().compact_after,
        "compacted to {pending}"
    );
    h.connect();
    // The server applies everything but every ack is lost.
    for (_, update) in std::mem::take(&mut h.submitted) {
        h.server.apply_update_v1(&update).unwrap();
    }
    h.client.handle_disconnected(NOW).unwrap();
    h.connect(); // step 2 brings back what the server holds
    assert_eq!(h.client.status(NOW).pending, 0);
    assert_eq!(
        h.client.local().card(CardId::from_u128(1)).unwrap().fields["votes"],
        FieldValue::Counter(100)
    );
}
