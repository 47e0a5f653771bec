//! Counters and latency samples, served in the Prometheus text format at `GET /metrics`
//! (`metrics_text.rs`) and as JSON at `GET /metrics.json` (the demo and the tests read that).
//!
//! Kept deliberately small: gauges (rooms, connections), counters (batches acked, rejections by
//! code, refusals, bytes in and out) and two derived figures an operator asks first, acked
//! batches per second and ack latency. Ack latency is measured where the driver sees it: from the moment a frame that
//! led to a persist was handed to the room until the room acked it (after the store made it
//! durable), so it covers validation, queueing for the writer and the fsync.
//!
//! In the JSON, latency percentiles come from the last [`WINDOW`] samples, and the rate from
//! the last ten whole seconds, so both describe now, not the process's lifetime. For
//! Prometheus, ack latency and store latency (one group commit's time in the store) are also
//! lifetime histograms with fixed buckets (`Histogram` in `histogram.rs`), from which a monitoring system
//! derives percentiles over any interval and across nodes.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cardsync_sync::protocol::RejectCode;
use serde::Serialize;

use crate::histogram::Histogram;
pub use crate::histogram::{BOUNDS, HistogramSnapshot};

/// Latency samples kept for percentiles.
pub const WINDOW: usize = 8192;
const RATE_SECONDS: u64 = 10;

/// The server's live figures.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    rooms: AtomicU64,
    connections: AtomicU64,
    batches_acked: AtomicU64,
    rejections: AtomicU64,
    rejections_by_code: [AtomicU64; RejectCode::ALL.len()],
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    compensations: AtomicU64,
    awareness_too_large: AtomicU64,
    awareness_rate_limited: AtomicU64,
    pauses: AtomicU64,
    refused_connections: AtomicU64,
    closed_by_room: AtomicU64,
    updates_persisted: AtomicU64,
    persist_failures: AtomicU64,
    compactions: AtomicU64,
    fenced: AtomicU64,
    caught_up: AtomicU64,
    rebuilds: AtomicU64,
    bus_connected: AtomicU64,
    store_available: AtomicU64,
    /// Ack latencies in microseconds, newest last.
    latencies: Mutex<VecDeque<u64>>,
    /// Acks per whole second since start: `(second, count)`, newest last.
    per_second: Mutex<VecDeque<(u64, u64)>>,
    /// Ack latency over the process's lifetime.
    ack_histogram: Histogram,
    /// Time of each group commit in the store (appends of one or more batches, with the
    /// retries of an unreachable database).
    store_histogram: Histogram,
}

/// The lifetime histograms, for the Prometheus exposition.
#[derive(Clone, Debug, PartialEq)]
pub struct Histograms {
    /// Ack latency.
    pub ack_latency: HistogramSnapshot,
    /// Store latency (one group commit).
    pub store_latency: HistogramSnapshot,
}

/// What `GET /metrics.json` returns (and, with [`Histograms`], what `GET /metrics` shows).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Snapshot {
    /// Seconds since start.
    pub uptime_s: u64,
    /// Rooms loaded now.
    pub rooms: u64,
    /// WebSocket connections now.
    pub connections: u64,
    /// Batches acked since start.
    pub batches_acked: u64,
    /// Acked batches per second over the last ten whole seconds.
    pub batches_per_s: f64,
    /// Ack latency percentiles over the last samples, in milliseconds.
    pub ack_latency_ms: Percentiles,
    /// Rejections sent since start.
    pub rejections: u64,
    /// Rejections sent since start, per stable code (every code, zeros included).
    pub rejections_by_code: BTreeMap<&'static str, u64>,
    /// Bytes read from clients' sockets (HTTP and WebSocket, headers included).
    pub bytes_received: u64,
    /// Bytes written to clients' sockets.
    pub bytes_sent: u64,
    /// Stock peers' invalid updates the rooms undid with a compensating change (each also
    /// logged as a warning with its violations).
    pub compensations: u64,
    /// Awareness (presence) messages the rooms dropped, by reason: `too_large` (over
    /// `room.max_awareness_bytes`) and `rate_limited` (over a peer's `room.awareness_rate`).
    pub awareness_dropped: BTreeMap<&'static str, u64>,
    /// Times a room paused reading a stock peer's socket until its batch rate allowed more
    /// (backpressure instead of a refusal it could not act on).
    pub pauses: u64,
    /// Connections refused at a process limit (rooms, connections).
    pub refused_connections: u64,
    /// Connections the rooms closed (auth, malformed or oversize frames, abuse).
    pub closed_by_room: u64,
    /// Updates appended to the store.
    pub updates_persisted: u64,
    /// Store writes that failed (each closes the room concerned).
    pub persist_failures: u64,
    /// Compactions done.
    pub compactions: u64,
    /// Rooms given up because their lease ended (docs/design.md §12).
    pub rooms_fenced: u64,
    /// Log entries other nodes appended that rooms caught up with.
    pub entries_caught_up: u64,
    /// Rooms rebuilt because another node appended first (their batches judged again).
    pub rebuilds: u64,
    /// Whether the bus that wakes rooms on other nodes' appends is listening (always `true`
    /// on a store no other node writes to).
    pub bus_connected: bool,
    /// Whether the store's last write went through (`false` while the writer is retrying an
    /// unreachable database: no ack leaves then).
    pub store_available: bool,
}

/// Latency percentiles in milliseconds (`None` before the first sample).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Samples they are computed from.
    pub samples: usize,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn sub(counter: &AtomicU64) {
    counter.fetch_sub(1, Ordering::Relaxed);
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            rooms: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            batches_acked: AtomicU64::new(0),
            rejections: AtomicU64::new(0),
            rejections_by_code: Default::default(),
            bytes_received: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            compensations: AtomicU64::new(0),
            awareness_too_large: AtomicU64::new(0),
            awareness_rate_limited: AtomicU64::new(0),
            pauses: AtomicU64::new(0),
            refused_connections: AtomicU64::new(0),
            closed_by_room: AtomicU64::new(0),
            updates_persisted: AtomicU64::new(0),
            persist_failures: AtomicU64::new(0),
            compactions: AtomicU64::new(0),
            fenced: AtomicU64::new(0),
            caught_up: AtomicU64::new(0),
            rebuilds: AtomicU64::new(0),
            bus_connected: AtomicU64::new(1),
            store_available: AtomicU64::new(1),
            latencies: Mutex::new(VecDeque::with_capacity(WINDOW)),
            per_second: Mutex::new(VecDeque::new()),
            ack_histogram: Histogram::default(),
            store_histogram: Histogram::default(),
        }
    }
}

impl Metrics {
    pub(crate) fn room_opened(&self) {
        add(&self.rooms, 1);
    }
    pub(crate) fn room_closed(&self) {
        sub(&self.rooms);
    }
    pub(crate) fn connection_opened(&self) {
        add(&self.connections, 1);
    }
    pub(crate) fn connection_closed(&self) {
        sub(&self.connections);
    }
    /// Rejections sent since the last count: `by_code[i]` of code `RejectCode::ALL[i]`.
    pub(crate) fn rejected(&self, by_code: &[u64]) {
        for (counter, n) in self.rejections_by_code.iter().zip(by_code) {
            add(counter, *n);
            add(&self.rejections, *n);
        }
    }
    pub(crate) fn received(&self, bytes: usize) {
        add(&self.bytes_received, bytes as u64);
    }
    pub(crate) fn sent(&self, bytes: usize) {
        add(&self.bytes_sent, bytes as u64);
    }
    /// A group commit took `latency` in the store.
    pub(crate) fn store_latency(&self, latency: Duration) {
        self.store_histogram.observe(latency);
    }
    /// Awareness messages dropped since the last count, over the size limit and over the rate.
    pub(crate) fn awareness_dropped(&self, too_large: u64, rate_limited: u64) {
        add(&self.awareness_too_large, too_large);
        add(&self.awareness_rate_limited, rate_limited);
    }
    pub(crate) fn compensated(&self) {
        add(&self.compensations, 1);
    }
    pub(crate) fn paused(&self) {
        add(&self.pauses, 1);
    }
    pub(crate) fn fenced(&self) {
        add(&self.fenced, 1);
    }
    pub(crate) fn caught_up(&self, entries: u64) {
        add(&self.caught_up, entries);
    }
    pub(crate) fn rebuilt(&self) {
        add(&self.rebuilds, 1);
    }
    /// Records whether the store is available; returns whether it was before.
    pub(crate) fn store_available(&self, up: bool) -> bool {
        self.store_available.swap(u64::from(up), Ordering::Relaxed) == 1
    }
    pub(crate) fn bus_connected(&self, up: bool) {
        self.bus_connected.store(u64::from(up), Ordering::Relaxed);
    }
    pub(crate) fn refused(&self) {
        add(&self.refused_connections, 1);
    }
    pub(crate) fn closed_by_room(&self) {
        add(&self.closed_by_room, 1);
    }
    pub(crate) fn persisted(&self, n: u64) {
        add(&self.updates_persisted, n);
    }
    pub(crate) fn persist_failed(&self) {
        add(&self.persist_failures, 1);
    }
    pub(crate) fn compacted(&self) {
        add(&self.compactions, 1);
    }

    /// `n` batches acked.
    pub(crate) fn acked(&self, n: u64) {
        if n == 0 {
            return;
        }
        add(&self.batches_acked, n);
        let second = self.started.elapsed().as_secs();
        let mut per_second = lock(&self.per_second);
        match per_second.back_mut() {
            Some((s, count)) if *s == second => *count += n,
            _ => per_second.push_back((second, n)),
        }
        while per_second
            .front()
            .is_some_and(|(s, _)| *s + RATE_SECONDS + 1 < second)
        {
            per_second.pop_front();
        }
    }

    /// A persist confirmed `latency` after the frame that caused it reached the room.
    pub(crate) fn ack_latency(&self, latency: Duration) {
        self.ack_histogram.observe(latency);
        let mut latencies = lock(&self.latencies);
        if latencies.len() == WINDOW {
            latencies.pop_front();
        }
        latencies.push_back(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    /// The lifetime histograms.
    pub fn histograms(&self) -> Histograms {
        Histograms {
            ack_latency: self.ack_histogram.snapshot(),
            store_latency: self.store_histogram.snapshot(),
        }
    }

    /// The current figures.
    pub fn snapshot(&self) -> Snapshot {
        let now = self.started.elapsed().as_secs();
        let recent: u64 = lock(&self.per_second)
            .iter()
            .filter(|(s, _)| *s < now && *s + RATE_SECONDS >= now)
            .map(|(_, n)| n)
            .sum();
        let span = RATE_SECONDS.min(now).max(1);
        let mut samples: Vec<u64> = lock(&self.latencies).iter().copied().collect();
        samples.sort_unstable();
        Snapshot {
            uptime_s: now,
            rooms: get(&self.rooms),
            connections: get(&self.connections),
            batches_acked: get(&self.batches_acked),
            batches_per_s: recent as f64 / span as f64,
            ack_latency_ms: Percentiles {
                p50: percentile(&samples, 50),
                p90: percentile(&samples, 90),
                p99: percentile(&samples, 99),
                samples: samples.len(),
            },
            rejections: get(&self.rejections),
            rejections_by_code: RejectCode::ALL
                .iter()
                .zip(&self.rejections_by_code)
                .map(|(code, n)| (code.as_str(), get(n)))
                .collect(),
            bytes_received: get(&self.bytes_received),
            bytes_sent: get(&self.bytes_sent),
            compensations: get(&self.compensations),
            awareness_dropped: BTreeMap::from([
                ("too_large", get(&self.awareness_too_large)),
                ("rate_limited", get(&self.awareness_rate_limited)),
            ]),
            pauses: get(&self.pauses),
            refused_connections: get(&self.refused_connections),
            closed_by_room: get(&self.closed_by_room),
            updates_persisted: get(&self.updates_persisted),
            persist_failures: get(&self.persist_failures),
            compactions: get(&self.compactions),
            rooms_fenced: get(&self.fenced),
            entries_caught_up: get(&self.caught_up),
            rebuilds: get(&self.rebuilds),
            bus_connected: get(&self.bus_connected) == 1,
            store_available: get(&self.store_available) == 1,
        }
    }
}

/// Nearest-rank percentile of sorted microsecond samples, in milliseconds.
fn percentile(sorted: &[u64], p: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_counters() {
        let m = Metrics::default();
        assert_eq!(m.snapshot().ack_latency_ms.p50, None);
        for ms in 1..=100 {
            m.acked(1);
            m.ack_latency(Duration::from_millis(ms));
        }
        let mut by_code = [0; RejectCode::ALL.len()];
        by_code[RejectCode::Forbidden.index()] = 1;
        m.rejected(&by_code);
        m.room_opened();
        let s = m.snapshot();
        assert_eq!(s.ack_latency_ms.p50, Some(50.0));
        assert_eq!(s.ack_latency_ms.p90, Some(90.0));
        assert_eq!(s.rejections_by_code["forbidden"], 1);
        assert_eq!(s.rejections_by_code["malformed"], 0);
        assert_eq!(m.histograms().ack_latency.count, 100);
        assert_eq!(s.ack_latency_ms.p99, Some(99.0));
        assert_eq!((s.batches_acked, s.rejections, s.rooms), (100, 1, 1));
    }
}
