//! The HTTP accept loop: `axum::serve`, plus a deadline on every request head.
//!
//! **Why not `axum::serve`.** It runs hyper without a timer, and hyper's
//! `header_read_timeout` only works with one: a client that opens a TCP connection and sends
//! the head of an upgrade request a byte at a time (slow loris) would hold its socket and a
//! task forever, and a few thousand of them exhaust the process's file descriptors before
//! `max_connections` (which counts WebSockets, after the upgrade) ever applies. Here every
//! connection gets a tokio timer, so a request head that is not complete within
//! `limits.handshake_timeout_ms` closes the connection. After the upgrade the WebSocket's own
//! idle timeout takes over (`conn.rs`).
//!
//! Shutdown is `axum::serve`'s graceful one: stop accepting, ask every connection to finish
//! its request and close, and return once all have.

use std::pin::pin;
use std::time::Duration;

use axum::{Extension, Router};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::meter::{Meter, Metered};
use crate::metrics::Metrics;
use crate::traffic::Counted;

/// How long to wait before accepting again after `accept` failed (typically out of file
/// descriptors), as `axum::serve` does.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `stop` turns true, then waits for every connection.
/// Every connection's bytes are counted in `metrics` (`traffic.rs`).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    head_timeout: Duration,
    metrics: std::sync::Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    // Every connection task holds a receiver; `closed` resolves once all are dropped.
    let (open_tx, open_rx) = watch::channel(());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Frames are small and latency is the product (an edit should reach the
                    // other tabs within a millisecond): no Nagle delay behind an
                    // unacknowledged frame.
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "cannot set TCP_NODELAY");
                    }
                    stream
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        // Reads are metered against the budget for bytes in flight once the connection is a
        // WebSocket (`meter.rs`); the room handler finds the meter in the request.
        let meter = Meter::default();
        let stream = Metered::new(Counted::new(stream, metrics.clone()), meter.clone());
        let service = TowerToHyperService::new(app.clone().layer(Extension(meter)));
        let (open, mut stop) = (open_rx.clone(), stop.clone());
        tokio::spawn(async move {
            let _open = open;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = pin!(conn.with_upgrades());
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(error) = result {
                            tracing::debug!(%error, "connection ended");
                        }
                        break;
                    }
                    () = stopped(&mut stop), if !stopping => {
                        stopping = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        });
    }
    drop(listener);
    drop(open_rx);
    open_tx.closed().await;
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}
