//! Targets over the wire: one protocol frame, and a stream of frames into a server room.
//!
//! The room target is the server's whole untrusted surface short of the socket: everything a
//! connected editor can send (hello, sync steps, batches, stock updates, awareness, garbage).
//! The room admits hello-less peers as editors, so a stream that does not open with a hello
//! takes the stock path, where invalid updates are compensated instead of refused.
//! Beyond "no panic" it checks the room's durability promise: replaying the update log the
//! room asked its driver to persist rebuilds exactly the room's document, so nothing the room
//! holds (and may have acked or broadcast) is missing from storage.

use cardsync_core::CardDoc;
use cardsync_sync::protocol::Message;
use cardsync_sync::room::{PeerId, Role, Room, RoomAction, RoomConfig, StaticTokens};
use cardsync_sync::time::Instant;

use super::seeds::{fixture_snapshot, schema};

/// The token the room target's editor may present (the seeds do).
pub(super) const EDITOR_TOKEN: &str = "editor-token";

/// The largest frame the targets decode, as a server would configure it.
const MAX_FRAME: usize = 1 << 20;

/// One frame: decodes to a message or a typed error; a message re-encodes to bytes that decode
/// to the same message.
pub(super) fn frame(data: &[u8]) {
    if let Ok(message) = Message::decode(data, MAX_FRAME) {
        let again =
            Message::decode(&message.encode(), MAX_FRAME).expect("an encoded message decodes");
        assert_eq!(
            again, message,
            "a message changed through encode and decode"
        );
    }
}

/// The room target's input format: frames, each prefixed by its length as a little-endian
/// `u16`; a short tail is the last frame.
pub(super) fn frames_input(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut input = Vec::new();
    for frame in frames {
        let len = u16::try_from(frame.len()).expect("seed frames are small");
        input.extend_from_slice(&len.to_le_bytes());
        input.extend_from_slice(frame);
    }
    input
}

fn split_frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut frames = Vec::new();
    while let [a, b, rest @ ..] = data {
        let len = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
        frames.push(&rest[..len]);
        data = &rest[len..];
    }
    frames
}

/// A stream of frames from one connected peer into a room holding the fixture document.
pub(super) fn room(data: &[u8]) {
    // The fixture as one compacted log entry: the room replays it once on open, and the check
    // below once more (the eight transactions as separate entries cost eight integrations).
    let log = vec![fixture_snapshot().to_vec()];
    let tokens = StaticTokens::default().with(EDITOR_TOKEN, Role::Editor);
    let config = RoomConfig {
        hello_less_role: Some(Role::Editor),
        ..RoomConfig::default()
    };
    let mut room =
        Room::new(config, schema(), tokens, &log).expect("the fixture's log opens a room");
    let mut persisted = log;
    let peer = PeerId(1);
    room.handle_connect(Instant(0), peer)
        .expect("a new peer connects");
    for (at, frame) in split_frames(data).into_iter().enumerate() {
        let now = Instant(at as u64 * 10);
        // A typed error is a refusal of this frame; the room stays usable either way.
        let _ = room.handle_message(now, peer, frame);
        drive(&mut room, now, &mut persisted);
        room.handle_timeout(now);
        drive(&mut room, now, &mut persisted);
    }
    let mut replayed = CardDoc::with_schema(schema(), 9).expect("valid schema");
    for update in &persisted {
        replayed
            .apply_update_v1(update)
            .expect("the room persists only updates it can replay");
    }
    assert_eq!(
        replayed.export(),
        room.doc().export(),
        "the persisted log does not rebuild the room's document"
    );
}

/// Carries out the room's actions as a driver whose storage confirms every write at once.
fn drive(room: &mut Room<StaticTokens>, now: Instant, persisted: &mut Vec<Vec<u8>>) {
    while let Some(action) = room.poll_action() {
        if let RoomAction::Persist { token, update } = action {
            persisted.push(update);
            room.handle_persisted(now, token)
                .expect("confirming the token the room just issued");
        }
    }
}
