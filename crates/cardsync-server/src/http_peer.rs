//! The HTTP API's writer: an in-process peer of the room, for one batch.
//!
//! **Why a peer and not a side door.** `POST /docs/{doc}/ops` must be judged exactly as a
//! client's batch: the same schema checks, permissions and validators, persisted before it is
//! acked, broadcast to the connected clients, and ordered with their batches in the one log.
//! All of that is the room's, on its task, and the one way into a room is its inbox. So the
//! handler joins the room like a WebSocket connection does (`rooms::join`, with the request's
//! token) and speaks the protocol through the same sans-IO [`ClientSession`] the native
//! client and the browser use: hello, sync to the room's state, apply the ops to that state
//! (the core refuses an invalid op here, before anything is sent), submit the batch, and wait
//! for its ack or rejection. No second validation path exists to drift from the first.
//!
//! The session's persistence is in memory and confirmed at once: the peer lives for one
//! request, and the caller holds the intent (a lost answer is retried by the caller, like any
//! HTTP write). Frames go to the room with their charge of the budget for bytes in flight, as
//! a connection's do. The peer holds a connection slot while it lives, so the HTTP API
//! cannot take a server past `max_connections`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use cardsync_core::{Op, SplitMix64, Stamp};
use cardsync_sync::SyncEvent;
use cardsync_sync::outbox::Persisted;
use cardsync_sync::protocol::BatchId;
use cardsync_sync::session::{ClientSession, SessionAction, SessionConfig, SessionError, Signal};
use tokio::sync::mpsc;

use crate::conn::Outgoing;
use crate::http_error::ApiError;
use crate::rooms::{self, Inbox, JoinRefusal, Shared};
use crate::store::DocId;

/// How long a request waits for its room's verdict (a room behind a slow store, or one whose
/// inbox is full, answers late; past this the caller is told to retry).
pub(crate) const VERDICT_DEADLINE: Duration = Duration::from_secs(30);

/// What became of a batch the room accepted.
#[derive(Debug)]
pub(crate) enum Written {
    /// Acked: durable in the log, and broadcast to the room's peers.
    Acked(BatchId),
    /// The ops changed nothing, so nothing was sent.
    Unchanged,
}

/// Submits `ops` to the room of `doc` as one batch under `token`, and waits for the verdict.
pub(crate) async fn submit(
    shared: &Arc<Shared>,
    doc: &DocId,
    token: String,
    stamp: Stamp,
    ops: Vec<Op>,
) -> Result<Written, ApiError> {
    let Ok(_slot) = Arc::clone(&shared.connections).try_acquire_owned() else {
        shared.metrics.refused();
        return Err(ApiError::Unavailable(
            "server at its connection limit; retry later".into(),
        ));
    };
    let mut peer = Peer::join(shared, doc, token)?;
    let written = tokio::time::timeout(VERDICT_DEADLINE, peer.write(stamp, ops)).await;
    peer.leave().await;
    let deadline_ms = u64::try_from(VERDICT_DEADLINE.as_millis()).unwrap_or(u64::MAX);
    written.unwrap_or(Err(ApiError::Timeout(deadline_ms)))
}

/// One request's peer: its session and its place in the room.
struct Peer<'a> {
    shared: &'a Arc<Shared>,
    id: cardsync_sync::room::PeerId,
    inbox: mpsc::Sender<Inbox>,
    out: mpsc::Receiver<Outgoing>,
    session: ClientSession,
}

impl<'a> Peer<'a> {
    fn join(shared: &'a Arc<Shared>, doc: &DocId, token: String) -> Result<Self, ApiError> {
        let config = SessionConfig {
            token,
            ..SessionConfig::default()
        };
        let id = shared.next_peer();
        // Client ids only need to differ from the document's writers; the session draws until
        // one does.
        let seed = id.0 ^ crate::auth::unix_now().rotate_left(32);
        let rng = Box::new(SplitMix64::new(seed));
        let session = ClientSession::new(
            Arc::clone(&shared.schema),
            config,
            Persisted::default(),
            rng,
        )
        .map_err(|e| ApiError::Unavailable(format!("cannot open a session: {e}")))?;
        let (out_tx, out) = mpsc::channel(shared.config.limits.send_queue.max(1));
        let inbox = rooms::join(shared, doc, id, None, out_tx).map_err(|refusal| {
            shared.metrics.refused();
            ApiError::Unavailable(
                match refusal {
                    JoinRefusal::TooManyRooms => "server at its room limit; retry later",
                    JoinRefusal::RoomBusy => "room busy; retry later",
                    JoinRefusal::ShuttingDown => "server shutting down",
                }
                .into(),
            )
        })?;
        Ok(Self {
            shared,
            id,
            inbox,
            out,
            session,
        })
    }

    /// Greets, syncs, applies `ops` on the room's state and waits for the batch's verdict.
    async fn write(&mut self, stamp: Stamp, ops: Vec<Op>) -> Result<Written, ApiError> {
        self.session.handle_connected(self.shared.now());
        self.flush().await?;
        let (mut welcomed, mut synced) = (false, false);
        while !(welcomed && synced) {
            match self.next().await? {
                Signal::SyncStep2 => synced = true,
                Signal::AuthDenied(reason) => return Err(auth_denied(&reason)),
                Signal::None | Signal::Pong(_) => {}
            }
            while let Some(event) = self.session.poll_event() {
                if matches!(event, SyncEvent::Welcome { .. }) {
                    welcomed = true;
                }
            }
        }
        let batch = match self.session.apply(self.shared.now(), &stamp, &ops) {
            Ok(Some(batch)) => batch,
            Ok(None) => return Ok(Written::Unchanged),
            Err(SessionError::Write(e)) => return Err(ApiError::Write(e)),
            Err(e) => return Err(ApiError::Unavailable(e.to_string())),
        };
        // The room's audit record of the batch keeps its typed ops (the wire carries only
        // the update); sent before the batch, so the room has them when it judges it.
        let intent = Inbox::Intent {
            peer: self.id,
            batch,
            ops,
        };
        if self.inbox.send(intent).await.is_err() {
            return Err(ApiError::Unavailable("the room went away".into()));
        }
        self.flush().await?;
        loop {
            if let Signal::AuthDenied(reason) = self.next().await? {
                return Err(auth_denied(&reason));
            }
            while let Some(event) = self.session.poll_event() {
                match event {
                    SyncEvent::Acked(ids) if ids.contains(&batch) => {
                        return Ok(Written::Acked(batch));
                    }
                    SyncEvent::Rejected { rejection, .. } if rejection.batch == batch => {
                        return Err(ApiError::Rejected {
                            code: rejection.code,
                            reason: rejection.reason,
                        });
                    }
                    _ => {}
                }
            }
        }
    }

    /// Waits for the room's next frame (or the session's retry timer), hands it to the
    /// session and sends what the session answers.
    async fn next(&mut self) -> Result<Signal, ApiError> {
        let due = self.session.poll_timeout();
        let wake = due.map(|t| self.shared.epoch + Duration::from_millis(t.as_millis()));
        let signal = tokio::select! {
            outgoing = self.out.recv() => match outgoing {
                Some(Outgoing::Frame(frame)) => self
                    .session
                    .handle_frame(self.shared.now(), &frame)
                    .map_err(|e| ApiError::Unavailable(format!("bad frame from the room: {e}")))?,
                Some(Outgoing::Pause(_)) => Signal::None,
                Some(Outgoing::Close { reason, .. }) => {
                    return Err(ApiError::Unavailable(format!("the room closed: {reason}")));
                }
                None => return Err(ApiError::Unavailable("the room dropped the request".into())),
            },
            () = sleep_until(wake), if wake.is_some() => {
                self.session.handle_timeout(self.shared.now());
                Signal::None
            }
        };
        self.flush().await?;
        Ok(signal)
    }

    /// Carries out the session's actions: persists are confirmed at once (the peer keeps
    /// nothing), frames go to the room with their budget charge.
    async fn flush(&mut self) -> Result<(), ApiError> {
        while let Some(action) = self.session.poll_action() {
            match action {
                SessionAction::Persist { seq, .. } => {
                    self.session.handle_persisted(self.shared.now(), seq);
                }
                SessionAction::Send(frame) => {
                    let frame = Bytes::from(frame);
                    let charge = self.shared.budget.charge(frame.len()).await;
                    let message = Inbox::Frame {
                        peer: self.id,
                        frame,
                        at: tokio::time::Instant::now(),
                        charge,
                    };
                    if self.inbox.send(message).await.is_err() {
                        return Err(ApiError::Unavailable("the room went away".into()));
                    }
                }
            }
        }
        Ok(())
    }

    async fn leave(self) {
        let _ = self.inbox.send(Inbox::Disconnect { peer: self.id }).await;
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// The room refused the token (it expired between the handler's check and the hello).
fn auth_denied(reason: &str) -> ApiError {
    use cardsync_sync::room::AuthError;
    let known = [
        AuthError::Expired,
        AuthError::NoAccess,
        AuthError::Unavailable,
    ];
    let error = known.into_iter().find(|e| e.to_string() == reason);
    ApiError::Auth(error.unwrap_or(AuthError::InvalidToken))
}
