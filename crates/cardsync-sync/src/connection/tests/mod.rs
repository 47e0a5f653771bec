//! Scripted scenarios: each test is one story a driver could live through, checked action by
//! action and event by event. The invariants over random stories are in `proptests.rs`.
//!
//! `lifecycle` covers how the machine gets on and off the network (start, stop, network,
//! backoff); `liveness` covers what happens once a socket is open (sync, heartbeat, RTT).

use std::time::Duration;

use super::*;

mod lifecycle;
mod liveness;

pub(super) struct Sim {
    pub(super) conn: Connection,
    pub(super) now: Instant,
    pub(super) events: Vec<StateChanged>,
}

impl Sim {
    pub(super) fn new(config: ConnectionConfig) -> Self {
        Sim {
            conn: Connection::new(config, SplitMix64::new(99)).unwrap(),
            now: Instant::ZERO,
            events: Vec::new(),
        }
    }

    pub(super) fn at_ms(&mut self, ms: u64) {
        self.now = Instant(ms);
    }

    /// Drains both queues; returns the actions, keeps the events.
    pub(super) fn drain(&mut self) -> Vec<Action> {
        self.events
            .extend(std::iter::from_fn(|| self.conn.poll_event()));
        std::iter::from_fn(|| self.conn.poll_action()).collect()
    }

    /// Jumps to the next deadline and fires it.
    pub(super) fn fire(&mut self) -> Vec<Action> {
        self.now = self.conn.poll_timeout().expect("a deadline");
        self.conn.handle_timeout(self.now);
        self.drain()
    }

    pub(super) fn open(&mut self) -> SocketId {
        match self.drain().as_slice() {
            [Action::OpenSocket { socket }] => *socket,
            other => panic!("expected one OpenSocket, got {other:?}"),
        }
    }

    /// From `Offline` to `Online` at the current time.
    pub(super) fn go_online(&mut self) -> SocketId {
        self.conn.handle_start(self.now);
        let socket = self.open();
        self.conn.handle_socket_opened(self.now, socket).unwrap();
        self.conn.handle_synced(self.now, socket).unwrap();
        assert_eq!(self.drain(), []);
        socket
    }
}

pub(super) fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn happy_path() {
    let mut sim = Sim::new(ConnectionConfig::default());
    assert_eq!(
        (sim.conn.state(), sim.conn.poll_timeout()),
        (State::Offline, None)
    );

    sim.at_ms(1_000);

    sim.conn.handle_start(sim.now);
    assert_eq!(
        sim.drain(),
        [Action::OpenSocket {
            socket: SocketId(1)
        }]
    );
    assert_eq!(
        sim.conn.poll_timeout(),
        Some(Instant(11_000)),
        "connect timeout"
    );

    sim.at_ms(1_100);

    sim.conn.handle_socket_opened(sim.now, SocketId(1)).unwrap();
    assert_eq!(
        sim.conn.poll_timeout(),
        Some(Instant(16_100)),
        "sync timeout"
    );
    sim.at_ms(1_200);
    sim.conn
        .handle_message_received(sim.now, SocketId(1))
        .unwrap();
    sim.at_ms(1_300);
    sim.conn.handle_synced(sim.now, SocketId(1)).unwrap();
    assert_eq!(sim.drain(), []);
    assert_eq!(
        sim.conn.poll_timeout(),
        Some(Instant(11_300)),
        "first heartbeat"
    );

    let causes: Vec<_> = sim.events.iter().map(|e| (e.to, e.cause)).collect();
    assert_eq!(
        causes,
        [
            (State::Connecting, Cause::Started),
            (State::Syncing, Cause::SocketOpened),
            (State::Online, Cause::Synced)
        ]
    );
    let status = sim.conn.status();
    assert_eq!(
        (status.state, status.socket, status.online_since),
        (State::Online, Some(SocketId(1)), Some(Instant(1_300)))
    );
    assert_eq!(
        (
            status.consecutive_failures,
            status.next_retry_at,
            status.rtt
        ),
        (0, None, None)
    );
    assert_eq!(status.last_received_at, Some(Instant(1_200)));
}
