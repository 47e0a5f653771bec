//! The server side of one document, sans-IO: a *room*.
//!
//! A room holds the authoritative replica of one document and everyone connected to it. The
//! driver (the tokio server, a test, a simulation) feeds it socket events, frames, persistence
//! confirmations and time, and carries out the [`RoomAction`]s it returns. The room reads no
//! clock and draws no random number; `now` is an [`Instant`] of the driver's clock, the same
//! type the client side takes.
//!
//! # The life of a batch
//! Every change a peer sends, a cardsync `SubmitBatch` or a stock client's `Update` or
//! `SyncStep2`, goes through the same steps, in this order:
//! 1. **rate** and **size** limits (`RateLimited`, `TooLarge`); a stock client, which cannot
//!    resend, is never refused for its rate but paused ([`RoomAction::Pause`]);
//! 2. **decode**, behind `cardsync_core`'s [screen](cardsync_core::untrusted), which bounds
//!    yrs' work on hostile bytes (the decode bomb, over-deep values, client ids above 2^53);
//!    every core entry point the room calls runs it, so the room has no decoder of its own;
//! 3. **clocks**: clocks the room already holds are a duplicate, re-acked at once (acks are
//!    idempotent: "the room holds client C up to clock N"); clocks at or after a range the
//!    room rejected for that client id, or after a hole, make a dependent
//!    (`DependsOnRejected`);
//! 4. **validate** on the shadow replica (`shadow.rs`, `check.rs`): schema, state machines,
//!    per-replica entries, role and field permissions; then the application's
//!    [`Validator`]s, which see the document before and after and the batch's [`Author`];
//! 5. **apply** to the authoritative replica;
//! 6. **persist** what the batch actually changed (duplicated parts dropped):
//!    [`RoomAction::Persist`]; nothing is acked or broadcast before the driver confirms with
//!    [`Room::handle_persisted`], so an ack survives a server crash;
//! 7. **ack** the sender and **broadcast** a y-protocols `Update` to everyone else, so stock
//!    clients understand it.
//!
//! A driver that keeps an audit trail turns on [`Room::with_judgements`]: the room then also
//! reports a [`Judgement`] per batch it judges (author, verdict, what the batch touched), as a
//! [`RoomAction::Judged`].
//!
//! Nothing the room sends is ahead of its disk: a sync step 2 answering a peer's step 1
//! while persists are in flight waits for them too, because a cardsync session counts its
//! own batches found in a step 2 as acked.
//!
//! A rejected batch is never applied, persisted or broadcast. A peer that keeps causing
//! rejections (each rebuilds the shadow, O(document)) is closed.
//!
//! # Stock `y-websocket` clients
//! A stock client sends no `Hello`: its first frame is a sync step 1. The room admits such a
//! peer with [`RoomConfig::hello_less_role`] (default: viewer, so it syncs down and its
//! edits are refused; `Some(Role::Editor)` for two-way sync; `None` refuses it with an auth
//! message and a close). A driver that can authenticate stock clients otherwise (a token in
//! the URL, as `y-websocket`'s `params` send it) uses [`Room::handle_connect_with_token`].
//! Stock updates carry no batch id, so they get no ack. A stock client cannot roll back, so
//! an update from a peer admitted without a hello that breaks a document rule is not
//! refused: the room accepts it and, in the same log append, writes a compensating change
//! that puts back what it broke (`compensate.rs`), sends that change to the peer too, and
//! reports an [`AuditRecord`]. Other refusals (a viewer's write, a malformed update) send a
//! `Reject` naming `seq` [`UNBATCHED`] (stock clients ignore it; it helps debugging).
//!
//! # The drain rule
//! As everywhere in this crate: after every `handle_*` call, and after `handle_timeout` once
//! the instant from [`Room::poll_timeout`] has passed, drain [`Room::poll_action`] until it
//! returns `None`.
//!
//! ```
//! use cardsync_core::{CardDoc, CardId, CardKind, FieldDef, Origin, Schema, Stamp, Op, ValueType};
//! use cardsync_sync::protocol::{BatchId, Message, PROTOCOL_VERSION};
//! use cardsync_sync::room::{PeerId, Role, Room, RoomAction, RoomConfig, StaticTokens};
//! use cardsync_sync::time::Instant;
//!
//! let schema = Schema::new(1).card("task", CardKind::default()
//!     .field("title", FieldDef::register(ValueType::String)));
//! let tokens = StaticTokens::default().with("secret", Role::Editor);
//! let mut room = Room::new(RoomConfig::default(), schema.clone(), tokens, Vec::<Vec<u8>>::new())?;
//! let drain = |room: &mut Room<StaticTokens>| std::iter::from_fn(|| room.poll_action()).collect::<Vec<_>>();
//! let frames_to = |actions: &[RoomAction], to: PeerId| -> Vec<Message> {
//!     actions.iter().filter_map(|a| match a {
//!         RoomAction::Send { peer, frame } if *peer == to => Message::decode(frame, usize::MAX).ok(),
//!         _ => None,
//!     }).collect()
//! };
//!
//! // A native client connects and says hello: welcome, then the server's sync step 1.
//! let alice = PeerId(1);
//! room.handle_connect(Instant(0), alice)?;
//! let hello = Message::Hello { version: PROTOCOL_VERSION, token: "secret".into(), client: 7 };
//! room.handle_message(Instant(0), alice, &hello.encode())?;
//! let out = frames_to(&drain(&mut room), alice);
//! assert!(matches!(&out[0], Message::Welcome { role, .. } if role == "editor"));
//!
//! // It submits a batch made by a real document.
//! let mut doc = CardDoc::new(schema, 7)?;
//! let ops = [Op::CreateCard { card: CardId::from_u128(1), kind: "task".into(), fields: Default::default() }];
//! let applied = doc.apply_with_origin(&Stamp::new(1, "alice"), &ops, Origin::Local)?;
//! let batch = BatchId { client: 7, seq: 0 };
//! room.handle_message(Instant(1), alice, &Message::SubmitBatch { batch, update: applied.update }.encode())?;
//!
//! // The room asks for persistence first and acks nothing yet...
//! let actions = drain(&mut room);
//! let [RoomAction::Persist { token, .. }] = actions.as_slice() else { panic!("{actions:?}") };
//! // ...the driver writes the update durably, then confirms:
//! room.handle_persisted(Instant(2), *token)?;
//! let out = frames_to(&drain(&mut room), alice);
//! assert_eq!(out, [Message::Ack { batch, clock: applied.clock.end }]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod action;
mod audit;
mod auth;
mod awareness;
mod batches;
mod bucket;
mod check;
mod check_board;
mod check_card;
mod check_container;
mod check_field;
mod check_graph;
mod compensate;
mod config;
mod error;
mod fixed_ids;
mod incoming;
mod judgement;
mod log;
mod names;
mod peer;
mod peers;
mod replica;
mod restore;
mod settle;
mod shadow;
mod validator;
pub mod validators;
mod violation;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use cardsync_core::{CardDoc, Schema};

use crate::protocol::RejectCode;
use crate::time::Instant;

pub use action::{PeerCloseReason, RoomAction};
pub use audit::AuditRecord;
pub use auth::{AuthError, Authenticator, Author, FieldRule, Permissions, Role, StaticTokens};
pub use awareness::AwarenessError;
pub use bucket::RateLimit;
/// The screen of untrusted bytes lives in `cardsync_core`, which runs it in every entry point that
/// decodes bytes; re-exported here for code that named it through the room.
pub use cardsync_core::untrusted::{MAX_DEPTH, ScreenError};
pub use config::{FRAME_OVERHEAD, RoomConfig};
pub use error::RoomError;
pub use judgement::{CardChange, Judgement, Summary, Verdict};
pub use names::{PeerId, PersistToken};
pub use shadow::{COMPENSATOR_CLIENT_ID, ShadowError};
pub use validator::{Proposal, Refused, Validator, Validators};
pub use violation::Violation;

use awareness::Presence;
use fixed_ids::FixedIds;
use peer::Peer;
use settle::{Mark, PendingPersist};
use shadow::Shadow;

/// The `seq` of the `BatchId` in a `Reject` of an update that came without one (a stock
/// client's `Update` or `SyncStep2`).
pub const UNBATCHED: u64 = u64::MAX;

/// One document's server state. See the module docs of `room/mod.rs`.
pub struct Room<A> {
    config: RoomConfig,
    auth: A,
    schema: Arc<Schema>,
    /// The authoritative replica: only validated updates reach it.
    doc: CardDoc,
    /// The validation replica, equal to `doc` between batches; `None` after a rejection
    /// polluted it, until the next batch rebuilds it.
    shadow: Option<Shadow>,
    peers: BTreeMap<PeerId, Peer>,
    presence: Presence,
    actions: VecDeque<RoomAction>,
    /// Persists issued and not yet confirmed, in token order.
    pending: VecDeque<PendingPersist>,
    /// The last persist token issued.
    issued: u64,
    /// Per client id, the clock up to which the room's state is durable (what acks report).
    durable: HashMap<u64, u32>,
    /// Per client id, where the range the room rejected for it starts.
    marks: HashMap<u64, Mark>,
    /// Per client id, the first batch whose rejection waits for persists in flight
    /// (`settle.rs`): a later batch of it is refused, as a mark would refuse it.
    held: HashMap<u64, u64>,
    /// The fixed container ids of the room's cards.
    fixed: FixedIds,
    /// Acks and rejections sent, for the driver's metrics.
    verdicts: Verdicts,
    /// The application's validators, run on every batch after the schema checks.
    validators: Validators,
    /// The wall clock (ms since the Unix epoch) the driver last reported, for the skew limit
    /// of time-ordered registers; `None` until it reports one (no limit then).
    wall_ms: Option<u64>,
    /// Whether the driver asked for judgements, for its audit trail
    /// ([`Room::with_judgements`]).
    judgements: bool,
}

/// How many acks and rejections a room has sent since it opened ([`Room::verdicts`]), so a
/// driver can count them without decoding the frames it forwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdicts {
    /// `Ack` messages sent.
    pub acks: u64,
    /// `Reject` messages sent.
    pub rejections: u64,
    /// `Reject` messages sent, per code (indexed by [`RejectCode::index`]).
    pub rejections_by_code: [u64; RejectCode::ALL.len()],
    /// Awareness messages dropped for exceeding `max_awareness_bytes`.
    pub awareness_too_large: u64,
    /// Awareness messages dropped for exceeding a peer's `awareness_rate`.
    pub awareness_rate_limited: u64,
}

impl<A: Authenticator> Room<A> {
    /// Opens a room on the document's stored update log (oldest first; a snapshot is a log
    /// of one). The log is trusted: it only ever holds updates this room validated.
    pub fn new<U: AsRef<[u8]>>(
        config: RoomConfig,
        schema: impl Into<Arc<Schema>>,
        auth: A,
        log: impl IntoIterator<Item = U>,
    ) -> Result<Self, RoomError> {
        let schema = schema.into();
        let doc = replica::open_doc(&schema, log)?;
        let shadow = Some(Shadow::load(Arc::clone(&schema), &doc.snapshot_v1())?);
        let durable = replica::held(&doc);
        let fixed = FixedIds::build(&doc, &schema);
        Ok(Self {
            config,
            auth,
            fixed,
            verdicts: Verdicts::default(),
            schema,
            doc,
            shadow,
            peers: BTreeMap::new(),
            presence: Presence::default(),
            actions: VecDeque::new(),
            pending: VecDeque::new(),
            issued: 0,
            durable,
            marks: HashMap::new(),
            held: HashMap::new(),
            validators: Validators::new(),
            wall_ms: None,
            judgements: false,
        })
    }

    /// The room with `validators`, run on every batch after the schema checks and before it
    /// is accepted (see [`Validator`]).
    pub fn with_validators(mut self, validators: Validators) -> Self {
        self.validators = validators;
        self
    }

    /// The room, reporting a [`RoomAction::Judged`] for every batch it judges (accepted, or
    /// rejected with a verdict). Off by default: a driver without an audit trail pays nothing.
    pub fn with_judgements(mut self) -> Self {
        self.judgements = true;
        self
    }

    /// The acks and rejections this room has sent since it opened.
    pub fn verdicts(&self) -> Verdicts {
        self.verdicts
    }

    /// The next action for the driver (see the drain rule).
    pub fn poll_action(&mut self) -> Option<RoomAction> {
        self.actions.pop_front()
    }

    /// When `handle_timeout` is next due: the earliest hello deadline of a waiting peer.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.peers
            .values()
            .filter_map(|p| match p.stage {
                peer::Stage::Waiting { deadline } => Some(deadline),
                peer::Stage::Admitted { .. } => None,
            })
            .min()
    }

    /// The authoritative replica (read-only: reads, exports, snapshots for log compaction).
    pub fn doc(&self) -> &CardDoc {
        &self.doc
    }

    /// Reports the wall clock, milliseconds since the Unix epoch. The room's [`Instant`]s are
    /// monotonic from an origin the driver chose, but stamps of time-ordered registers are
    /// wall-clock milliseconds, so the skew limit ([`RoomConfig::max_stamp_skew_ms`]) needs
    /// this; a driver calls it before handing in messages. Until the first call no stamp is
    /// refused for being ahead.
    pub fn handle_wall_clock(&mut self, wall_ms: u64) {
        self.wall_ms = Some(wall_ms);
    }

    /// The room's configuration.
    pub fn config(&self) -> &RoomConfig {
        &self.config
    }

    /// Connected peers and their roles (`None` while not yet admitted).
    pub fn peers(&self) -> impl Iterator<Item = (PeerId, Option<Role>)> + '_ {
        self.peers.iter().map(|(&id, p)| (id, p.role()))
    }

    /// Persists issued and not yet confirmed.
    pub fn pending_persists(&self) -> usize {
        self.pending.len()
    }
}
