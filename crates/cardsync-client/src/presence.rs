//! Presence for the native client: this client's awareness entry and everyone else's, in
//! the y-protocols encoding the npm client and stock y-websocket peers use
//! (docs/design.md §6, "Presence").
//!
//! Why here and not in `cardsync_sync`: presence is not document state. It is never stored,
//! acked or rolled back, and its rules are y-protocols' (a clock per awareness client id, the
//! higher clock wins, `null` removes, a renewal every 15 s, an expiry of entries not renewed
//! within 30 s), all of them about time and the socket, which this driver owns. The room's
//! side (relay, memory, limits) is `cardsync_sync::room`; the browser's is
//! `pkg/src/sync/presence.js`, which this mirrors.
//!
//! [`Presence`] is plain state: it reads no clock (the driver passes milliseconds) and sends
//! nothing; each method returns the frame to send, if any.

use std::collections::{BTreeMap, HashMap};

use cardsync_core::lib0::{read_var, write_var};
use cardsync_sync::protocol::Message;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// Another peer's entry not renewed within this long is removed (y-protocols' value); the
/// local entry is renewed at half of it.
pub const TIMEOUT_MS: u64 = 30_000;
/// How often the driver calls [`Presence::tick`].
pub const TICK_MS: u64 = TIMEOUT_MS / 10;
/// Largest local state, as JSON bytes (the server's default `room.max_awareness_bytes`,
/// less framing), as in the npm client.
pub const MAX_PRESENCE_BYTES: usize = 8_000;

/// A selection in a field's text: character offsets (`anchor == head` for a caret).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Where the selection starts.
    pub anchor: u64,
    /// Where it ends (the caret).
    pub head: u64,
}

/// What this client publishes: the same typed shape as the npm client's `presence.set`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceState {
    /// Who: a display name or user id (non-empty).
    pub user: String,
    /// A CSS color for this user's marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The card being edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    /// The field of that card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Where in the field's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
}

/// Another peer's entry: the typed fields where its state has them (a stock Yjs app's
/// `user: { name, color }` reads as `user` and `color`), and the state as it came.
#[derive(Clone, Debug, PartialEq)]
pub struct PresencePeer {
    /// Its awareness client id (one per tab or client and document).
    pub client_id: u64,
    /// Who.
    pub user: Option<String>,
    /// Its marker's color.
    pub color: Option<String>,
    /// The card it edits.
    pub card: Option<String>,
    /// The field of that card.
    pub field: Option<String>,
    /// Where in the field's text.
    pub cursor: Option<Cursor>,
    /// The state as it came (any JSON).
    pub state: Value,
}

/// Client ids whose entries appeared, changed or went away.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PresenceChange {
    /// New entries.
    pub added: Vec<u64>,
    /// Entries whose state changed.
    pub updated: Vec<u64>,
    /// Entries removed (withdrawn, expired, or the connection dropped).
    pub removed: Vec<u64>,
}

impl PresenceChange {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// A local state that cannot be published.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PresenceError {
    /// `user` is empty.
    #[error("presence: user must be a non-empty string")]
    EmptyUser,
    /// The state's JSON is over [`MAX_PRESENCE_BYTES`].
    #[error("presence: the state is {bytes} bytes of JSON, over {MAX_PRESENCE_BYTES}")]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
}

impl PresenceError {
    /// The stable code, the npm client's for the same refusal.
    pub fn code(&self) -> &'static str {
        "invalid_argument"
    }
}

/// Checks a local state; returns its JSON text.
pub(crate) fn check(state: &PresenceState) -> Result<String, PresenceError> {
    if state.user.is_empty() {
        return Err(PresenceError::EmptyUser);
    }
    let json = serde_json::to_string(state).unwrap_or_default();
    if json.len() > MAX_PRESENCE_BYTES {
        return Err(PresenceError::TooLarge { bytes: json.len() });
    }
    Ok(json)
}

struct Entry {
    json: String,
    peer: PresencePeer,
    seen: u64,
}

/// This client's entry and the others', by the rules of y-protocols.
pub(crate) struct Presence {
    client_id: u64,
    clock: u64,
    /// The local state's JSON text, if one is published.
    local: Option<String>,
    renewed_at: u64,
    others: BTreeMap<u64, Entry>,
    /// The last clock per client id, kept after an entry expires.
    clocks: HashMap<u64, u64>,
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn peer_of(client_id: u64, state: Value) -> PresencePeer {
    let field = |key: &str| state.get(key).unwrap_or(&Value::Null);
    let user = field("user");
    let cursor = serde_json::from_value(field("cursor").clone()).ok();
    PresencePeer {
        client_id,
        user: text(user).or_else(|| user.get("name").and_then(text)),
        color: text(field("color")).or_else(|| user.get("color").and_then(text)),
        card: text(field("card")),
        field: text(field("field")),
        cursor,
        state,
    }
}

/// One awareness update (`varuint count`, then `client`, `clock`, `string state` each), as
/// the awareness message that carries it.
fn frame(entries: &[(u64, u64, &str)]) -> Vec<u8> {
    let mut update = Vec::new();
    write_var(&mut update, entries.len() as u64);
    for &(client, clock, json) in entries {
        write_var(&mut update, client);
        write_var(&mut update, clock);
        write_var(&mut update, json.len() as u64);
        update.extend_from_slice(json.as_bytes());
    }
    Message::Awareness { update }.encode()
}

/// Decodes an awareness update; `None` if it does not parse (it then changes nothing).
fn decode(mut bytes: &[u8]) -> Option<Vec<(u64, u64, Value)>> {
    let count = read_var(&mut bytes).ok()?;
    let mut entries = Vec::new();
    for _ in 0..count {
        let client = read_var(&mut bytes).ok()?;
        let clock = read_var(&mut bytes).ok()?;
        let len = usize::try_from(read_var(&mut bytes).ok()?).ok()?;
        let (json, rest) = bytes.split_at_checked(len)?;
        bytes = rest;
        entries.push((client, clock, serde_json::from_slice(json).ok()?));
    }
    bytes.is_empty().then_some(entries)
}

impl Presence {
    pub fn new(client_id: u64) -> Self {
        Self {
            client_id,
            clock: 0,
            local: None,
            renewed_at: 0,
            others: BTreeMap::new(),
            clocks: HashMap::new(),
        }
    }

    /// Publishes `json` (checked by [`check`]), or withdraws the local entry (`None`).
    /// Returns the frame to send.
    pub fn set(&mut self, now: u64, json: Option<String>) -> Option<Vec<u8>> {
        match json {
            Some(json) => {
                self.local = Some(json);
                self.local_frame(now)
            }
            None => self.local.take().map(|_| self.removal_frame()),
        }
    }

    /// The local entry with a new clock, to send on a new connection or as a renewal.
    pub fn local_frame(&mut self, now: u64) -> Option<Vec<u8>> {
        let json = self.local.as_deref()?;
        self.clock += 1;
        self.renewed_at = now;
        Some(frame(&[(self.client_id, self.clock, json)]))
    }

    /// The removal of the local entry (on close); the state is kept for a later connection.
    pub fn removal_frame(&mut self) -> Vec<u8> {
        self.clock += 1;
        frame(&[(self.client_id, self.clock, "null")])
    }

    /// Applies an awareness update from the server; returns the change and, if someone
    /// removed this client's own entry, the frame that says it is here.
    pub fn receive(&mut self, now: u64, update: &[u8]) -> (PresenceChange, Option<Vec<u8>>) {
        let mut change = PresenceChange::default();
        let mut answer = None;
        for (client, clock, state) in decode(update).unwrap_or_default() {
            if client == self.client_id {
                if state.is_null() && clock >= self.clock && self.local.is_some() {
                    self.clock = clock;
                    answer = self.local_frame(now);
                }
                continue;
            }
            let known = self.clocks.get(&client).copied().unwrap_or(0);
            let present = self.others.contains_key(&client);
            if !(known < clock || (known == clock && state.is_null() && present)) {
                continue;
            }
            self.clocks.insert(client, clock);
            if state.is_null() {
                if self.others.remove(&client).is_some() {
                    change.removed.push(client);
                }
                continue;
            }
            let json = state.to_string();
            match self.others.get_mut(&client) {
                Some(entry) => {
                    entry.seen = now;
                    if entry.json != json {
                        change.updated.push(client);
                        entry.peer = peer_of(client, state);
                        entry.json = json;
                    }
                }
                None => {
                    change.added.push(client);
                    let peer = peer_of(client, state);
                    self.others.insert(
                        client,
                        Entry {
                            json,
                            peer,
                            seen: now,
                        },
                    );
                }
            }
        }
        (change, answer)
    }

    /// The connection dropped: every other entry goes, and its clock with it (the next
    /// connection's snapshot brings the same clocks back, and must count as news).
    pub fn drop_others(&mut self) -> PresenceChange {
        self.clocks.clear();
        let removed = std::mem::take(&mut self.others).into_keys().collect();
        PresenceChange {
            removed,
            ..PresenceChange::default()
        }
    }

    /// Every [`TICK_MS`]: renews the local entry at half the timeout, expires the others'.
    pub fn tick(&mut self, now: u64) -> (PresenceChange, Option<Vec<u8>>) {
        let renewal = if now.saturating_sub(self.renewed_at) >= TIMEOUT_MS / 2 {
            self.local_frame(now)
        } else {
            None
        };
        let expired: Vec<u64> = self
            .others
            .iter()
            .filter(|(_, e)| now.saturating_sub(e.seen) >= TIMEOUT_MS)
            .map(|(&id, _)| id)
            .collect();
        for id in &expired {
            self.others.remove(id);
        }
        let change = PresenceChange {
            removed: expired,
            ..PresenceChange::default()
        };
        (change, renewal)
    }

    /// The other peers' entries, by client id.
    pub fn others(&self) -> Vec<PresencePeer> {
        self.others.values().map(|e| e.peer.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(client: u64, clock: u64, json: &str) -> Vec<u8> {
        let Message::Awareness { update } =
            Message::decode(&frame(&[(client, clock, json)]), usize::MAX).unwrap()
        else {
            panic!("not an awareness message");
        };
        update
    }

    #[test]
    fn clocks_removal_expiry_and_renewal_follow_y_protocols() {
        let mut p = Presence::new(5);
        let (c, _) = p.receive(0, &update(9, 3, r#"{"user":"new","card":"a"}"#));
        assert_eq!(c.added, [9]);
        p.receive(0, &update(9, 2, r#"{"user":"old"}"#));
        assert_eq!(p.others()[0].user.as_deref(), Some("new"));
        assert_eq!(p.others()[0].card.as_deref(), Some("a"));
        let (c, _) = p.receive(0, &update(9, 3, "null"));
        assert_eq!(c.removed, [9], "a removal at the same clock wins");
        // A stock app's user object.
        p.receive(
            0,
            &update(11, 1, r##"{"user":{"name":"stock","color":"#123"}}"##),
        );
        let stock = &p.others()[0];
        assert_eq!(
            (stock.user.as_deref(), stock.color.as_deref()),
            (Some("stock"), Some("#123"))
        );
        // Malformed bytes change nothing.
        assert!(p.receive(0, &[1, 7]).0.is_empty());
        // Someone removed this client's entry: it answers with a higher clock.
        p.set(0, Some(r#"{"user":"me"}"#.into()));
        let (_, answer) = p.receive(0, &update(5, 40, "null"));
        assert_eq!(answer, Some(frame(&[(5, 41, r#"{"user":"me"}"#)])));
        // Not renewed for the timeout: expired; the local entry renewed at half of it.
        let (c, renewal) = p.tick(TIMEOUT_MS);
        assert_eq!(c.removed, [11]);
        assert_eq!(renewal, Some(frame(&[(5, 42, r#"{"user":"me"}"#)])));
        assert_eq!(p.tick(TIMEOUT_MS + TICK_MS).1, None, "renewed a moment ago");
        // Withdrawn: a null state.
        assert_eq!(p.set(0, None), Some(frame(&[(5, 43, "null")])));
        assert_eq!(p.set(0, None), None, "nothing left to withdraw");
    }

    #[test]
    fn a_state_is_checked() {
        let state = |user: &str| PresenceState {
            user: user.into(),
            ..PresenceState::default()
        };
        assert_eq!(check(&state("")), Err(PresenceError::EmptyUser));
        assert!(matches!(
            check(&state(&"x".repeat(9_000))),
            Err(PresenceError::TooLarge { .. })
        ));
        assert_eq!(check(&state("ada")).unwrap(), r#"{"user":"ada"}"#);
    }
}
