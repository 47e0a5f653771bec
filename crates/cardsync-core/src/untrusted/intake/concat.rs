//! Joining one client's consecutive updates into one, by copying their blocks' bytes.
//!
//! **Why.** An offline outbox holds a long run of one client's transactions, each continuing
//! where the previous one ended, and compacts it into a few batches. Merging such a run through
//! a scratch document costs O(n log n) re-encodings (its items wait for parents the outbox does
//! not hold), 3 s for 50k single-op batches. But in lib0 v1 a block depends on nothing in front
//! of it except its client's start clock ([`super::v1`]), so a contiguous run of one client's
//! blocks is the blocks of each update copied one after another under one header, followed by
//! the union of their delete sets: linear in the bytes, and exact (the same blocks, the same
//! deletions, no re-encoding).

use super::deletes::DeleteSet;
use crate::ids::CONTAINER_CLIENT_BASE;
use crate::lib0::write_var;
use crate::untrusted::error::DecodeError;
use crate::untrusted::screen;

/// `updates` (v1) as one v1 update, when their blocks are one client's contiguous run: every
/// update holds blocks of that client only (or none), each starting where the last one ended,
/// besides fixed items (the one block, at clock 0, of a client in the reserved range: a field
/// container or schema record a write created, docs/design.md §3), each listed once.
/// `Ok(None)` when they are not; bytes the screen refuses are an error.
///
/// Unlike [`merge_updates_v1`](crate::merge_updates_v1) it does not check the blocks against
/// a document's roots: it is for runs a document wrote itself, such as an outbox's batches.
///
/// ```
/// # use cardsync_core::*;
/// let schema = Schema::new(1).card("note", CardKind::default());
/// let mut doc = CardDoc::new(schema, 5)?;
/// let mut updates = Vec::new();
/// for i in 0..3 {
///     let before = doc.state_vector();
///     doc.create_card(&Stamp::new(i, "me"), CardId::from_u128(i.into()), "note", [])?;
///     updates.push(doc.diff_v1(&before)?);
/// }
/// let updates: Vec<&[u8]> = updates.iter().map(Vec::as_slice).collect();
/// let joined = concat_updates_v1(&updates)?.expect("one client's consecutive updates");
/// let copy = CardDoc::load_v1(doc.schema().clone(), 6, &joined)?;
/// assert_eq!(copy.export(), doc.export());
/// // Out of order they are not a run.
/// assert_eq!(concat_updates_v1(&[updates[1], updates[0]])?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn concat_updates_v1(updates: &[&[u8]]) -> Result<Option<Vec<u8>>, DecodeError> {
    let mut run: Option<(u64, u32, u32)> = None; // client, first clock, next clock
    let mut blocks = 0u64;
    let mut body = Vec::with_capacity(updates.iter().map(|u| u.len()).sum());
    let mut deletes = Vec::new();
    // Fixed items (field containers, schema records: one block at clock 0 of a reserved
    // client each) ride along in a writer's updates; each is a client section of its own.
    let mut fixed: Vec<(u64, &[u8])> = Vec::new();
    for bytes in updates {
        let structure = screen::update_v1(bytes)?;
        deletes.extend_from_slice(&structure.deletes);
        let mut own = None;
        for client in &structure.clients {
            if client.client < CONTAINER_CLIENT_BASE {
                if own.replace(client).is_some() {
                    return Ok(None);
                }
                continue;
            }
            match client.blocks.as_slice() {
                [block]
                    if block.clock == 0
                        && block.len == 1
                        && fixed.iter().all(|(c, _)| *c != client.client) =>
                {
                    fixed.push((client.client, &bytes[block.bytes.clone()]));
                }
                _ => return Ok(None),
            }
        }
        let Some(client) = own else {
            continue;
        };
        let (Some(first), Some(last)) = (client.blocks.first(), client.blocks.last()) else {
            continue;
        };
        run = match run {
            None => Some((client.client, first.clock, last.end())),
            Some((id, start, next)) if id == client.client && next == first.clock => {
                Some((id, start, last.end()))
            }
            Some(_) => return Ok(None),
        };
        blocks += client.blocks.len() as u64;
        for block in &client.blocks {
            body.extend_from_slice(&bytes[block.bytes.clone()]);
        }
    }
    let mut out = Vec::with_capacity(body.len() + 32);
    write_var(&mut out, (fixed.len() + usize::from(run.is_some())) as u64);
    for (client, block) in fixed {
        write_var(&mut out, 1);
        write_var(&mut out, client);
        write_var(&mut out, 0);
        out.extend_from_slice(block);
    }
    if let Some((client, start, _)) = run {
        write_var(&mut out, blocks);
        write_var(&mut out, client);
        write_var(&mut out, start.into());
        out.extend_from_slice(&body);
    }
    DeleteSet::from_ranges(deletes).write_v1(&mut out);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CardDoc, CardId, CardKind, Schema, Stamp, merge_updates_v1};

    fn run_of(client: u64, n: u128) -> (CardDoc, Vec<Vec<u8>>) {
        let schema = Schema::new(1).card("note", CardKind::default());
        let mut doc = CardDoc::new(schema, client).unwrap();
        let mut updates = Vec::new();
        for i in 0..n {
            let before = doc.state_vector();
            let card = CardId::from_u128(i);
            // Stamps far apart: each write rewrites `$modified`, deleting the previous one.
            let stamp = Stamp::new(i as u64 * 60_000, "me");
            doc.create_card(&stamp, card, "note", []).unwrap();
            if i % 3 == 2 {
                doc.delete_card(&stamp, CardId::from_u128(i - 1)).unwrap();
            }
            updates.push(doc.diff_v1(&before).unwrap());
        }
        (doc, updates)
    }

    fn slices(updates: &[Vec<u8>]) -> Vec<&[u8]> {
        updates.iter().map(Vec::as_slice).collect()
    }

    #[test]
    fn a_run_concatenates_to_the_same_document_as_a_merge() {
        let (doc, updates) = run_of(7, 10);
        let joined = concat_updates_v1(&slices(&updates)).unwrap().unwrap();
        let merged = merge_updates_v1(&slices(&updates)).unwrap();
        let schema = doc.schema().clone();
        let from_joined = CardDoc::load_v1(schema.clone(), 8, &joined).unwrap();
        let from_merged = CardDoc::load_v1(schema, 9, &merged).unwrap();
        assert_eq!(from_joined.export(), doc.export());
        assert_eq!(from_merged.export(), doc.export());
        // The deletions came along, as one set.
        let wanted: Vec<_> = updates
            .iter()
            .flat_map(|u| screen::update_v1(u).unwrap().deletes)
            .collect();
        assert!(!wanted.is_empty());
        let got = screen::update_v1(&joined).unwrap().deletes;
        assert_eq!(DeleteSet::from_ranges(got), DeleteSet::from_ranges(wanted));
    }

    #[test]
    fn a_tail_of_a_run_joins_too() {
        let (_, updates) = run_of(7, 6);
        let joined = concat_updates_v1(&slices(&updates[2..])).unwrap().unwrap();
        let structure = screen::update_v1(&joined).unwrap();
        assert_eq!(structure.clients.len(), 1);
        let first = screen::update_v1(&updates[2]).unwrap().clients[0].blocks[0].clock;
        assert_eq!(structure.clients[0].blocks[0].clock, first);
    }

    #[test]
    fn gaps_reorderings_and_other_clients_are_not_a_run() {
        let (_, updates) = run_of(7, 4);
        let (_, others) = run_of(8, 1);
        for not_a_run in [
            vec![&updates[0][..], &updates[2]],
            vec![&updates[1][..], &updates[0]],
            vec![&updates[0][..], &others[0]],
        ] {
            assert_eq!(concat_updates_v1(&not_a_run).unwrap(), None);
        }
    }

    #[test]
    fn refused_bytes_are_an_error() {
        let (_, updates) = run_of(7, 1);
        let bomb: &[u8] = &[0xab, 0x8e, 0xc5, 0x73, 0x76];
        assert!(matches!(
            concat_updates_v1(&[&updates[0], bomb]),
            Err(DecodeError::Screen(_))
        ));
    }
}
