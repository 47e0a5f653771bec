//! Getting on and off the network: backoff, network events, stop, refused inputs.

use super::{Sim, secs};
use crate::connection::*;
use crate::protocol::close_code;

#[test]
fn backoff_doubles_to_the_cap_with_bounded_jitter() {
    for jitter in [0.0, 0.5, 1.0] {
        let config = ConnectionConfig {
            backoff_jitter: jitter,
            ..ConnectionConfig::default()
        };
        let mut sim = Sim::new(config);
        sim.conn.handle_start(sim.now);
        let mut socket = sim.open();
        for (n, nominal) in [2, 4, 8, 8, 8].into_iter().enumerate() {
            // Alternate failure kinds: all of them count.
            if n % 2 == 0 {
                sim.conn.handle_socket_error(sim.now, socket).unwrap();
                let reason = CloseCause::Failed {
                    failure: Failure::SocketError,
                };
                assert_eq!(sim.drain(), [Action::CloseSocket { socket, reason }]);
            } else {
                assert_eq!(
                    sim.fire(),
                    [Action::CloseSocket {
                        socket,
                        reason: CloseCause::Failed {
                            failure: Failure::ConnectTimeout,
                        }
                    }]
                );
            }
            let status = sim.conn.status();
            let retry_at = status.next_retry_at.expect("backing off");
            assert_eq!(status.consecutive_failures, n as u32 + 1);
            let delay = retry_at.saturating_duration_since(sim.now);
            let (lo, hi) = (
                secs(nominal).mul_f64(1.0 - jitter),
                secs(nominal).mul_f64(1.0 + jitter),
            );
            assert!(
                (lo..=hi).contains(&delay),
                "failure {n}: {delay:?} outside {lo:?}..={hi:?}"
            );
            assert!(delay <= sim.conn.config().max_retry_delay());
            if jitter == 0.0 {
                assert_eq!(delay, secs(nominal));
            }
            let [Action::OpenSocket { socket: next }] = sim.fire()[..] else {
                panic!("expected a retry")
            };
            assert_eq!(next.0, socket.0 + 1, "one socket per attempt");
            socket = next;
        }
        // Going online resets the count: the next failure waits the base delay again.
        sim.conn.handle_socket_opened(sim.now, socket).unwrap();
        sim.conn.handle_synced(sim.now, socket).unwrap();
        assert_eq!(sim.conn.status().consecutive_failures, 0);
        sim.conn
            .handle_socket_closed(sim.now, socket, close_code::GOING_AWAY)
            .unwrap();
        assert_eq!(sim.drain(), [], "a closed socket needs no CloseSocket");
        let delay = sim
            .conn
            .status()
            .next_retry_at
            .unwrap()
            .saturating_duration_since(sim.now);
        assert!(delay <= secs(2).mul_f64(1.0 + jitter), "{delay:?}");
        assert_eq!(
            sim.conn.status().last_failure,
            Some(Failure::SocketClosed {
                code: close_code::GOING_AWAY
            })
        );
    }
}
#[test]
fn network_offline_and_online() {
    let mut sim = Sim::new(ConnectionConfig::default());
    let socket = sim.go_online();
    sim.at_ms(5_000);
    sim.conn.handle_network(sim.now, false);
    assert_eq!(
        sim.drain(),
        [Action::CloseSocket {
            socket,
            reason: CloseCause::NetworkOffline
        }]
    );
    assert_eq!(
        (sim.conn.state(), sim.conn.poll_timeout()),
        (State::Offline, None)
    );
    sim.at_ms(500_000);
    sim.conn.handle_timeout(sim.now);
    sim.conn.handle_network(sim.now, false); // Repeated facts are harmless.
    assert_eq!(sim.drain(), [], "no retries while the network is down");
    assert_eq!(
        sim.conn
            .handle_socket_closed(sim.now, socket, close_code::NORMAL),
        Err(ConnectionError::StaleSocket {
            socket,
            current: None
        })
    );

    sim.at_ms(600_000);

    sim.conn.handle_network(sim.now, true);
    assert_eq!(
        sim.drain(),
        [Action::OpenSocket {
            socket: SocketId(2)
        }],
        "reconnect at once"
    );
    assert_eq!(sim.events.last().unwrap().cause, Cause::NetworkOnline);

    // Going down during a backoff cancels the retry and its failure count.
    sim.conn.handle_socket_error(sim.now, SocketId(2)).unwrap();
    sim.conn.handle_network(sim.now, false);
    assert_eq!(
        (sim.conn.state(), sim.conn.status().consecutive_failures),
        (State::Offline, 0)
    );
    // A start while the network is down waits for it.
    sim.conn.handle_stop(sim.now);
    sim.conn.handle_start(sim.now);
    sim.drain();
    assert_eq!(
        (sim.conn.state(), sim.conn.status().wanted),
        (State::Offline, true)
    );
    sim.conn.handle_network(sim.now, true);
    assert_eq!(
        sim.drain(),
        [Action::OpenSocket {
            socket: SocketId(3)
        }]
    );
}

#[test]
fn stop_while_connecting() {
    let mut sim = Sim::new(ConnectionConfig::default());
    sim.conn.handle_start(sim.now);
    let socket = sim.open();
    sim.at_ms(50);
    sim.conn.handle_stop(sim.now);
    assert_eq!(
        sim.drain(),
        [Action::CloseSocket {
            socket,
            reason: CloseCause::Stopped
        }]
    );
    assert_eq!(
        (sim.conn.state(), sim.conn.poll_timeout()),
        (State::Offline, None)
    );
    // The socket opens anyway, too late: refused, still offline.
    sim.at_ms(80);
    let late = sim.conn.handle_socket_opened(sim.now, socket);
    assert_eq!(
        late,
        Err(ConnectionError::StaleSocket {
            socket,
            current: None
        })
    );
    assert_eq!(sim.conn.state(), State::Offline);
    sim.at_ms(90);
    sim.conn.handle_start(sim.now);
    assert_eq!(
        sim.drain(),
        [Action::OpenSocket {
            socket: SocketId(2)
        }]
    );
}
#[test]
fn out_of_place_inputs_are_refused_without_effect() {
    let mut sim = Sim::new(ConnectionConfig::default());
    let offline = sim.conn.handle_socket_opened(sim.now, SocketId(1));
    assert_eq!(
        offline,
        Err(ConnectionError::StaleSocket {
            socket: SocketId(1),
            current: None
        })
    );
    sim.conn.handle_start(sim.now);
    let socket = sim.open();
    let before = sim.conn.status();
    for (input, result) in [
        (InputKind::Synced, sim.conn.handle_synced(sim.now, socket)),
        (
            InputKind::MessageReceived,
            sim.conn.handle_message_received(sim.now, socket),
        ),
    ] {
        assert_eq!(
            result,
            Err(ConnectionError::UnexpectedInput {
                input,
                state: State::Connecting
            })
        );
    }
    sim.conn.handle_socket_opened(sim.now, socket).unwrap();
    let twice = sim.conn.handle_socket_opened(sim.now, socket);
    assert_eq!(
        twice,
        Err(ConnectionError::UnexpectedInput {
            input: InputKind::SocketOpened,
            state: State::Syncing
        })
    );
    assert_eq!(
        sim.conn.handle_pong(sim.now, 0),
        Err(ConnectionError::UnknownPong { nonce: 0 })
    );
    assert_eq!(
        sim.conn.status(),
        ConnectionStatus {
            state: State::Syncing,
            ..before
        }
    );
    assert!(twice.unwrap_err().to_string().contains("syncing"));
}
#[test]
fn status_serializes_for_javascript() {
    let mut sim = Sim::new(ConnectionConfig::default());
    sim.conn.handle_start(sim.now);
    let socket = sim.open();
    sim.at_ms(1_000);
    sim.conn.handle_socket_error(sim.now, socket).unwrap();
    let json = serde_json::to_value(sim.conn.status()).unwrap();
    assert_eq!(json["state"]["kind"], "backoff");
    // Field names are camelCase for JavaScript; tags stay snake_case string values.
    assert_eq!(json["state"]["retryAt"], json["nextRetryAt"]);
    assert!(json["nextRetryAt"].is_u64());
    assert_eq!(
        json["lastFailure"],
        serde_json::json!({ "kind": "socket_error" })
    );
    assert_eq!(json["consecutiveFailures"], 1);
}

#[test]
fn a_failure_cause_keeps_both_tags() {
    // JavaScript reads these objects (`ConnectionCause` in the wasm types): the cause's `kind`
    // and the failure's `kind` must both survive, nested, not collide in one object.
    let cause = Cause::Failed {
        failure: Failure::SocketClosed { code: 1006 },
    };
    let json = serde_json::to_value(cause).unwrap();
    let expected = serde_json::json!({
        "kind": "failed",
        "failure": { "kind": "socket_closed", "code": 1006 },
    });
    assert_eq!(json, expected);
    assert_eq!(serde_json::from_value::<Cause>(json).unwrap(), cause);
    let reason = CloseCause::Failed {
        failure: Failure::SocketError,
    };
    let json = serde_json::to_value(reason).unwrap();
    let expected = serde_json::json!({ "kind": "failed", "failure": { "kind": "socket_error" } });
    assert_eq!(json, expected);
}
