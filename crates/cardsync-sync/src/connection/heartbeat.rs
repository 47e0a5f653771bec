//! Liveness: when to ping, when a silent socket is dead, and which pongs are genuine.
//!
//! A TCP connection through a NAT or a sleeping laptop can die without either end being
//! told; the only way to notice is to expect traffic. The rule here is count-based, as
//! docs/design.md §6 asks ("ping every N s, dead after M missed"), but *any* inbound message
//! counts as an answer, not only a pong: a busy socket streaming updates is plainly alive
//! even if a pong is queued behind a large update.
//!
//! Each heartbeat tick (every `heartbeat_interval`, or the hidden-page interval):
//! * if `M` pings have gone out since anything was last heard, the socket is dead;
//! * otherwise another ping goes out.
//!
//! With `M = 2` and 10 s, a socket silent since `t` pings at `t+10` and `t+20` and is dropped
//! at `t+30`. Nonces come from one counter that survives reconnects, so a pong that arrives
//! late on an abandoned socket can never be mistaken for an answer on the new one.

use std::collections::VecDeque;
use std::time::Duration;

use crate::time::Instant;

/// What a heartbeat tick asks the connection to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Send a ping with this nonce.
    Ping(u64),
    /// Too many pings went unanswered: the socket is dead.
    Dead,
}

/// Heartbeat bookkeeping for one connection (reset each time the machine goes online).
#[derive(Clone, Debug)]
pub(crate) struct Heartbeat {
    /// When the last tick ran (or when the connection went online): the next tick is due one
    /// interval later. Measured from the last tick rather than from `now` so that switching
    /// the interval on a visibility change neither skips nor doubles a tick.
    last_tick: Instant,
    /// Pings sent since any inbound traffic was last heard.
    unanswered: u32,
    /// Pings whose pong has not arrived, oldest first, with their send times. Bounded by
    /// `M` because the socket is dropped before more can pile up.
    in_flight: VecDeque<(u64, Instant)>,
    /// The next nonce to hand out; never reset, see the module docs.
    next_nonce: u64,
}

impl Heartbeat {
    pub(crate) fn new() -> Self {
        Heartbeat {
            last_tick: Instant::ZERO,
            unanswered: 0,
            in_flight: VecDeque::new(),
            next_nonce: 0,
        }
    }

    /// Starts a fresh connection at `now`: nothing in flight, nothing missed.
    pub(crate) fn restart(&mut self, now: Instant) {
        self.last_tick = now;
        self.unanswered = 0;
        self.in_flight.clear();
    }

    /// When the next tick is due, given the interval currently in force.
    pub(crate) fn next_due(&self, interval: Duration) -> Instant {
        self.last_tick + interval
    }

    /// Runs a tick at `now` (the caller checks it is due).
    pub(crate) fn tick(&mut self, now: Instant, missed_before_dead: u32) -> Tick {
        self.last_tick = now;
        if self.unanswered >= missed_before_dead {
            return Tick::Dead;
        }
        let nonce = self.next_nonce;
        self.next_nonce = self.next_nonce.wrapping_add(1);
        self.unanswered += 1;
        if self.in_flight.len() >= missed_before_dead as usize {
            self.in_flight.pop_front(); // Its pong is hopelessly late; forget it.
        }
        self.in_flight.push_back((nonce, now));
        Tick::Ping(nonce)
    }

    /// Any inbound traffic: the socket is alive.
    pub(crate) fn heard(&mut self) {
        self.unanswered = 0;
    }

    /// A pong for `nonce`: the RTT sample, or `None` if no ping with that nonce is in flight
    /// (a duplicate, a forgery, or an answer to a socket already abandoned).
    ///
    /// Pings older than the answered one are forgotten: their pongs would arrive out of order,
    /// which the protocol does not produce on one ordered socket.
    pub(crate) fn pong(&mut self, now: Instant, nonce: u64) -> Option<Duration> {
        let pos = self.in_flight.iter().position(|&(n, _)| n == nonce)?;
        let (_, sent) = self.in_flight[pos];
        self.in_flight.drain(..=pos);
        self.heard();
        Some(now.saturating_duration_since(sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_after_m_silent_ticks() {
        let mut hb = Heartbeat::new();
        hb.restart(Instant(0));
        assert_eq!(hb.tick(Instant(10), 2), Tick::Ping(0));
        assert_eq!(hb.tick(Instant(20), 2), Tick::Ping(1));
        assert_eq!(hb.tick(Instant(30), 2), Tick::Dead);
    }

    #[test]
    fn any_traffic_resets_the_count() {
        let mut hb = Heartbeat::new();
        hb.restart(Instant(0));
        hb.tick(Instant(10), 2);
        hb.tick(Instant(20), 2);
        hb.heard();
        assert_eq!(hb.tick(Instant(30), 2), Tick::Ping(2));
    }

    #[test]
    fn pongs_match_nonces_once() {
        let mut hb = Heartbeat::new();
        hb.restart(Instant(0));
        hb.tick(Instant(10), 2);
        hb.tick(Instant(20), 2);
        assert_eq!(hb.pong(Instant(25), 1), Some(Duration::from_millis(5)));
        assert_eq!(hb.pong(Instant(26), 1), None, "duplicate");
        assert_eq!(hb.pong(Instant(26), 0), None, "older than an answered ping");
        hb.restart(Instant(30));
        assert_eq!(
            hb.tick(Instant(40), 2),
            Tick::Ping(2),
            "nonces survive reconnects"
        );
    }
}
