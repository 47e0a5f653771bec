//! The metrics in the Prometheus text exposition format (version 0.0.4), for `GET /metrics`.
//!
//! Ops tools (Prometheus, the OpenTelemetry collector, Grafana Agent, Datadog's OpenMetrics
//! check) all scrape this format, so a deployment needs no adapter. Written by hand: the format
//! is a few lines per family (`# HELP`, `# TYPE`, samples), and the figures already live in
//! [`Metrics`], so a metrics library would only add a second registry to keep in step.
//!
//! Names follow Prometheus conventions: a `cardsync_` prefix, base units (seconds, bytes),
//! `_total` on counters. Rejections are one counter family labelled by the stable reject
//! code, every code present from the start (a series that appears only on its first increment
//! breaks `rate()` over it). Latencies are histograms with the fixed buckets of
//! `histogram.rs`. The JSON at `/metrics.json` carries the same figures plus the windowed ones
//! (batches per second, exact recent percentiles), which only make sense in one process.

use std::fmt::Write as _;

use crate::metrics::{HistogramSnapshot, Metrics};

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders every metric.
pub fn render(metrics: &Metrics) -> String {
    let s = metrics.snapshot();
    let h = metrics.histograms();
    let mut out = String::with_capacity(4096);
    let gauges = [
        (
            "uptime_seconds",
            "Seconds since the server started.",
            s.uptime_s,
        ),
        ("rooms", "Rooms (documents) loaded now.", s.rooms),
        ("connections", "WebSocket connections now.", s.connections),
        (
            "bus_connected",
            "1 while the bus that wakes rooms on other nodes' appends listens.",
            u64::from(s.bus_connected),
        ),
        (
            "store_available",
            "1 while the store's last write went through.",
            u64::from(s.store_available),
        ),
    ];
    for (name, help, value) in gauges {
        family(&mut out, name, help, "gauge");
        sample(&mut out, name, "", value);
    }
    let counters = [
        ("batches_acked_total", "Batches acked.", s.batches_acked),
        (
            "bytes_received_total",
            "Bytes read from client connections.",
            s.bytes_received,
        ),
        (
            "bytes_sent_total",
            "Bytes written to client connections.",
            s.bytes_sent,
        ),
        (
            "compensations_total",
            "Stock peers' invalid updates undone with a compensating change.",
            s.compensations,
        ),
        (
            "pauses_total",
            "Times a stock peer's socket was left unread for its batch rate.",
            s.pauses,
        ),
        (
            "refused_connections_total",
            "Connections refused at a process limit.",
            s.refused_connections,
        ),
        (
            "closed_by_room_total",
            "Connections a room closed (auth, malformed or oversize frames, abuse).",
            s.closed_by_room,
        ),
        (
            "updates_persisted_total",
            "Updates appended to the store.",
            s.updates_persisted,
        ),
        (
            "persist_failures_total",
            "Store writes that failed.",
            s.persist_failures,
        ),
        ("compactions_total", "Compactions done.", s.compactions),
        (
            "rooms_fenced_total",
            "Rooms given up because their lease ended.",
            s.rooms_fenced,
        ),
        (
            "entries_caught_up_total",
            "Log entries other nodes appended that rooms caught up with.",
            s.entries_caught_up,
        ),
        (
            "rebuilds_total",
            "Rooms rebuilt because another node appended first.",
            s.rebuilds,
        ),
    ];
    for (name, help, value) in counters {
        family(&mut out, name, help, "counter");
        sample(&mut out, name, "", value);
    }
    let name = "batches_rejected_total";
    family(
        &mut out,
        name,
        "Batches rejected, by stable code.",
        "counter",
    );
    for (code, n) in &s.rejections_by_code {
        sample(&mut out, name, &format!("code=\"{code}\""), *n);
    }
    let name = "awareness_dropped_total";
    family(
        &mut out,
        name,
        "Awareness (presence) messages dropped, by reason (too_large, rate_limited).",
        "counter",
    );
    for (reason, n) in &s.awareness_dropped {
        sample(&mut out, name, &format!("reason=\"{reason}\""), *n);
    }
    histogram(
        &mut out,
        "ack_latency_seconds",
        "From a batch's frame reaching its room to its ack (validation, queueing, the store).",
        &h.ack_latency,
    );
    histogram(
        &mut out,
        "store_latency_seconds",
        "One group commit's time in the store, retries included.",
        &h.store_latency,
    );
    out
}

fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP cardsync_{name} {help}");
    let _ = writeln!(out, "# TYPE cardsync_{name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: u64) {
    let _ = if labels.is_empty() {
        writeln!(out, "cardsync_{name} {value}")
    } else {
        writeln!(out, "cardsync_{name}{{{labels}}} {value}")
    };
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    family(out, name, help, "histogram");
    for (bound, n) in &h.buckets {
        let _ = writeln!(out, "cardsync_{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "cardsync_{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "cardsync_{name}_sum {}", h.sum_seconds);
    let _ = writeln!(out, "cardsync_{name}_count {}", h.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_type_and_samples() {
        let m = Metrics::default();
        m.ack_latency(std::time::Duration::from_millis(2));
        let text = render(&m);
        assert!(text.contains("# TYPE cardsync_ack_latency_seconds histogram\n"));
        assert!(text.contains("cardsync_ack_latency_seconds_bucket{le=\"0.0025\"} 1\n"));
        assert!(text.contains("cardsync_ack_latency_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("cardsync_ack_latency_seconds_count 1\n"));
        assert!(text.contains("cardsync_batches_rejected_total{code=\"forbidden\"} 0\n"));
        assert!(text.contains("cardsync_rooms 0\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(line.starts_with("cardsync_"), "{line}");
        }
    }
}
