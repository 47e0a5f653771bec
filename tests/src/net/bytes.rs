//! Schedules from a fuzzer's bytes: [`Arbitrary`] for [`Step`] and [`Action`], drawing the same
//! mix as the proptest strategies next door ([`super::step`], [`super::action`]).
//!
//! **Why weights and not a derive.** A derived `Arbitrary` picks every variant equally often,
//! so a schedule would crash the server as often as it edits, and rarely get a batch acked
//! between crashes. Drawing with the proptest weights makes a libFuzzer input and a proptest
//! case the same kind of schedule, so the `session` fuzz target explores what `sync_sim`
//! samples, guided by coverage instead of at random. Keep the two tables in step.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::{Action, Step};

/// Index of the bucket a draw lands in, with these relative weights.
fn weighted(u: &mut Unstructured<'_>, weights: &[u32]) -> Result<usize> {
    let total: u32 = weights.iter().sum();
    let mut draw = u.int_in_range(0..=total - 1)?;
    for (i, &w) in weights.iter().enumerate() {
        if draw < w {
            return Ok(i);
        }
        draw -= w;
    }
    Ok(weights.len() - 1)
}

/// Mostly 0 (the first card, the healed network), else any byte.
fn zero_or_any(u: &mut Unstructured<'_>) -> Result<u8> {
    Ok(if bool::arbitrary(u)? {
        0
    } else {
        u8::arbitrary(u)?
    })
}

impl<'a> Arbitrary<'a> for Action {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        // As `action()`: Create 4, SetTitle 2, SetOwner 1, Status 6, Type 1, Vote 3, Tag 1,
        // Delete 1, Restore 1, Link 1, Unlink 1, NewSequence 1, Insert 1, Move 2, Pair 2,
        // NewBoard 2, AddColumn 1, MoveColumn 1, RemoveColumn 1, Place 4, Unplace 1.
        let b = |u: &mut Unstructured<'a>| u8::arbitrary(u);
        Ok(
            match weighted(
                u,
                &[
                    4, 2, 1, 6, 1, 3, 1, 1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 4, 1,
                ],
            )? {
                0 => Action::Create {
                    place: Option::<u8>::arbitrary(u)?,
                    vote: bool::arbitrary(u)?,
                },
                1 => Action::SetTitle {
                    card: b(u)?,
                    value: b(u)?,
                },
                2 => Action::SetOwner { card: b(u)? },
                3 => Action::Status {
                    card: zero_or_any(u)?,
                    to: u.int_in_range(0..=3)?,
                },
                4 => Action::Type {
                    card: b(u)?,
                    at: u16::arbitrary(u)?,
                },
                5 => Action::Vote {
                    card: b(u)?,
                    down: bool::arbitrary(u)?,
                },
                6 => Action::Tag {
                    card: b(u)?,
                    tag: u.int_in_range(0..=2)?,
                    add: bool::arbitrary(u)?,
                },
                7 => Action::Delete { card: b(u)? },
                8 => Action::Restore { card: b(u)? },
                9 => Action::Link {
                    from: b(u)?,
                    to: b(u)?,
                },
                10 => Action::Unlink {
                    from: b(u)?,
                    to: b(u)?,
                },
                11 => Action::NewSequence,
                12 => Action::Insert {
                    seq: b(u)?,
                    card: b(u)?,
                    at: b(u)?,
                },
                13 => Action::Move {
                    seq: b(u)?,
                    card: b(u)?,
                    at: b(u)?,
                },
                14 => Action::Pair { a: b(u)?, b: b(u)? },
                15 => Action::NewBoard,
                16 => Action::AddColumn {
                    board: b(u)?,
                    at: b(u)?,
                },
                17 => Action::MoveColumn {
                    board: b(u)?,
                    column: b(u)?,
                    at: b(u)?,
                },
                18 => Action::RemoveColumn {
                    board: b(u)?,
                    column: b(u)?,
                },
                19 => Action::Place {
                    board: zero_or_any(u)?,
                    card: zero_or_any(u)?,
                    column: b(u)?,
                    at: b(u)?,
                },
                _ => Action::Unplace {
                    board: b(u)?,
                    card: b(u)?,
                },
            },
        )
    }
}

impl<'a> Arbitrary<'a> for Step {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        // As `step()`: Local 16, Concurrent 2, Advance 5, Connect 2, Drop 1, Partition 1,
        // CrashClient 1, CrashServer 1.
        Ok(match weighted(u, &[16, 2, 5, 2, 1, 1, 1, 1])? {
            0 => Step::Local {
                client: u8::arbitrary(u)?,
                action: Action::arbitrary(u)?,
            },
            1 => Step::Concurrent {
                clients: u8::arbitrary(u)?,
                action: Action::arbitrary(u)?,
            },
            2 => Step::Advance {
                ms: u.int_in_range(1..=399)?,
            },
            3 => Step::Connect {
                client: u8::arbitrary(u)?,
            },
            4 => Step::Drop {
                client: u8::arbitrary(u)?,
            },
            5 => Step::Partition {
                mask: zero_or_any(u)?,
            },
            6 => Step::CrashClient {
                client: u8::arbitrary(u)?,
                torn: u.int_in_range(0..=3)?,
            },
            _ => Step::CrashServer {
                torn: u.int_in_range(0..=3)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_cover_every_bucket_and_only_those() {
        let mut seen = [0usize; 3];
        for byte in 0..=255u8 {
            let data = [byte; 8];
            let i = weighted(&mut Unstructured::new(&data), &[1, 2, 1]).unwrap();
            seen[i] += 1;
        }
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
    }
}
