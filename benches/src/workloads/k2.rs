//! K2: 100k field writes over 10k cards, Zipf-skewed (s = 1: a few cards take most writes).
//!
//! Each write sets one register (alternately the title string and the priority number) in its
//! own transaction. Reports the time per write and how much the document grows per write:
//! overwritten values stay as tombstones in every one of these CRDTs, so the growth is the
//! cost of history.

use super::{Ctx, each_peer, num, short};
use crate::Rng;
use crate::adapter::Peer;
use crate::error::Result;
use crate::measure::{Timing, time};

/// One peer's figures.
pub struct Figures {
    per_write: Timing,
    before: usize,
    after: usize,
}

/// `count` card indexes in `0..cards`, rank `k` drawn with weight `1/(k+1)`.
pub fn zipf_targets(cards: usize, count: usize, seed: u64) -> Vec<usize> {
    let mut cdf = Vec::with_capacity(cards);
    let mut total = 0.0;
    for k in 0..cards {
        total += 1.0 / (k as f64 + 1.0);
        cdf.push(total);
    }
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
            cdf.partition_point(|&c| c < u).min(cards - 1)
        })
        .collect()
}

fn measure<P: Peer>(ctx: &Ctx, targets: &[usize]) -> Result<Figures> {
    let cards = ctx.sizes.k2_cards;
    ctx.progress(format!("K2 {} {} writes", P::NAME, short(targets.len())));
    let mut base = P::new(1)?;
    for i in 0..cards {
        base.create_card(i)?;
    }
    let snapshot = base.snapshot()?;
    drop(base);
    let (per_write, peer) = time(
        ctx.samples,
        || P::load(1, &snapshot),
        |mut peer| {
            for (w, &card) in targets.iter().enumerate() {
                let field = if w % 2 == 0 { "title" } else { "priority" };
                peer.set_field(card, field, w as u64)?;
            }
            Ok(peer)
        },
    )?;
    Ok(Figures {
        per_write: per_write.per(targets.len() as f64 / 1e6),
        before: snapshot.len(),
        after: peer.snapshot()?.len(),
    })
}

/// Runs K2.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    let (cards, writes) = (ctx.sizes.k2_cards, ctx.sizes.k2_writes);
    let targets = zipf_targets(cards, writes, 2);
    let figures = each_peer!(measure(ctx, &targets));
    let case = format!("{} Zipf writes over {} cards", short(writes), short(cards));
    ctx.row(
        "K2",
        format!("{case}, txn per write"),
        "µs/write",
        &figures,
        |f| Some(f.per_write.into()),
    );
    ctx.row(
        "K2",
        format!("{case}: doc before (default encoding)"),
        "KB",
        &figures,
        |f| num(f.before as f64 / 1e3),
    );
    ctx.row("K2", format!("{case}: doc after"), "KB", &figures, |f| {
        num(f.after as f64 / 1e3)
    });
    ctx.row("K2", format!("{case}: growth"), "B/write", &figures, |f| {
        num((f.after as f64 - f.before as f64) / writes as f64)
    });
    Ok(())
}
