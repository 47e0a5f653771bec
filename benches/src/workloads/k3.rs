//! K3: relationships. Five links per card, delete 20% of the cards, list one card's
//! neighbours, and two replicas adding and removing the same edge at once.
//!
//! cardsync keeps outgoing/incoming indexes and hides edges whose endpoint is deleted; the
//! other peers store the same edge map and answer a neighbour query by scanning it (their
//! idiom without an index), checking both endpoints' delete flags. The concurrent case reports
//! what each library's merge decides (the edge present or absent) and that both replicas
//! agree.

use std::hint::black_box;
use std::time::Instant;

use super::{Ctx, each_peer, short};
use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::measure::{Samples, Timing, time};
use crate::report::Cell;
use crate::{Rng, link_targets, shuffle};

/// Links per card.
pub const PER_CARD: usize = 5;
/// Card whose neighbours are listed (its own id and most neighbours survive the deletes).
const PROBE: usize = 1;

/// One peer's figures.
pub struct Figures {
    per_link: Timing,
    per_delete: Timing,
    per_query: Timing,
    neighbours: Vec<String>,
    concurrent: String,
}

/// The cards deleted: a seeded 20%.
pub fn deleted(n: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).filter(|&i| i != PROBE).collect();
    shuffle(&mut all, &mut Rng::new(3));
    all.truncate(n / 5);
    all
}

fn concurrent<P: Peer>() -> Result<String> {
    let mut base = P::new(1)?;
    base.create_small_card(0)?;
    base.create_small_card(1)?;
    base.link(0, 1)?;
    let snapshot = base.snapshot()?;
    let (mut a, mut b) = (P::load(2, &snapshot)?, P::load(3, &snapshot)?);
    a.unlink(0, 1)?;
    b.link(0, 1)?;
    let (to_a, to_b) = (b.diff(&a.version()?)?, a.diff(&b.version()?)?);
    a.apply(&to_a)?;
    b.apply(&to_b)?;
    Ok(match (a.has_link(0, 1), b.has_link(0, 1)) {
        (true, true) => "re-added edge kept".to_owned(),
        (false, false) => "removal wins".to_owned(),
        _ => "DIVERGED".to_owned(),
    })
}

/// Cards `0..n` with titles only and five links each, one transaction per action.
fn linked<P: Peer>(n: usize) -> Result<P> {
    let mut peer = P::new(1)?;
    for i in 0..n {
        peer.create_small_card(i)?;
    }
    for i in 0..n {
        for t in link_targets(i, n, PER_CARD) {
            peer.link(i, t)?;
        }
    }
    Ok(peer)
}

fn measure<P: Peer>(ctx: &Ctx, n: usize) -> Result<Figures> {
    ctx.progress(format!("K3 {} {}", P::NAME, short(n)));
    let mut cards = P::new(1)?;
    for i in 0..n {
        cards.create_small_card(i)?;
    }
    let cards = cards.snapshot()?;
    let (per_link, _) = time(
        ctx.samples,
        || P::load(1, &cards),
        |mut peer| {
            for i in 0..n {
                for t in link_targets(i, n, PER_CARD) {
                    peer.link(i, t)?;
                }
            }
            // Returned, so the drop falls outside the timed region.
            Ok(peer)
        },
    )?;
    let links = linked::<P>(n)?.snapshot()?;
    let gone = deleted(n);
    let (per_delete, peer) = time(
        ctx.samples,
        || P::load(1, &links),
        |mut peer| {
            for &i in &gone {
                peer.delete_card(i)?;
            }
            Ok(peer)
        },
    )?;
    let visible = peer.card_count();
    if visible != n - gone.len() {
        return Err(BenchError::Missing {
            peer: P::NAME,
            what: format!("{} visible cards, found {visible}", n - gone.len()),
        });
    }
    // As many queries per sample as fit in ~20 ms (1 to 100): scans differ by 1000×.
    let one = Instant::now();
    let neighbours = peer.neighbours(PROBE);
    let queries = (0.02 / one.elapsed().as_secs_f64().max(1e-9)).clamp(1.0, 100.0) as usize;
    let query = Samples {
        warm_up: 1,
        timed: ctx.samples.timed.max(5),
        ..ctx.samples
    };
    let (per_query, _) = time(
        query,
        || Ok(()),
        |()| {
            for _ in 0..queries {
                black_box(peer.neighbours(PROBE));
            }
            Ok(())
        },
    )?;
    Ok(Figures {
        per_link: per_link.per(n as f64 * PER_CARD as f64 / 1e6),
        per_delete: per_delete.per(gone.len() as f64 / 1e6),
        per_query: per_query.per(queries as f64 / 1e6),
        neighbours,
        concurrent: concurrent::<P>()?,
    })
}

/// Runs K3.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    let n = ctx.sizes.k3_cards;
    let figures = each_peer!(measure(ctx, n));
    let s = short(n);
    ctx.row(
        "K3",
        format!("link {s} cards × {PER_CARD}, txn per link"),
        "µs/link",
        &figures,
        |f| Some(f.per_link.into()),
    );
    ctx.row(
        "K3",
        format!("soft-delete 20% of {s} linked cards, txn per card"),
        "µs/card",
        &figures,
        |f| Some(f.per_delete.into()),
    );
    ctx.row(
        "K3",
        format!("neighbours of one card after the deletes ({s} cards)"),
        "µs/query",
        &figures,
        |f| Some(f.per_query.into()),
    );
    let reference = figures
        .first()
        .map(|(_, f)| f.neighbours.clone())
        .unwrap_or_default();
    ctx.row(
        "K3",
        "neighbours listed (same as cardsync?)",
        "check",
        &figures,
        |f| {
            let same = if f.neighbours == reference {
                "same"
            } else {
                "DIFFERENT"
            };
            Some(Cell::Text(format!("{} ({same})", f.neighbours.len())))
        },
    );
    ctx.row(
        "K3",
        "concurrent unlink + re-link of one edge, merged",
        "check",
        &figures,
        |f| Some(Cell::Text(f.concurrent.clone())),
    );
    Ok(())
}
