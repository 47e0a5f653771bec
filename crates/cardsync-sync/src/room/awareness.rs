//! Presence bookkeeping, so awareness works for peers that join late or leave abruptly.
//!
//! The room relays awareness frames unchanged and never interprets the states (JSON chosen by
//! the application). It does remember the latest state per awareness client id and which
//! peer announced it, for two things a pure relay gets wrong, as y-websocket's server does:
//! - a peer that joins gets everyone's current presence at once, instead of waiting up to
//!   15 s for the next periodic renewal;
//! - when a peer's connection drops, the others get a removal for its states at once,
//!   instead of seeing a ghost cursor for 30 s.
//!
//! Format (y-protocols): `varint count`, then per entry `varint client`, `varint clock`,
//! `string state` where the state `"null"` means "gone".

use std::collections::BTreeMap;

use cardsync_core::lib0::{self, VarIntError, write_var};
use thiserror::Error;

use super::names::PeerId;

/// Most awareness client ids remembered per peer (a tab has one; a peer claiming hundreds is
/// still relayed, just not remembered beyond this).
const MAX_STATES_PER_PEER: usize = 16;

/// An awareness update that does not parse.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum AwarenessError {
    /// It ends inside a value.
    #[error("awareness update truncated")]
    Truncated,
    /// A varint does not fit 64 bits, or a state is not UTF-8.
    #[error("awareness update malformed")]
    Malformed,
    /// Bytes after the last entry.
    #[error("trailing bytes after awareness update")]
    Trailing,
}

#[derive(Clone, Debug)]
struct State {
    peer: PeerId,
    clock: u64,
    json: String,
}

/// Latest awareness state per client id.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    states: BTreeMap<u64, State>,
}

fn read_var(bytes: &mut &[u8]) -> Result<u64, AwarenessError> {
    lib0::read_var(bytes).map_err(|error| match error {
        VarIntError::Truncated => AwarenessError::Truncated,
        VarIntError::Overflow => AwarenessError::Malformed,
    })
}

fn encode<'a>(entries: impl ExactSizeIterator<Item = (u64, u64, &'a str)>) -> Vec<u8> {
    let mut out = Vec::new();
    write_var(&mut out, entries.len() as u64);
    for (client, clock, json) in entries {
        write_var(&mut out, client);
        write_var(&mut out, clock);
        write_var(&mut out, json.len() as u64);
        out.extend_from_slice(json.as_bytes());
    }
    out
}

impl Presence {
    /// Records an awareness update from `peer`. An update that does not parse changes
    /// nothing (and should not be relayed).
    pub fn apply(&mut self, peer: PeerId, update: &[u8]) -> Result<(), AwarenessError> {
        let mut bytes = update;
        let count = read_var(&mut bytes)?;
        let mut parsed = Vec::new();
        for _ in 0..count {
            let client = read_var(&mut bytes)?;
            let clock = read_var(&mut bytes)?;
            let len =
                usize::try_from(read_var(&mut bytes)?).map_err(|_| AwarenessError::Truncated)?;
            let raw = bytes.get(..len).ok_or(AwarenessError::Truncated)?;
            bytes = &bytes[len..];
            let json = std::str::from_utf8(raw).map_err(|_| AwarenessError::Malformed)?;
            parsed.push((client, clock, json));
        }
        if !bytes.is_empty() {
            return Err(AwarenessError::Trailing);
        }
        for (client, clock, json) in parsed {
            if self.states.get(&client).is_some_and(|s| s.clock > clock) {
                continue;
            }
            if json == "null" {
                self.states.remove(&client);
                continue;
            }
            let known = self.states.contains_key(&client);
            let held = self.states.values().filter(|s| s.peer == peer).count();
            if known || held < MAX_STATES_PER_PEER {
                let json = json.to_owned();
                self.states.insert(client, State { peer, clock, json });
            }
        }
        Ok(())
    }

    /// Everyone's current states except `peer`'s, as one update (`None` if there are none).
    pub fn snapshot_for(&self, peer: PeerId) -> Option<Vec<u8>> {
        let entries: Vec<_> = self
            .states
            .iter()
            .filter(|(_, s)| s.peer != peer)
            .map(|(&c, s)| (c, s.clock, s.json.as_str()))
            .collect();
        (!entries.is_empty()).then(|| encode(entries.into_iter()))
    }

    /// Forgets `peer`'s states and returns the update that removes them for everyone else.
    pub fn remove_peer(&mut self, peer: PeerId) -> Option<Vec<u8>> {
        let gone: Vec<(u64, u64)> = self
            .states
            .iter()
            .filter(|(_, s)| s.peer == peer)
            .map(|(&c, s)| (c, s.clock + 1))
            .collect();
        for (client, _) in &gone {
            self.states.remove(client);
        }
        (!gone.is_empty()).then(|| encode(gone.iter().map(|&(c, clock)| (c, clock, "null"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_latest_and_removes_on_leave() {
        let (a, b) = (PeerId(1), PeerId(2));
        let mut p = Presence::default();
        p.apply(a, &encode([(7, 1, r#"{"name":"ada"}"#)].into_iter()))
            .unwrap();
        p.apply(a, &encode([(7, 0, r#"{"old":1}"#)].into_iter()))
            .unwrap();
        assert_eq!(
            p.snapshot_for(b),
            Some(encode([(7, 1, r#"{"name":"ada"}"#)].into_iter()))
        );
        assert_eq!(p.snapshot_for(a), None);
        assert_eq!(p.remove_peer(a), Some(encode([(7, 2, "null")].into_iter())));
        assert_eq!(p.snapshot_for(b), None);
        assert!(p.apply(a, &[1, 7]).is_err());
        assert!(p.apply(a, &[0, 0]).is_err());
    }
}
