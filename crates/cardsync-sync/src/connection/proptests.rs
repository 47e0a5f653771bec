//! Random stories with invariants: whatever a driver (or the network) throws at the machine,
//! in whatever order, with time that only moves forward, the machine must not panic and must
//! keep the promises the rest of the stack relies on.
//!
//! Inputs deliberately include nonsense (events from stale or never-opened sockets, pongs
//! with made-up nonces) because real event loops deliver late and duplicate events.

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::protocol::close_code;

/// Which socket an event claims to come from.
#[derive(Clone, Copy, Debug)]
enum Sock {
    Current,
    Previous,
    Made(u64),
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Start,
    Stop,
    Network(bool),
    Visibility(bool),
    Opened(Sock),
    Closed(Sock, u16),
    Error(Sock),
    Synced(Sock),
    Message(Sock),
    Pong {
        back: u64,
    },
    PongMade(u64),
    Timeout,
    /// Jump exactly to `poll_timeout()`, as a punctual driver does.
    ToDeadline,
    /// Whatever moves the story forward from the current state (start, open, sync, pong), so
    /// that random stories reach `Online` and its heartbeats often, not by luck.
    Cooperate,
}

/// Turns `Cooperate` into the concrete input it stands for.
fn resolve(op: Op, conn: &Connection, track: &Track) -> Op {
    match (op, conn.state()) {
        (Op::Cooperate, State::Offline) if !conn.status().wanted => Op::Start,
        (Op::Cooperate, State::Offline) => Op::Network(true),
        (Op::Cooperate, State::Connecting) => Op::Opened(Sock::Current),
        (Op::Cooperate, State::Syncing) => Op::Synced(Sock::Current),
        (Op::Cooperate, State::Online) if track.last_nonce.is_some() => Op::Pong { back: 0 },
        (Op::Cooperate, State::Online) => Op::Message(Sock::Current),
        (Op::Cooperate, State::Backoff { .. }) => Op::ToDeadline,
        (op, _) => op,
    }
}

fn sock() -> impl Strategy<Value = Sock> {
    prop_oneof![6 => Just(Sock::Current), 1 => Just(Sock::Previous), 1 => (0..5u64).prop_map(Sock::Made)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Start),
        1 => Just(Op::Stop),
        1 => any::<bool>().prop_map(Op::Network),
        1 => any::<bool>().prop_map(Op::Visibility),
        4 => sock().prop_map(Op::Opened),
        2 => (sock(), prop_oneof![Just(close_code::NORMAL), Just(close_code::ABNORMAL)]).prop_map(|(s, c)| Op::Closed(s, c)),
        2 => sock().prop_map(Op::Error),
        4 => sock().prop_map(Op::Synced),
        3 => sock().prop_map(Op::Message),
        3 => (0..3u64).prop_map(|back| Op::Pong { back }),
        1 => any::<u64>().prop_map(Op::PongMade),
        3 => Just(Op::Timeout),
        4 => Just(Op::ToDeadline),
        12 => Just(Op::Cooperate),
    ]
}

fn config() -> impl Strategy<Value = ConnectionConfig> {
    let ms = |lo: u64, hi: u64| (lo..hi).prop_map(Duration::from_millis);
    (
        ms(1, 5_000),
        1..10u32,
        1..4u32,
        0.0..=1.0f64,
        ms(1, 20_000),
        ms(1, 60_000),
        1..4u32,
        ms(1, 20_000),
        ms(1, 20_000),
    )
        .prop_map(
            |(base, cap_factor, multiplier, jitter, hb, hb_hidden, missed, connect, sync)| {
                ConnectionConfig {
                    backoff_base: base,
                    backoff_cap: base * cap_factor,
                    backoff_multiplier: multiplier,
                    backoff_jitter: jitter,
                    heartbeat_interval: hb,
                    heartbeat_interval_hidden: hb_hidden,
                    missed_pongs_before_dead: missed,
                    connect_timeout: connect,
                    sync_timeout: sync,
                }
            },
        )
}

/// What the checker remembers between steps.
#[derive(Default)]
struct Track {
    /// The last socket id handed out.
    opened: u64,
    /// Sockets closed by `CloseSocket` or by their own close event.
    closed: BTreeSet<u64>,
    /// The last ping nonce sent.
    last_nonce: Option<u64>,
}

/// The socket an op names, as of `track` before the op.
fn socket_of(s: Sock, track: &Track) -> SocketId {
    match s {
        Sock::Current => SocketId(track.opened),
        Sock::Previous => SocketId(track.opened.saturating_sub(1)),
        Sock::Made(id) => SocketId(id),
    }
}

fn apply(
    conn: &mut Connection,
    now: Instant,
    op: Op,
    track: &Track,
) -> Result<(), ConnectionError> {
    let socket = |s: Sock| socket_of(s, track);
    match op {
        Op::Start => conn.handle_start(now),
        Op::Stop => conn.handle_stop(now),
        Op::Network(up) => conn.handle_network(now, up),
        Op::Visibility(hidden) => conn.handle_visibility(now, hidden),
        Op::Opened(s) => return conn.handle_socket_opened(now, socket(s)),
        Op::Closed(s, code) => return conn.handle_socket_closed(now, socket(s), code),
        Op::Error(s) => return conn.handle_socket_error(now, socket(s)),
        Op::Synced(s) => return conn.handle_synced(now, socket(s)),
        Op::Message(s) => return conn.handle_message_received(now, socket(s)),
        Op::Pong { back } => {
            return conn.handle_pong(now, track.last_nonce.unwrap_or(0).saturating_sub(back));
        }
        Op::PongMade(nonce) => return conn.handle_pong(now, nonce),
        Op::Timeout | Op::ToDeadline | Op::Cooperate => conn.handle_timeout(now),
    }
    Ok(())
}

fn drain(conn: &mut Connection) -> (Vec<Action>, Vec<StateChanged>) {
    let actions = std::iter::from_fn(|| conn.poll_action()).collect();
    (actions, std::iter::from_fn(|| conn.poll_event()).collect())
}

/// Mostly the small gaps of a busy connection, sometimes long silences that trip timeouts.
fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![6 => 0..50u64, 3 => 0..3_000u64, 1 => 0..60_000u64]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_random_stories(
        config in config(),
        seed in any::<u64>(),
        steps in prop::collection::vec((op(), gap()), 1..200),
    ) {
        let mut conn = Connection::new(config.clone(), SplitMix64::new(seed)).unwrap();
        let (mut now, mut track) = (Instant::ZERO, Track::default());
        for (op, dt) in steps {
            let op = resolve(op, &conn, &track);
            now = match op {
                Op::ToDeadline => conn.poll_timeout().unwrap_or(now).max(now),
                _ => now + Duration::from_millis(dt),
            };
            // What the input must amount to if it is refused: just the timers firing.
            let mut shadow = conn.clone();
            shadow.handle_timeout(now);
            let before = conn.state();
            // The socket a close names, before the close's own actions (a retry due at once
            // opens the next socket in the same call).
            let closing = match op {
                Op::Closed(s, _) => Some(socket_of(s, &track).0),
                _ => None,
            };

            let result = apply(&mut conn, now, op, &track);
            if let Err(err) = &result {
                prop_assert_eq!(conn.status(), shadow.status(), "refused {:?} ({}) changed state", op, err);
                prop_assert_eq!(drain(&mut conn.clone()), drain(&mut shadow));
            }

            // Deadlines are strictly in the future: a driver following the drain rule never spins.
            if let Some(due) = conn.poll_timeout() {
                prop_assert!(due > now, "poll_timeout {} not after now {}", due, now);
            }

            let (actions, events) = drain(&mut conn);
            let mut opens = 0;
            for action in &actions {
                match *action {
                    Action::OpenSocket { socket } => {
                        prop_assert_eq!(socket.0, track.opened + 1, "socket ids are consecutive");
                        track.opened = socket.0;
                        opens += 1;
                    }
                    Action::CloseSocket { socket, .. } => {
                        prop_assert!(socket.0 <= track.opened && socket.0 > 0);
                        prop_assert!(track.closed.insert(socket.0), "{} closed twice", socket);
                    }
                    Action::SendPing { socket, nonce } => {
                        prop_assert_eq!(socket.0, track.opened);
                        prop_assert!(track.last_nonce.is_none_or(|last| nonce == last + 1));
                        track.last_nonce = Some(nonce);
                    }
                }
            }
            // Exactly one OpenSocket per connection attempt (entry into Connecting).
            let attempts = events.iter().filter(|e| e.to == State::Connecting).count();
            prop_assert_eq!(opens, attempts);

            let mut from = before;
            for event in &events {
                prop_assert_eq!(event.from, from, "transitions chain");
                prop_assert_eq!(event.at, now);
                from = event.to;
                match event.to {
                    State::Online => {
                        prop_assert!(matches!(op, Op::Synced(_)), "online without synced: {:?}", op);
                        prop_assert_eq!((event.from, event.cause), (State::Syncing, Cause::Synced));
                    }
                    State::Backoff { retry_at } => {
                        let failed = matches!(event.cause, Cause::Failed { .. });
                        prop_assert!(failed);
                        let delay = retry_at.saturating_duration_since(event.at);
                        prop_assert!(delay <= config.max_retry_delay(), "delay {:?} above cap", delay);
                        let floor = config.backoff_base.mul_f64(1.0 - config.backoff_jitter);
                        prop_assert!(delay + Duration::from_millis(1) >= floor, "delay {:?} below {:?}", delay, floor);
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(from, conn.state());

            let status = conn.status();
            prop_assert_eq!(status.next_retry_at.is_some(), matches!(status.state, State::Backoff { .. }));
            let live = matches!(status.state, State::Connecting | State::Syncing | State::Online);
            prop_assert_eq!(status.socket, live.then_some(SocketId(track.opened)));
            prop_assert_eq!(status.online_since.is_some(), status.state == State::Online);
            if status.state != State::Offline {
                prop_assert!(status.wanted && status.network_online);
            }
            // No leaked sockets: every socket left behind was closed by the machine or
            // reported its own close.
            if let (Some(closed), Ok(())) = (closing, &result) {
                track.closed.insert(closed);
            }
            let current = status.socket.map_or(0, |s| s.0);
            prop_assert!((1..=track.opened).filter(|id| *id != current).all(|id| track.closed.contains(&id)));
        }
    }
}
