//! Cutting a v1 update into parts by copying its blocks' bytes.
//!
//! In lib0 v1 every block is written in place and depends on nothing before it but the
//! client's start clock, so a run of consecutive blocks of one client, preceded by a new
//! header (block count, client, first clock), is a valid update on its own. That is all the
//! intake needs to integrate one part of an update now and keep the other for later, without
//! re-encoding (and so without trusting an encoder) anything.

use std::ops::Range;

use super::deletes::DeleteSet;
use crate::lib0::write_var;
use crate::untrusted::structure::Structure;

/// A v1 update holding, for each client of `structure` (screened from `bytes`), the blocks in the
/// matching range of `runs`, then `deletes`.
pub(super) fn update(
    bytes: &[u8],
    structure: &Structure,
    runs: &[Range<usize>],
    deletes: &DeleteSet,
) -> Vec<u8> {
    let mut out = Vec::new();
    let picked: Vec<_> = structure
        .clients
        .iter()
        .zip(runs)
        .filter(|(_, run)| !run.is_empty())
        .collect();
    write_var(&mut out, picked.len() as u64);
    for (client, run) in picked {
        let blocks = &client.blocks[run.clone()];
        write_var(&mut out, blocks.len() as u64);
        write_var(&mut out, client.client);
        write_var(&mut out, blocks[0].clock.into());
        for block in blocks {
            out.extend_from_slice(&bytes[block.bytes.clone()]);
        }
    }
    deletes.write_v1(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::untrusted::screen;

    #[test]
    fn a_run_of_blocks_is_an_update_of_its_own() {
        // Client 1 writes "ab" then "cd" (separate items) in root text "t"; delete 1#0.
        let bytes = [
            1, 2, 1, 0, 4, 1, 1, b't', 2, b'a', b'b', 0x84, 1, 1, 2, b'c', b'd', 1, 1, 1, 0, 1,
        ];
        let structure = screen::update_v1(&bytes).unwrap();
        let deletes = DeleteSet::from_ranges(structure.deletes.iter().copied());
        // One client: one range of its blocks each.
        let (whole, second) = (std::iter::once(0..2), std::iter::once(1..2));
        let (whole, second): (Vec<_>, Vec<_>) = (whole.collect(), second.collect());
        assert_eq!(update(&bytes, &structure, &whole, &deletes), bytes);
        let tail = update(&bytes, &structure, &second, &DeleteSet::default());
        assert_eq!(tail, [1, 1, 1, 2, 0x84, 1, 1, 2, b'c', b'd', 0]);
        assert_eq!(
            screen::update_v1(&tail).unwrap().clients[0].blocks[0].clock,
            2
        );
    }
}
