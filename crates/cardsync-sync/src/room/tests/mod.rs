//! Tests of the room: a harness that plays the driver, and real `CardDoc` clients that make
//! the batches.

mod batches;
mod boards;
mod containers;
mod handshake;
mod hostile;
mod judgements;
mod legit;
mod limits;
mod log;
mod proptests;
mod registers;
mod stock;
mod validators;

use cardsync_core::{
    Applied, CardDoc, CardId, CardKind, FieldDef, FieldKind, Op, Origin, RelationshipKind, Schema,
    Stamp, ValueType,
};

use super::{PeerId, Role, Room, RoomAction, RoomConfig, StaticTokens};
use crate::protocol::{BatchId, Message, PROTOCOL_VERSION};
use crate::time::Instant;

/// The schema every test uses.
pub(super) fn schema() -> Schema {
    Schema::new(1)
        .card(
            "task",
            CardKind::default()
                .field("title", FieldDef::register(ValueType::String))
                .field(
                    "status",
                    FieldDef::state_machine([("todo", "doing"), ("doing", "done")]),
                )
                .field("priority", FieldDef::register(ValueType::Number))
                .field("votes", FieldDef::new(FieldKind::Counter))
                .field("best", FieldDef::new(FieldKind::Max))
                .field("tags", FieldDef::new(FieldKind::Set))
                .field("body", FieldDef::new(FieldKind::Text)),
        )
        .relationship("blocks", RelationshipKind::default())
}

pub(super) fn tokens() -> StaticTokens {
    StaticTokens::default()
        .with("view", Role::Viewer)
        .with("edit", Role::Editor)
        .with("admin", Role::Admin)
}

/// Plays the driver: owns the clock and collects what the room asks for.
pub(super) struct Driver {
    pub room: Room<StaticTokens>,
    pub now: Instant,
    /// Persist tokens seen in drained actions and not yet confirmed.
    pub unpersisted: Vec<crate::room::PersistToken>,
}

impl Driver {
    pub fn new(config: RoomConfig) -> Self {
        Self::with_schema(config, schema())
    }

    pub fn with_schema(config: RoomConfig, schema: Schema) -> Self {
        let room = Room::new(config, schema, tokens(), Vec::<Vec<u8>>::new()).unwrap();
        Self {
            room,
            now: Instant(1_000),
            unpersisted: Vec::new(),
        }
    }

    pub fn drain(&mut self) -> Vec<RoomAction> {
        let actions: Vec<RoomAction> = std::iter::from_fn(|| self.room.poll_action()).collect();
        for action in &actions {
            if let RoomAction::Persist { token, .. } = action {
                self.unpersisted.push(*token);
            }
        }
        actions
    }

    pub fn send(&mut self, peer: PeerId, message: &Message) -> Vec<RoomAction> {
        self.room
            .handle_message(self.now, peer, &message.encode())
            .unwrap();
        self.drain()
    }

    /// Connects a native peer with a hello; returns what it received.
    pub fn join(&mut self, peer: u64, token: &str, client: u64) -> Vec<Message> {
        let peer = PeerId(peer);
        self.room.handle_connect(self.now, peer).unwrap();
        let hello = Message::Hello {
            version: PROTOCOL_VERSION,
            token: token.to_owned(),
            client,
        };
        let actions = self.send(peer, &hello);
        to(&actions, peer)
    }

    /// Persists everything pending; returns what the room did then.
    /// [`Driver::send`], then every persist completes: what the peer is told once the batches
    /// before it are durable (a rejection waits for them, see `room/settle.rs`).
    pub fn send_settled(&mut self, peer: PeerId, message: &Message) -> Vec<RoomAction> {
        let mut actions = self.send(peer, message);
        actions.extend(self.persist_all());
        actions
    }

    pub fn persist_all(&mut self) -> Vec<RoomAction> {
        self.drain();
        let tokens = std::mem::take(&mut self.unpersisted);
        let mut out = Vec::new();
        for token in tokens {
            self.room.handle_persisted(self.now, token).unwrap();
            out.extend(self.drain());
        }
        out
    }
}

/// An awareness update with one entry.
pub(super) fn awareness(client: u64, clock: u64, json: &str) -> Vec<u8> {
    let mut out = vec![1];
    for v in [client, clock, json.len() as u64] {
        let mut v = v;
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    out.extend_from_slice(json.as_bytes());
    out
}

/// The messages `peer` received among `actions`.
pub(super) fn to(actions: &[RoomAction], peer: PeerId) -> Vec<Message> {
    actions
        .iter()
        .filter_map(|a| match a {
            RoomAction::Send { peer: p, frame } if *p == peer => {
                Some(Message::decode(frame, usize::MAX).unwrap())
            }
            _ => None,
        })
        .collect()
}

/// The persist actions among `actions`.
pub(super) fn persists(actions: &[RoomAction]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, RoomAction::Persist { .. }))
        .count()
}

/// A cardsync client: a real document and its batch numbering.
pub(super) struct Client {
    pub doc: CardDoc,
    pub seq: u64,
}

impl Client {
    pub fn new(client_id: u64) -> Self {
        Self::with_schema(client_id, schema())
    }

    pub fn with_schema(client_id: u64, schema: Schema) -> Self {
        Self {
            doc: CardDoc::new(schema, client_id).unwrap(),
            seq: 0,
        }
    }

    /// Applies ops locally and returns the batch to submit.
    pub fn batch(&mut self, ops: &[Op]) -> (Message, BatchId, Applied) {
        let applied = self
            .doc
            .apply_with_origin(&Stamp::new(1, "test"), ops, Origin::Local)
            .unwrap();
        let batch = BatchId {
            client: self.doc.client_id(),
            seq: self.seq,
        };
        self.seq += 1;
        let message = Message::SubmitBatch {
            batch,
            update: applied.update.clone(),
        };
        (message, batch, applied)
    }
}

pub(super) fn card(n: u128) -> CardId {
    CardId::from_u128(n)
}

pub(super) fn create_task(id: u128, status: &str) -> Op {
    Op::CreateCard {
        card: card(id),
        kind: "task".into(),
        fields: [
            ("title".to_owned(), "t".into()),
            ("status".to_owned(), status.into()),
        ]
        .into_iter()
        .collect(),
    }
}

pub(super) fn set(id: u128, field: &str, value: impl Into<cardsync_core::Value>) -> Op {
    Op::SetField {
        card: card(id),
        field: field.into(),
        value: value.into(),
    }
}
