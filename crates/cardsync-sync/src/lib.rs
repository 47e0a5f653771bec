//! # cardsync-sync
//!
//! Sans-IO sync for cardsync documents. Nothing here reads a clock, draws a random number or
//! touches a socket: drivers (the tokio server and client, the browser client) feed in time,
//! bytes and socket events through `handle_*` methods and carry out what `poll_*` methods
//! return.
//!
//! ## The drain rule
//! After every `handle_*` call, and whenever the instant returned by `poll_timeout` passes
//! (call `handle_timeout(now)`), a driver drains every `poll_*` queue until it returns `None`.
//! State machines never act on their own between calls, so a driver that follows this rule
//! cannot miss an action, and a test can run them all in one thread with a simulated clock.
//!
//! Each layer's outputs are the next layer's, never re-wrapped: the session's [`SyncEvent`]s
//! are the machine's, and a change batch waits in the local doc's own buffer until the driver
//! takes it with `poll_changes` (docs/design.md §7).
//!
//! ## One flat root
//!
//! The main types are re-exported here, as `yrs` and `quinn-proto` do: `cardsync_sync::Room`,
//! `cardsync_sync::ClientSession`, `cardsync_sync::SyncMachine`, `cardsync_sync::Outbox`,
//! `cardsync_sync::Instant`… The modules stay public and their paths keep working; the root is
//! what makes a name unique, since two items of one name would not compile side by side here.
//! Vocabulary that only reads well inside its module (the connection's `Action`, `State`,
//! `Cause`, `Failure`; the outbox's `Part` and `apply`) stays there.
//!
//! ## Two clients, one room, one rejection
//!
//! A whole system in one thread: two [`ClientSession`]s and a [`Room`], wired by
//! a loop that delivers frames and confirms persistence at once. Bob may not set a field only
//! admins may set; the room rejects that batch, Bob's session rolls it back, and his other
//! edit survives.
//!
//! ```
//! use std::sync::Arc;
//! use cardsync_core::{CardId, CardKind, FieldDef, FieldValue, Op, Schema, Stamp, ValueType};
//! use cardsync_sync::{
//!     ClientSession, FieldRule, Instant, PeerId, Persisted, Role, Room, RoomAction, RoomConfig,
//!     SessionAction, SessionConfig, SplitMix64, StaticTokens, SyncEvent,
//! };
//!
//! let schema = Arc::new(Schema::new(1).card("task", CardKind::default()
//!     .field("title", FieldDef::register(ValueType::String))
//!     .field("owner", FieldDef::register(ValueType::String))));
//! let mut config = RoomConfig::default();
//! config.permissions.field_rules.push(FieldRule {
//!     kind: "task".into(), field: "owner".into(), roles: vec![Role::Admin] });
//! let tokens = StaticTokens::default().with("alice", Role::Admin).with("bob", Role::Editor);
//! let mut room = Room::new(config, (*schema).clone(), tokens, Vec::<Vec<u8>>::new())?;
//!
//! let client = |token: &str, seed| {
//!     let config = SessionConfig { token: token.into(), ..SessionConfig::default() };
//!     ClientSession::new(schema.clone(), config, Persisted::default(), Box::new(SplitMix64::new(seed)))
//! };
//! let mut clients = [client("alice", 1)?, client("bob", 2)?];
//! let now = Instant(0);
//!
//! // The driver loop: carry out every action until nothing moves (the drain rule).
//! let mut pump = |room: &mut Room<StaticTokens>, clients: &mut [ClientSession; 2]| loop {
//!     let mut moved = false;
//!     for (i, c) in clients.iter_mut().enumerate() {
//!         while let Some(action) = c.poll_action() {
//!             moved = true;
//!             match action {
//!                 SessionAction::Persist { seq, .. } => c.handle_persisted(now, seq),
//!                 SessionAction::Send(frame) => room.handle_message(now, PeerId(i as u64), &frame).unwrap(),
//!             }
//!         }
//!     }
//!     while let Some(action) = room.poll_action() {
//!         moved = true;
//!         match action {
//!             RoomAction::Persist { token, .. } => room.handle_persisted(now, token).unwrap(),
//!             RoomAction::Send { peer, frame } => drop(clients[peer.0 as usize].handle_frame(now, &frame).unwrap()),
//!             RoomAction::Close { .. } | RoomAction::Audit(_) | RoomAction::Judged(_) | RoomAction::Pause { .. } => {}
//!         }
//!     }
//!     if !moved { break; }
//! };
//!
//! for (i, c) in clients.iter_mut().enumerate() {
//!     room.handle_connect(now, PeerId(i as u64))?;
//!     c.handle_connected(now);
//! }
//! let card = CardId::from_u128(1);
//! let create = Op::CreateCard { card, kind: "task".into(), fields: Default::default() };
//! clients[0].apply(now, &Stamp::new(1, "alice"), &[create])?;
//! pump(&mut room, &mut clients);
//!
//! // Bob sets the owner (admins only), then the title.
//! let bob = Stamp::new(2, "bob");
//! let owner = Op::SetField { card, field: "owner".into(), value: "bob".into() };
//! let title = Op::SetField { card, field: "title".into(), value: "Ship it".into() };
//! clients[1].apply(now, &bob, &[owner])?;
//! clients[1].apply(now, &bob, &[title])?;
//! pump(&mut room, &mut clients);
//!
//! let rejected = std::iter::from_fn(|| clients[1].poll_event())
//!     .any(|e| matches!(e, SyncEvent::Rejected { .. }));
//! assert!(rejected);
//! for c in &clients {
//!     let read = c.local().card(card).unwrap();
//!     assert_eq!(read.fields.get("owner"), None);                     // rolled back
//!     assert_eq!(read.fields["title"], FieldValue::Register("Ship it".into())); // kept
//!     assert_eq!(c.local().export(), room.doc().export());
//!     assert_eq!(c.status(now).pending, 0);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod client;
pub mod connection;
pub mod outbox;
pub mod protocol;
pub mod room;
pub mod session;
pub mod time;

pub use client::{SyncAction, SyncEvent, SyncMachine, SyncStatus};
pub use connection::{
    CloseCause, Connection, ConnectionConfig, ConnectionConfigError, ConnectionError,
    ConnectionStatus, Rng, RttEstimate, SocketId, SplitMix64, StateChanged,
};
pub use outbox::{
    Batch, MemoryStore, Outbox, OutboxError, OutboxLimits, OutboxStore, PersistOp, Persisted,
    Rejection,
};
pub use protocol::{
    BatchId, MSG_CARDSYNC, Message, PROTOCOL_VERSION, ProtocolError, RejectCode, close_code,
};
pub use room::{
    AuthError, Authenticator, Author, AwarenessError, FieldRule, PeerCloseReason, PeerId,
    Permissions, PersistToken, Proposal, RateLimit, Refused, Role, Room, RoomAction, RoomConfig,
    RoomError, ShadowError, StaticTokens, UNBATCHED, Validator, Validators, Verdicts, Violation,
};
pub use session::{
    ClientSession, Conflict, ConflictLog, SessionAction, SessionConfig, SessionError,
    SessionStatus, Signal,
};
pub use time::Instant;

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`,
/// 2^53 − 1). Counter values the room accepts and integers the wasm bindings take from
/// JavaScript stay within it, so every peer reads the same number back.
///
/// Client ids have the same bound for the same reason; the core names it for them
/// ([`cardsync_core::MAX_CLIENT_ID`]), and a compile-time check keeps the two equal.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

const _: () = assert!(MAX_SAFE_INTEGER as u64 == cardsync_core::MAX_CLIENT_ID);
