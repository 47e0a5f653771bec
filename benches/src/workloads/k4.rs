//! K4: sequences. Append 10k cards, make 10k random moves, and check concurrent moves of the
//! same cards for duplicates; then the board rows ([`super::k4_board`]): the same moves across
//! the columns of a board.
//!
//! Every peer gets the same moves as `(card, from index, to index)`, computed once on a plain
//! `Vec` model, and must end in the model's order. Moves use each library's own tool: cardsync
//! its order keys, loro its native `LoroMovableList::mov`, raw yrs and automerge a delete plus
//! an insert (they have no move), which is why they duplicate under concurrency.

use std::collections::HashSet;

use super::{Ctx, each_peer, k4_board, short};
use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::measure::{Timing, time};
use crate::report::Cell;
use crate::{BOARD_COLUMNS, Rng, card_id};

/// Cards in the concurrent case's sequence.
const CONCURRENT_CARDS: usize = 50;
/// Cards both replicas move at once.
const CONCURRENT_MOVES: usize = 20;

/// One peer's figures.
pub struct Figures {
    per_append: Timing,
    per_move: Timing,
    final_ok: bool,
    concurrent: String,
}

/// `count` random moves in a sequence of `n` cards `0..n` and the order they leave.
pub fn moves(n: usize, count: usize, seed: u64) -> (Vec<(usize, usize, usize)>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    let moves = (0..count)
        .map(|_| {
            let (from, to) = (rng.below(n), rng.below(n));
            let card = order.remove(from);
            order.insert(to, card);
            (card, from, to)
        })
        .collect();
    (moves, order)
}

fn sequence_of<P: Peer>(n: usize) -> Result<P> {
    let mut peer = P::new(1)?;
    for i in 0..n {
        peer.create_small_card(i)?;
    }
    peer.create_sequence()?;
    Ok(peer)
}

fn concurrent<P: Peer>() -> Result<String> {
    let mut base = sequence_of::<P>(CONCURRENT_CARDS)?;
    for i in 0..CONCURRENT_CARDS {
        base.append(i)?;
    }
    let snapshot = base.snapshot()?;
    let (mut a, mut b) = (P::load(2, &snapshot)?, P::load(3, &snapshot)?);
    // Both move the same cards (the first CONCURRENT_MOVES of the list) to different places.
    for (replica, seed) in [(&mut a, 11), (&mut b, 12)] {
        let mut rng = Rng::new(seed);
        let mut order: Vec<usize> = (0..CONCURRENT_CARDS).collect();
        for card in 0..CONCURRENT_MOVES {
            let from = order.iter().position(|&c| c == card).unwrap_or(0);
            let to = rng.below(CONCURRENT_CARDS);
            order.remove(from);
            order.insert(to, card);
            replica.move_card(card, from, to)?;
        }
    }
    let (to_a, to_b) = (b.diff(&a.version()?)?, a.diff(&b.version()?)?);
    a.apply(&to_a)?;
    b.apply(&to_b)?;
    let (sa, sb) = (a.sequence(), b.sequence());
    let unique: HashSet<&String> = sa.iter().collect();
    let duplicates = sa.len() - unique.len();
    let lost = CONCURRENT_CARDS.saturating_sub(unique.len());
    let agree = if sa == sb { "converged" } else { "DIVERGED" };
    Ok(format!("{duplicates} dup, {lost} lost, {agree}"))
}

fn measure<P: Peer>(
    ctx: &Ctx,
    n: usize,
    plan: &(Vec<(usize, usize, usize)>, Vec<usize>),
) -> Result<Figures> {
    ctx.progress(format!("K4 {} {}", P::NAME, short(n)));
    let empty = sequence_of::<P>(n)?.snapshot()?;
    let (per_append, appended) = time(
        ctx.samples,
        || P::load(1, &empty),
        |mut peer| {
            for i in 0..n {
                peer.append(i)?;
            }
            Ok(peer)
        },
    )?;
    let expected: Vec<String> = (0..n).map(|i| card_id(i).to_string()).collect();
    if appended.sequence() != expected {
        return Err(BenchError::Missing {
            peer: P::NAME,
            what: "the appended order".to_owned(),
        });
    }
    let appended = appended.snapshot()?;
    let (moves, order) = plan;
    let (per_move, moved) = time(
        ctx.samples,
        || P::load(1, &appended),
        |mut peer| {
            for &(card, from, to) in moves {
                peer.move_card(card, from, to)?;
            }
            Ok(peer)
        },
    )?;
    let expected: Vec<String> = order.iter().map(|&i| card_id(i).to_string()).collect();
    Ok(Figures {
        per_append: per_append.per(n as f64 / 1e6),
        per_move: per_move.per(moves.len().max(1) as f64 / 1e6),
        final_ok: moved.sequence() == expected,
        concurrent: concurrent::<P>()?,
    })
}

/// Runs K4.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    let (n, count) = (ctx.sizes.k4_cards, ctx.sizes.k4_moves);
    let plan = moves(n, count, 4);
    let figures = each_peer!(measure(ctx, n, &plan));
    let s = short(n);
    ctx.row(
        "K4",
        format!("append {s} cards to a sequence, txn per append"),
        "µs/append",
        &figures,
        |f| Some(f.per_append.into()),
    );
    ctx.row(
        "K4",
        format!("{} random moves in {s} cards, txn per move", short(count)),
        "µs/move",
        &figures,
        |f| Some(f.per_move.into()),
    );
    ctx.row(
        "K4",
        "order after the moves equals the model",
        "check",
        &figures,
        |f| Some(Cell::Text(if f.final_ok { "yes" } else { "NO" }.to_owned())),
    );
    ctx.row(
        "K4",
        format!("2 replicas move the same {CONCURRENT_MOVES} of {CONCURRENT_CARDS} cards at once, merged"),
        "check",
        &figures,
        |f| Some(Cell::Text(f.concurrent.clone())),
    );
    board_rows(ctx)
}

fn measure_board<P: Peer>(
    ctx: &Ctx,
    n: usize,
    plan: &(Vec<k4_board::Move>, k4_board::Model),
) -> Result<k4_board::Figures> {
    ctx.progress(format!("K4 board {} {}", P::NAME, short(n)));
    k4_board::measure::<P>(ctx.samples, n, plan)
}

/// Adds K4's board rows ([`k4_board`]).
fn board_rows(ctx: &mut Ctx) -> Result<()> {
    let (n, count) = (ctx.sizes.k4_cards, ctx.sizes.k4_moves);
    let plan = k4_board::moves(n, count, 44);
    let figures = each_peer!(measure_board(ctx, n, &plan));
    let s = short(n);
    ctx.row(
        "K4",
        format!(
            "{} random cross-column moves on a board of {s} cards in {BOARD_COLUMNS} columns, txn per move",
            short(count)
        ),
        "µs/move",
        &figures,
        |f| Some(f.per_move.into()),
    );
    ctx.row(
        "K4",
        "board after the moves equals the model (each card in one column)",
        "check",
        &figures,
        |f| Some(Cell::Text(if f.final_ok { "yes" } else { "NO" }.to_owned())),
    );
    ctx.row(
        "K4",
        format!(
            "2 replicas move the same {} of {} board cards into other columns at once, merged",
            k4_board::CONCURRENT_MOVES,
            k4_board::CONCURRENT_CARDS
        ),
        "check",
        &figures,
        |f| Some(Cell::Text(f.concurrent.clone())),
    );
    Ok(())
}
