//! What an incoming update covers, read before anything is applied.
//!
//! Acks, duplicates and dependencies are all questions about clocks: "does the room already
//! hold these clocks?", "does this start where the room's state ends, or after a hole?",
//! "whose clocks are these?". [`Incoming`] answers them from the update's own blocks (as yrs
//! decodes them, behind `cardsync_core`'s screen), so the room can re-ack a duplicate or
//! refuse a dependent without touching either replica.

use std::collections::BTreeMap;
use std::ops::Range;

use cardsync_core::DecodeError;
use yrs::StateVector;
use yrs::block::ClientID;

/// The clocks of one client that an update holds and the room lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fresh {
    /// Client id.
    pub client: u64,
    /// Lowest clock the room lacks; above the room's state for this client means a hole.
    pub start: u32,
    /// One past the highest clock in the update.
    pub end: u32,
}

/// The block ranges and deletions of a decoded update.
#[derive(Debug)]
pub(crate) struct Incoming {
    /// Per client id, the clock ranges of its blocks (skips excluded).
    ranges: BTreeMap<u64, Vec<Range<u32>>>,
    /// Whether the update deletes anything.
    has_deletes: bool,
}

impl Incoming {
    /// Decodes a v1 update from an untrusted peer.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let update = cardsync_core::decode_update_v1(bytes)?;
        let mut ranges: BTreeMap<u64, Vec<Range<u32>>> = BTreeMap::new();
        for (client, set) in update.insertions(true).iter() {
            ranges
                .entry(client.get())
                .or_default()
                .extend(set.iter().cloned());
        }
        Ok(Self {
            ranges,
            has_deletes: !update.delete_set().is_empty(),
        })
    }

    /// Whether the update deletes anything (deletions carry no clocks of their own).
    pub fn has_deletes(&self) -> bool {
        self.has_deletes
    }

    /// The clients whose clocks the room (state `held`) lacks, in client order.
    pub fn fresh(&self, held: &StateVector) -> Vec<Fresh> {
        self.ranges
            .iter()
            .filter_map(|(&client, ranges)| {
                let have = held.get(&ClientID::new(client));
                let start = ranges
                    .iter()
                    .filter(|r| r.end > have)
                    .map(|r| r.start.max(have))
                    .min()?;
                let end = ranges.iter().map(|r| r.end).max()?;
                Some(Fresh { client, start, end })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cardsync_core::{CardDoc, CardId, CardKind, Schema, Stamp};
    use yrs::{ReadTxn, Transact};

    #[test]
    fn fresh_clocks_and_holes() {
        let schema = Schema::new(1).card("note", CardKind::default());
        let mut doc = CardDoc::new(schema.clone(), 9).unwrap();
        let s = Stamp::new(1, "a");
        let mut updates = Vec::new();
        for i in 0..3u128 {
            let sv = doc.state_vector();
            doc.create_card(&s, CardId::from_u128(i), "note", [])
                .unwrap();
            updates.push(doc.diff_v1(&sv).unwrap());
        }
        let room = CardDoc::new(schema, 1).unwrap();
        let held = room.yrs_doc().transact().state_vector();
        let first = Incoming::decode(&updates[0]).unwrap().fresh(&held);
        // The first write also records the schema, as a fixed item of a reserved client.
        assert_eq!(first.len(), 2);
        assert!(first[1].client >= cardsync_core::CONTAINER_CLIENT_BASE);
        assert_eq!((first[0].client, first[0].start), (9, 0));
        let third = Incoming::decode(&updates[2]).unwrap().fresh(&held);
        assert!(third[0].start > 0, "a hole before the third update");
        assert!(third[0].end > third[0].start);
        assert!(matches!(
            Incoming::decode(&[0xab, 0x8e, 0xc5, 0x73, 0x76]),
            Err(DecodeError::Screen(_))
        ));
    }
}
