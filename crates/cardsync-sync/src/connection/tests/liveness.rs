//! Life on an open socket: sync timeout, heartbeats, visibility, RTT, late drivers.

use std::time::Duration;

use super::Sim;
use crate::connection::*;
use crate::protocol::close_code;

#[test]
fn heartbeat_death_after_missed_pongs() {
    let mut sim = Sim::new(ConnectionConfig::default());
    let socket = sim.go_online();
    assert_eq!(sim.fire(), [Action::SendPing { socket, nonce: 0 }]);
    assert_eq!(sim.now, Instant(10_000));
    assert_eq!(sim.fire(), [Action::SendPing { socket, nonce: 1 }]);
    let reason = CloseCause::Failed {
        failure: Failure::HeartbeatTimeout,
    };
    assert_eq!(sim.fire(), [Action::CloseSocket { socket, reason }]);
    assert_eq!(sim.now, Instant(30_000));
    assert!(matches!(sim.conn.state(), State::Backoff { .. }));
    assert_eq!(
        sim.events.last().unwrap().cause,
        Cause::Failed {
            failure: Failure::HeartbeatTimeout
        }
    );
    // The late pong of the dead socket is refused.
    assert_eq!(
        sim.conn.handle_pong(sim.now, 1),
        Err(ConnectionError::UnknownPong { nonce: 1 })
    );
}

#[test]
fn any_inbound_traffic_keeps_the_socket_alive() {
    let mut sim = Sim::new(ConnectionConfig::default());
    let socket = sim.go_online();
    for _ in 0..10 {
        assert!(matches!(sim.fire()[..], [Action::SendPing { .. }]));
        sim.conn.handle_message_received(sim.now, socket).unwrap(); // No pongs, but updates.
    }
    assert_eq!(sim.conn.state(), State::Online);
}

#[test]
fn hidden_pages_ping_less_often() {
    let mut sim = Sim::new(ConnectionConfig::default());
    let socket = sim.go_online();
    sim.at_ms(3_000);
    sim.conn.handle_visibility(sim.now, true);
    assert_eq!(
        sim.conn.poll_timeout(),
        Some(Instant(60_000)),
        "measured from the last tick"
    );
    assert_eq!(sim.fire(), [Action::SendPing { socket, nonce: 0 }]);
    // Back in view long after the last tick: check the socket at once.
    sim.at_ms(100_000);
    sim.conn.handle_visibility(sim.now, false);
    assert_eq!(sim.drain(), [Action::SendPing { socket, nonce: 1 }]);
    assert_eq!(sim.conn.poll_timeout(), Some(Instant(110_000)));
}
#[test]
fn rtt_is_smoothed_and_reset_on_reconnect() {
    let mut sim = Sim::new(ConnectionConfig::default());
    let socket = sim.go_online();
    sim.fire();
    sim.conn
        .handle_pong(sim.now + Duration::from_millis(100), 0)
        .unwrap();
    sim.fire();
    sim.conn
        .handle_pong(sim.now + Duration::from_millis(200), 1)
        .unwrap();
    let status = sim.conn.status();
    let rtt = status.rtt.unwrap();
    assert_eq!(
        (rtt.srtt, rtt.rttvar, rtt.samples),
        (
            Duration::from_micros(112_500),
            Duration::from_micros(62_500),
            2
        )
    );
    assert_eq!(status.last_pong_at, Some(Instant(20_200)));
    assert_eq!(
        sim.conn.handle_pong(sim.now, 1),
        Err(ConnectionError::UnknownPong { nonce: 1 }),
        "duplicate"
    );
    assert_eq!(
        sim.conn.handle_pong(sim.now, 77),
        Err(ConnectionError::UnknownPong { nonce: 77 })
    );
    sim.conn
        .handle_socket_closed(sim.now, socket, close_code::ABNORMAL)
        .unwrap();
    sim.fire();
    assert_eq!(sim.conn.status().rtt, None);
    assert_eq!(
        sim.conn.status().last_pong_at,
        Some(Instant(20_200)),
        "kept for the UI"
    );
}
#[test]
fn sync_timeout_is_an_idle_timeout() {
    let mut sim = Sim::new(ConnectionConfig::default());
    sim.conn.handle_start(sim.now);
    let socket = sim.open();
    sim.conn.handle_socket_opened(sim.now, socket).unwrap();
    for t in (10_000..=100_000).step_by(10_000) {
        sim.at_ms(t);
        sim.conn.handle_message_received(sim.now, socket).unwrap(); // A big, slow sync.
    }
    assert_eq!(sim.conn.state(), State::Syncing);
    let reason = CloseCause::Failed {
        failure: Failure::SyncTimeout,
    };
    assert_eq!(sim.fire(), [Action::CloseSocket { socket, reason }]);
    assert_eq!(sim.now, Instant(115_000));
}

#[test]
fn a_late_driver_sees_deadlines_before_inputs() {
    let mut sim = Sim::new(ConnectionConfig::default());
    sim.conn.handle_start(sim.now);
    let socket = sim.open();
    sim.conn.handle_socket_opened(sim.now, socket).unwrap();
    // The driver never called handle_timeout at 15 s; the sync arrives at 20 s.
    sim.at_ms(20_000);
    let late = sim.conn.handle_synced(sim.now, socket);
    assert_eq!(
        late,
        Err(ConnectionError::StaleSocket {
            socket,
            current: None
        })
    );
    assert_eq!(sim.conn.status().last_failure, Some(Failure::SyncTimeout));
    // And a clock that runs backwards cannot move a deadline into the past.
    sim.conn.handle_timeout(Instant(5));
    assert!(sim.conn.poll_timeout().unwrap() > Instant(20_000));
}
