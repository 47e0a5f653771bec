//! K4's board rows: cross-column moves on a board of [`BOARD_COLUMNS`] columns, and concurrent
//! moves of the same cards into other columns. The measuring is here; [`super::k4`] adds the
//! rows (this file imports nothing from the workloads' module, so it adds no import cycle).
//!
//! Why beside the sequence rows: a card app's move is mostly a drag to another column, and
//! "one list per column" is what every app reaches for; the board (docs/design.md §3,
//! "Boards") exists because that duplicates cards under concurrency. The rows show what the
//! exclusive placement costs per move next to the libraries' own list moves, and which peers
//! keep a card in exactly one column. Every peer gets the same moves as
//! `(card, (from column, from index), (to column, to index))`, computed once on a plain model,
//! and must end in the model's board. cardsync places the card (one last-writer-wins
//! placement); yrs, automerge and loro keep one list per column (loro's `LoroMovableList`,
//! whose `mov` works within one list) and delete from one plus insert into the other.

use std::collections::HashSet;

use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::measure::{Samples, Timing, time};
use crate::{BOARD_COLUMNS, Rng, card_id};

/// Cards on the concurrent case's board.
pub const CONCURRENT_CARDS: usize = 50;
/// Cards both replicas move into other columns at once.
pub const CONCURRENT_MOVES: usize = 20;

/// One cross-column move: the card, where it is, where it goes (index counted without it).
pub type Move = (usize, (usize, usize), (usize, usize));

/// A board as the model holds it: each column's cards in order.
pub type Model = Vec<Vec<usize>>;

/// One peer's figures.
pub struct Figures {
    /// Time per move.
    pub per_move: Timing,
    /// Whether the board after the moves is the model's.
    pub final_ok: bool,
    /// The concurrent case's verdict: duplicates, lost cards, convergence.
    pub concurrent: String,
}

/// The starting board of `n` cards `0..n`: card `i` at the end of column `i % columns`.
pub fn dealt(n: usize) -> Model {
    let mut board = vec![Vec::new(); BOARD_COLUMNS];
    for i in 0..n {
        board[i % BOARD_COLUMNS].push(i);
    }
    board
}

/// One random move of `board` into another column, applied to it.
fn random_move(board: &mut Model, card: Option<usize>, rng: &mut Rng) -> Move {
    let (from, index) = match card {
        Some(card) => board
            .iter()
            .enumerate()
            .find_map(|(c, cards)| cards.iter().position(|&x| x == card).map(|i| (c, i)))
            .unwrap_or((0, 0)),
        None => {
            // A uniformly random card: pick a position over the whole board.
            let total: usize = board.iter().map(Vec::len).sum();
            let mut at = rng.below(total.max(1));
            let mut from = 0;
            while from + 1 < board.len() && at >= board[from].len() {
                at -= board[from].len();
                from += 1;
            }
            (from, at)
        }
    };
    let to = (from + 1 + rng.below(BOARD_COLUMNS - 1)) % BOARD_COLUMNS;
    let card = board[from].remove(index);
    let to_index = rng.below(board[to].len() + 1);
    board[to].insert(to_index, card);
    (card, (from, index), (to, to_index))
}

/// `count` random cross-column moves on the [`dealt`] board of `n` cards, and the board they
/// leave.
pub fn moves(n: usize, count: usize, seed: u64) -> (Vec<Move>, Model) {
    let mut rng = Rng::new(seed);
    let mut board = dealt(n);
    let moves = (0..count)
        .map(|_| random_move(&mut board, None, &mut rng))
        .collect();
    (moves, board)
}

fn ids(board: &Model) -> Vec<Vec<String>> {
    board
        .iter()
        .map(|cards| cards.iter().map(|&i| card_id(i).to_string()).collect())
        .collect()
}

/// A peer holding cards `0..n` on the [`dealt`] board (one transaction per action, untimed).
fn board_of<P: Peer>(n: usize) -> Result<P> {
    let mut peer = P::new(1)?;
    for i in 0..n {
        peer.create_small_card(i)?;
    }
    peer.create_board()?;
    for (column, cards) in dealt(n).iter().enumerate() {
        for &i in cards {
            peer.add_to_column(i, column)?;
        }
    }
    Ok(peer)
}

/// Both replicas move the same cards into other columns at once; the merge's verdict.
fn concurrent<P: Peer>() -> Result<String> {
    let snapshot = board_of::<P>(CONCURRENT_CARDS)?.snapshot()?;
    let (mut a, mut b) = (P::load(2, &snapshot)?, P::load(3, &snapshot)?);
    for (replica, seed) in [(&mut a, 21), (&mut b, 22)] {
        let mut rng = Rng::new(seed);
        let mut board = dealt(CONCURRENT_CARDS);
        for card in 0..CONCURRENT_MOVES {
            let (card, from, to) = random_move(&mut board, Some(card), &mut rng);
            replica.move_across(card, from, to)?;
        }
    }
    let (to_a, to_b) = (b.diff(&a.version()?)?, a.diff(&b.version()?)?);
    a.apply(&to_a)?;
    b.apply(&to_b)?;
    let (ba, bb) = (a.board(), b.board());
    let all: Vec<&String> = ba.iter().flatten().collect();
    let unique: HashSet<&String> = all.iter().copied().collect();
    let duplicates = all.len() - unique.len();
    let lost = CONCURRENT_CARDS.saturating_sub(unique.len());
    let agree = if ba == bb { "converged" } else { "DIVERGED" };
    Ok(format!("{duplicates} dup, {lost} lost, {agree}"))
}

/// Times `plan`'s moves on the [`dealt`] board of `n` cards, checks the board they leave and
/// runs the concurrent case.
pub fn measure<P: Peer>(samples: Samples, n: usize, plan: &(Vec<Move>, Model)) -> Result<Figures> {
    let start = board_of::<P>(n)?;
    if start.board() != ids(&dealt(n)) {
        return Err(BenchError::Missing {
            peer: P::NAME,
            what: "the dealt board".to_owned(),
        });
    }
    let start = start.snapshot()?;
    let (moves, after) = plan;
    let (per_move, moved) = time(
        samples,
        || P::load(1, &start),
        |mut peer| {
            for &(card, from, to) in moves {
                peer.move_across(card, from, to)?;
            }
            Ok(peer)
        },
    )?;
    Ok(Figures {
        per_move: per_move.per(moves.len().max(1) as f64 / 1e6),
        final_ok: moved.board() == ids(after),
        concurrent: concurrent::<P>()?,
    })
}
