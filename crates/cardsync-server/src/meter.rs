//! Metering a WebSocket's reads against the budget for bytes in flight, so that frames being
//! read count too, not only frames already read.
//!
//! The socket layer buffers a whole frame before the connection task sees it, so a budget
//! charged only after a frame arrived lets fifty connections each read a 4 MiB frame at once:
//! 200 MB, whatever the budget says. [`Metered`] wraps the TCP stream under hyper and the
//! WebSocket layer and counts the bytes they read. Each connection may read [`ALLOWANCE`] bytes
//! beyond what it settled without asking anyone (cardsync batches, pings and acks are far
//! smaller); past that, it reserves the largest frame it may be reading (the socket layer's
//! message limit) from the budget, all at once, before it reads on. All at once, because
//! connections each holding part of what they need could together hold the whole budget and
//! none finish its frame. While the budget cannot cover the reservation, the stream reads
//! nothing: the bytes stay in the kernel and the client's TCP window closes.
//!
//! When the connection task gets a message it [`Meter::settle`]s it: the bytes read for it are
//! no longer counted as being read, and if a reservation covered it, the frame's own length of
//! it becomes the frame's [`Charge`] (handed on with the frame to the room) and the rest goes
//! back to the budget. A frame that came within the allowance is charged afterwards
//! (`conn.rs`). Reads are capped at [`ALLOWANCE`] bytes each, so what a read fetched past the
//! end of a message stays within the allowance. Metering starts when the socket becomes a
//! WebSocket ([`Meter::activate`]); the HTTP request head is bounded by hyper.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

use crate::budget::{Budget, Charge};

/// Bytes a connection may have read and not settled without reserving from the budget; also
/// the most one read fetches.
pub(crate) const ALLOWANCE: usize = 16 << 10;

/// One connection's count, shared by its [`Metered`] stream and its connection task.
#[derive(Clone, Debug, Default)]
pub(crate) struct Meter(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// The budget, once the socket is a WebSocket; `None` reads unmetered.
    budget: Option<Arc<Semaphore>>,
    /// What a reservation takes: the largest frame the socket layer reads.
    reservation: u32,
    /// Bytes read and not yet settled.
    held: usize,
    /// The reservation, while a frame larger than the allowance is being read.
    reserved: Option<OwnedSemaphorePermit>,
}

/// The WebSocket frame header of a client frame with `payload` bytes: 2 bytes, the mask, and
/// an extended length for payloads of 126 bytes or more.
fn header(payload: usize) -> usize {
    6 + match payload {
        0..126 => 0,
        126..65_536 => 2,
        _ => 8,
    }
}

impl Meter {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts metering against `budget`; `frame_limit` is the socket layer's message limit.
    pub fn activate(&self, budget: &Budget, frame_limit: usize) {
        let mut state = self.state();
        state.reservation = budget.cost(frame_limit);
        state.budget = Some(budget.semaphore());
        state.held = 0;
    }

    /// The connection task got a message with `payload` bytes: they are no longer being
    /// read. Returns the frame's charge if a reservation covered it (the rest of the
    /// reservation goes back), else `None`: the caller charges the frame itself.
    pub fn settle(&self, payload: usize) -> Option<Charge> {
        let mut state = self.state();
        state.held = state.held.saturating_sub(payload + header(payload));
        let mut reserved = state.reserved.take()?;
        let own = payload.min(reserved.num_permits());
        reserved.split(own).map(Charge::from_permit)
    }
}

/// What a read does next.
enum Step {
    /// Read without metering (not a WebSocket yet, or past the frame limit, which the socket
    /// layer refuses anyway).
    Plain,
    /// Read at most this many bytes.
    Read(usize),
    /// Reserve this many bytes of the budget first.
    Reserve(Arc<Semaphore>, u32),
}

type Acquire = Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send>>;

/// A stream whose reads are metered by a [`Meter`] (see the module docs of `crates/cardsync-server/src/meter.rs`).
pub(crate) struct Metered<S> {
    inner: S,
    meter: Meter,
    /// A reservation being waited for.
    acquiring: Option<Acquire>,
}

impl<S> Metered<S> {
    pub fn new(inner: S, meter: Meter) -> Self {
        Self {
            inner,
            meter,
            acquiring: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            let step = {
                let state = this.meter.state();
                match &state.budget {
                    None => Step::Plain,
                    Some(budget) => {
                        let reserved = state.reserved.as_ref().map_or(0, |p| p.num_permits());
                        let cap = ALLOWANCE + reserved;
                        if state.held < cap {
                            Step::Read((cap - state.held).min(ALLOWANCE))
                        } else if state.reserved.is_none() {
                            Step::Reserve(Arc::clone(budget), state.reservation)
                        } else {
                            Step::Plain
                        }
                    }
                }
            };
            match step {
                Step::Plain => return Pin::new(&mut this.inner).poll_read(cx, buf),
                Step::Reserve(budget, bytes) => {
                    let acquire = this
                        .acquiring
                        .get_or_insert_with(|| Box::pin(budget.acquire_many_owned(bytes)));
                    let acquired = ready!(acquire.as_mut().poll(cx));
                    this.acquiring = None;
                    let mut state = this.meter.state();
                    match acquired {
                        Ok(permit) => state.reserved = Some(permit),
                        // The budget is never closed; if it were, read unmetered.
                        Err(_) => state.budget = None,
                    }
                }
                Step::Read(max) => {
                    let max = max.min(buf.remaining());
                    let mut limited = ReadBuf::new(buf.initialize_unfilled_to(max));
                    ready!(Pin::new(&mut this.inner).poll_read(cx, &mut limited))?;
                    let n = limited.filled().len();
                    buf.advance(n);
                    this.meter.state().held += n;
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    /// A connection reads its allowance freely; past it, it reads on only once the budget
    /// covers a whole frame; settling a message turns the reservation into the frame's charge
    /// and gives the rest back.
    #[tokio::test]
    async fn reads_past_the_allowance_wait_for_a_whole_frame_of_budget() {
        let budget = Budget::new(64 << 10);
        let (mut client, server) = tokio::io::duplex(1 << 20);
        let meter = Meter::default();
        let mut stream = Metered::new(server, meter.clone());
        meter.activate(&budget, 40 << 10);
        let message = 30 << 10;
        client.write_all(&vec![7; message]).await.unwrap();
        let mut buf = vec![0; 64 << 10];

        let n = stream.read(&mut buf).await.unwrap();
        assert_eq!(n, ALLOWANCE, "one read fetches at most the allowance");
        assert_eq!(budget.in_use(), 0, "the allowance costs no budget");

        let hog = budget.try_charge(40 << 10).unwrap();
        assert!(
            stream.read(&mut buf).now_or_never().is_none(),
            "24 KiB left cannot cover a 40 KiB frame: the read waits"
        );
        drop(hog);
        let n = stream.read(&mut buf).await.unwrap();
        assert_eq!(n, message - ALLOWANCE);
        assert_eq!(
            budget.in_use(),
            40 << 10,
            "the whole frame limit is reserved"
        );

        // The message was a frame of `payload` bytes behind an 8-byte header.
        let payload = message - 8;
        let charge = meter.settle(payload).expect("the reservation covered it");
        assert_eq!(budget.in_use(), payload, "the frame keeps its own length");
        drop(charge);
        assert_eq!(budget.in_use(), 0);
        // Nothing is held any more: a small message settles without a charge.
        assert!(meter.settle(0).is_none());
    }
}
