//! K8: 10k distinct client ids each writing once to one map (cardsync: the per-client entries
//! of one card's counter; the others: one key per client in that card's counter or map).
//!
//! Every client opens the same one-card document, increments, and sends its diff. Reports the
//! time for one replica to apply all of them (one update each) and the size of the resulting
//! version (yrs state vector, automerge heads, loro version vector), which every sync sends.

use super::{Ctx, each_peer, num, short};
use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::measure::{Timing, time};

/// One peer's figures.
pub struct Figures {
    per_apply: Timing,
    version: usize,
    bytes: usize,
}

fn measure<P: Peer>(ctx: &Ctx, clients: usize) -> Result<Figures> {
    ctx.progress(format!("K8 {} {}", P::NAME, short(clients)));
    let mut base = P::new(1)?;
    base.create_small_card(0)?;
    let (snapshot, version) = (base.snapshot()?, base.version()?);
    let updates = (0..clients)
        .map(|c| {
            let mut client = P::load(100 + c as u64, &snapshot)?;
            client.increment(0)?;
            client.diff(&version)
        })
        .collect::<Result<Vec<_>>>()?;
    let (per_apply, peer) = time(
        ctx.samples,
        || P::load(2, &snapshot),
        |mut peer| {
            for update in &updates {
                peer.apply(update)?;
            }
            Ok(peer)
        },
    )?;
    let votes = peer.votes(0)?;
    if votes != clients as i64 {
        return Err(BenchError::Missing {
            peer: P::NAME,
            what: format!("{clients} votes, found {votes}"),
        });
    }
    Ok(Figures {
        per_apply: per_apply.per(clients as f64 / 1e6),
        version: peer.version()?.len(),
        bytes: peer.snapshot()?.len(),
    })
}

/// Runs K8.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    let n = ctx.sizes.k8_clients;
    let figures = each_peer!(measure(ctx, n));
    let s = short(n);
    ctx.row(
        "K8",
        format!("{s} clients' updates applied, one at a time"),
        "µs/update",
        &figures,
        |f| Some(f.per_apply.into()),
    );
    ctx.row(
        "K8",
        format!("{s} clients: version (state vector / heads / vv)"),
        "B",
        &figures,
        |f| num(f.version as f64),
    );
    ctx.row(
        "K8",
        format!("{s} clients: doc bytes"),
        "KB",
        &figures,
        |f| num(f.bytes as f64 / 1e3),
    );
    Ok(())
}
