//! K1: create 1k/10k/100k cards of eight fields and a 500-char body.
//!
//! Reports time per card with one transaction per card, the batched variant (all cards in one
//! transaction) in its own row, the document's bytes per card in each full encoding, and the
//! heap the document keeps alive per card. The heap is measured on an extra, untimed build,
//! which also serves as the warm-up of the per-card timing.

use super::{Ctx, each_peer, num, short};
use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::measure::{Samples, Timing, time};

/// One peer's figures at one size.
pub struct Figures {
    per_card: Timing,
    batched: Timing,
    v1: usize,
    v2: Option<usize>,
    heap: Option<usize>,
}

fn build<P: Peer>(n: usize) -> Result<P> {
    let mut peer = P::new(1)?;
    for i in 0..n {
        peer.create_card(i)?;
    }
    Ok(peer)
}

fn measure<P: Peer>(ctx: &Ctx, n: usize) -> Result<Figures> {
    ctx.progress(format!("K1 {} {}", P::NAME, short(n)));
    let (peer, heap) = ctx.heap.retained(|| build::<P>(n))?;
    let count = peer.card_count();
    if count != n {
        return Err(BenchError::Missing {
            peer: P::NAME,
            what: format!("{n} cards, found {count}"),
        });
    }
    let (v1, v2) = (peer.snapshot()?.len(), peer.snapshot_alt().map(|s| s.len()));
    drop(peer);
    let timed = Samples {
        warm_up: 0,
        ..ctx.samples
    };
    let (per_card, _) = time(timed, || Ok(()), |()| build::<P>(n))?;
    let (batched, _) = time(
        ctx.samples,
        || P::new(1),
        |mut peer| {
            peer.create_cards_batched(0..n)?;
            Ok(peer)
        },
    )?;
    Ok(Figures {
        per_card: per_card.per(n as f64 / 1e6),
        batched: batched.per(n as f64 / 1e6),
        v1,
        v2,
        heap,
    })
}

/// Runs K1 at every size.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    for n in ctx.sizes.k1_cards.clone() {
        let figures = each_peer!(measure(ctx, n));
        let s = short(n);
        ctx.row(
            "K1",
            format!("create {s} cards, txn per card"),
            "µs/card",
            &figures,
            |f| Some(f.per_card.into()),
        );
        ctx.row(
            "K1",
            format!("create {s} cards, one txn (batched)"),
            "µs/card",
            &figures,
            |f| Some(f.batched.into()),
        );
        ctx.row(
            "K1",
            format!("{s} cards: doc bytes (yrs v1 / automerge save / loro snapshot)"),
            "B/card",
            &figures,
            |f| num(f.v1 as f64 / n as f64),
        );
        ctx.row(
            "K1",
            format!("{s} cards: doc bytes, yrs v2"),
            "B/card",
            &figures,
            |f| f.v2.and_then(|b| num(b as f64 / n as f64)),
        );
        ctx.row(
            "K1",
            format!("{s} cards: live heap"),
            "B/card",
            &figures,
            |f| f.heap.and_then(|b| num(b as f64 / n as f64)),
        );
    }
    Ok(())
}
