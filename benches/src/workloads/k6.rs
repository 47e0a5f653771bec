//! K6: an offline outbox of 1k/10k/50k single-op transactions, compacted into one update, then
//! synced to a server replica by state vector.
//!
//! The client increments one card's counter `n` times while offline, each a transaction whose
//! update is queued. Compaction turns the queue into one update: cardsync through the sync
//! layer's `Outbox::compact` (queueing the batches into it included); the others in their idiom, on a scratch document that starts
//! from the confirmed state the client went offline with (they have no merge without a
//! document; docs/design.md §4 says why yrs' `merge_updates_v1` is not the floor). Sync: the server
//! sends its version (state vector, heads, version vector), the client answers with the diff,
//! the server applies it; bytes are both messages.

use super::{Ctx, each_peer, num, short};
use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::measure::{Timing, time};

/// One peer's figures at one size.
pub struct Figures {
    compact: Timing,
    compacted: usize,
    sync: Timing,
    wire: usize,
}

fn measure<P: Peer>(ctx: &Ctx, n: usize) -> Result<Figures> {
    ctx.progress(format!("K6 {} {}", P::NAME, short(n)));
    let mut base = P::new(1)?;
    base.create_small_card(0)?;
    let base = base.snapshot()?;
    let mut client = P::load(1, &base)?;
    let outbox = client.offline_run(0, n)?;
    let (compact, compacted) = time(ctx.samples, || Ok(outbox.clone()), P::compact)?;
    drop(outbox);
    let (sync, (server, wire)) = time(
        ctx.samples,
        || P::load(2, &base),
        |mut server| {
            let version = server.version()?;
            let diff = client.diff(&version)?;
            server.apply(&diff)?;
            Ok((server, version.len() + diff.len()))
        },
    )?;
    let votes = server.votes(0)?;
    if votes != n as i64 {
        return Err(BenchError::Missing {
            peer: P::NAME,
            what: format!("{n} votes on the server after sync, found {votes}"),
        });
    }
    Ok(Figures {
        compact: compact.per(1e-3),
        compacted: compacted.len(),
        sync: sync.per(1e-3),
        wire,
    })
}

/// Runs K6 at every size.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    for n in ctx.sizes.k6_runs.clone() {
        let figures = each_peer!(measure(ctx, n));
        let s = short(n);
        ctx.row(
            "K6",
            format!("compact an outbox of {s} single-op txns"),
            "ms",
            &figures,
            |f| Some(f.compact.into()),
        );
        ctx.row(
            "K6",
            format!("{s} txns: compacted update"),
            "B",
            &figures,
            |f| num(f.compacted as f64),
        );
        ctx.row(
            "K6",
            format!("{s} txns: sync by state vector (version, diff, apply)"),
            "ms",
            &figures,
            |f| Some(f.sync.into()),
        );
        ctx.row(
            "K6",
            format!("{s} txns: sync bytes on the wire"),
            "B",
            &figures,
            |f| num(f.wire as f64),
        );
    }
    Ok(())
}
