//! K7: cold load of a 100k-card document: time to the first card read, and to every card
//! read into plain values (full materialization). Loading starts from the library's default
//! full encoding, as a client opening a stored document does.

use super::{Ctx, each_peer, num, short};
use crate::adapter::Peer;
use crate::error::Result;
use crate::measure::{Timing, time};
use crate::report::Cell;

/// One peer's figures (`None`: the peer was skipped at this size).
pub struct Figures(Option<Measured>);

/// What was measured.
pub struct Measured {
    first: Timing,
    full: Timing,
    bytes: usize,
}

fn measure<P: Peer>(ctx: &Ctx, n: usize) -> Result<Figures> {
    if ctx.sizes.k7_skip.contains(&P::NAME) {
        return Ok(Figures(None));
    }
    ctx.progress(format!("K7 {} {}", P::NAME, short(n)));
    let mut peer = P::new(1)?;
    for i in 0..n {
        peer.create_card(i)?;
    }
    let snapshot = peer.snapshot()?;
    drop(peer);
    // Each routine returns the loaded document, so its drop (about 0.7 s at 100k cards for
    // yrs-based peers) falls outside the timed region.
    let (first, _) = time(
        ctx.samples,
        || Ok(()),
        |()| {
            let peer = P::load(2, &snapshot)?;
            let fields = peer.read_card(n / 2)?;
            Ok((peer, fields))
        },
    )?;
    let (full, _) = time(
        ctx.samples,
        || Ok(()),
        |()| {
            let peer = P::load(2, &snapshot)?;
            let cards = peer.materialize()?;
            Ok((peer, cards))
        },
    )?;
    Ok(Figures(Some(Measured {
        first: first.per(1e-3),
        full: full.per(1e-3),
        bytes: snapshot.len(),
    })))
}

/// Runs K7.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    let n = ctx.sizes.k7_cards;
    let figures = each_peer!(measure(ctx, n));
    let s = short(n);
    let skipped = || Some(Cell::Text("skipped (quick)".to_owned()));
    ctx.row(
        "K7",
        format!("cold load of {s} cards: first card read"),
        "ms",
        &figures,
        |f| f.0.as_ref().map_or_else(skipped, |m| Some(m.first.into())),
    );
    ctx.row(
        "K7",
        format!("cold load of {s} cards: all cards materialized"),
        "ms",
        &figures,
        |f| f.0.as_ref().map_or_else(skipped, |m| Some(m.full.into())),
    );
    ctx.row(
        "K7",
        format!("{s} cards: bytes loaded"),
        "MB",
        &figures,
        |f| {
            f.0.as_ref()
                .map_or_else(skipped, |m| num(m.bytes as f64 / 1e6))
        },
    );
    Ok(())
}
