//! The state machine proper: its fields, its outputs and the transitions between states.
//! The `handle_*` inputs live in the child module `inputs`, so each file stays readable.
//!
//! Every `handle_*` runs the same way: clamp `now` so time never runs backwards, fire the
//! timers already due, apply the input, fire timers again. Firing first means a late driver
//! (one that feeds a message after a deadline it did not report with `handle_timeout`) sees
//! the same outcome as a punctual one; firing again means an input that makes a deadline due
//! at once (a zero jitter draw, a page turning visible after a long hidden spell) is acted on
//! before the call returns. Together they keep `poll_timeout()` strictly after the last `now`.

use std::collections::VecDeque;
use std::time::Duration;

use super::action::{Action, CloseCause, Failure, SocketId};
use super::backoff::retry_delay;
use super::config::{ConnectionConfig, ConnectionConfigError};
use super::error::{ConnectionError, InputKind};
use super::heartbeat::{Heartbeat, Tick};
use super::rng::{Rng, SplitMix64};
use super::rtt::RttEstimate;
use super::status::{Cause, ConnectionStatus, State, StateChanged};
use crate::time::Instant;

mod inputs;

/// The sans-IO connection state machine of one sync client; see the [module docs](super).
#[derive(Clone, Debug)]
pub struct Connection<R: Rng = SplitMix64> {
    config: ConnectionConfig,
    /// Only drawn from on failures, for jitter.
    rng: R,
    state: State,
    /// The user's wish; with `network_online`, decides whether to connect at all.
    wanted: bool,
    network_online: bool,
    hidden: bool,
    /// The latest `now` seen, so that a driver's clock going backwards cannot move deadlines.
    now: Instant,
    /// The current socket, in `Connecting`, `Syncing` and `Online` only.
    socket: Option<SocketId>,
    /// The last id handed out; ids start at 1.
    last_socket: u64,
    /// Connect deadline in `Connecting`, sync (idle) deadline in `Syncing`.
    deadline: Option<Instant>,
    consecutive_failures: u32,
    last_failure: Option<Failure>,
    online_since: Option<Instant>,
    heartbeat: Heartbeat,
    rtt: Option<RttEstimate>,
    last_pong_at: Option<Instant>,
    last_received_at: Option<Instant>,
    actions: VecDeque<Action>,
    events: VecDeque<StateChanged>,
}

impl<R: Rng> Connection<R> {
    /// A stopped connection (`Offline`, not wanted, network assumed up).
    pub fn new(config: ConnectionConfig, rng: R) -> Result<Self, ConnectionConfigError> {
        config.validate()?;
        Ok(Connection {
            config,
            rng,
            state: State::Offline,
            wanted: false,
            network_online: true,
            hidden: false,
            now: Instant::ZERO,
            socket: None,
            last_socket: 0,
            deadline: None,
            consecutive_failures: 0,
            last_failure: None,
            online_since: None,
            heartbeat: Heartbeat::new(),
            rtt: None,
            last_pong_at: None,
            last_received_at: None,
            actions: VecDeque::new(),
            events: VecDeque::new(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &ConnectionConfig {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// A snapshot for a status display; see [`ConnectionStatus`].
    pub fn status(&self) -> ConnectionStatus {
        ConnectionStatus {
            state: self.state,
            wanted: self.wanted,
            network_online: self.network_online,
            hidden: self.hidden,
            next_retry_at: match self.state {
                State::Backoff { retry_at } => Some(retry_at),
                _ => None,
            },
            consecutive_failures: self.consecutive_failures,
            last_failure: self.last_failure,
            socket: self.socket,
            online_since: self.online_since,
            rtt: self.rtt,
            last_pong_at: self.last_pong_at,
            last_received_at: self.last_received_at,
        }
    }

    /// The next action for the driver, in order. Drain until `None` (the drain rule).
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next state transition, in order. Drain until `None`.
    pub fn poll_event(&mut self) -> Option<StateChanged> {
        self.events.pop_front()
    }

    /// When `handle_timeout` must next be called, or `None` if nothing is scheduled
    /// (`Offline`). Always strictly after the latest `now` handed in (short of an instant
    /// saturated at `u64::MAX`).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Offline => None,
            State::Connecting | State::Syncing => self.deadline,
            State::Online => Some(self.heartbeat.next_due(self.heartbeat_interval())),
            State::Backoff { retry_at } => Some(retry_at),
        }
    }

    fn heartbeat_interval(&self) -> Duration {
        if self.hidden {
            self.config.heartbeat_interval_hidden
        } else {
            self.config.heartbeat_interval
        }
    }

    /// The common frame of every input; see the module docs.
    fn step<T>(&mut self, now: Instant, input: impl FnOnce(&mut Self, Instant) -> T) -> T {
        self.now = self.now.max(now);
        let now = self.now;
        self.fire_timers(now);
        let out = input(self, now);
        self.fire_timers(now);
        out
    }

    fn fire_timers(&mut self, now: Instant) {
        if self.poll_timeout().is_none_or(|due| due > now) {
            return;
        }
        match self.state {
            State::Offline => {}
            State::Connecting => self.fail(now, Failure::ConnectTimeout),
            State::Syncing => self.fail(now, Failure::SyncTimeout),
            State::Backoff { .. } => self.connect(now, Cause::RetryDue),
            State::Online => match self
                .heartbeat
                .tick(now, self.config.missed_pongs_before_dead)
            {
                Tick::Dead => self.fail(now, Failure::HeartbeatTimeout),
                Tick::Ping(nonce) => {
                    if let Some(socket) = self.socket {
                        self.actions.push_back(Action::SendPing { socket, nonce });
                    }
                }
            },
        }
    }

    fn check_socket(&self, socket: SocketId) -> Result<(), ConnectionError> {
        match self.socket {
            Some(current) if current == socket => Ok(()),
            current => Err(ConnectionError::StaleSocket { socket, current }),
        }
    }

    fn check(
        &self,
        socket: SocketId,
        input: InputKind,
        allowed: &[State],
    ) -> Result<(), ConnectionError> {
        self.check_socket(socket)?;
        if allowed.contains(&self.state) {
            Ok(())
        } else {
            Err(ConnectionError::UnexpectedInput {
                input,
                state: self.state,
            })
        }
    }

    /// Starts a new attempt: the one place that emits `OpenSocket`.
    fn connect(&mut self, now: Instant, cause: Cause) {
        self.last_socket += 1;
        let socket = SocketId(self.last_socket);
        self.socket = Some(socket);
        self.deadline = Some(now + self.config.connect_timeout);
        self.rtt = None;
        self.actions.push_back(Action::OpenSocket { socket });
        self.set_state(now, State::Connecting, cause);
    }

    /// Gives up on the current socket and schedules a jittered retry.
    fn fail(&mut self, now: Instant, failure: Failure) {
        if let Some(socket) = self.socket.take() {
            // A socket that reported its own close needs no CloseSocket.
            if !matches!(failure, Failure::SocketClosed { .. }) {
                let reason = CloseCause::Failed { failure };
                self.actions
                    .push_back(Action::CloseSocket { socket, reason });
            }
        }
        self.deadline = None;
        self.online_since = None;
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_failure = Some(failure);
        let delay = retry_delay(&self.config, self.consecutive_failures, &mut self.rng);
        self.set_state(
            now,
            State::Backoff {
                retry_at: now + delay,
            },
            Cause::Failed { failure },
        );
    }

    /// Stops everything: no socket, no retry, no failure count.
    fn go_offline(&mut self, now: Instant, reason: CloseCause, cause: Cause) {
        if let Some(socket) = self.socket.take() {
            self.actions
                .push_back(Action::CloseSocket { socket, reason });
        }
        self.deadline = None;
        self.online_since = None;
        self.consecutive_failures = 0;
        self.set_state(now, State::Offline, cause);
    }

    fn set_state(&mut self, now: Instant, to: State, cause: Cause) {
        if to != self.state {
            self.events.push_back(StateChanged {
                at: now,
                from: self.state,
                to,
                cause,
            });
            self.state = to;
        }
    }
}
