//! Judgements for the driver's audit trail: one per batch the room judges, with the
//! author of the peer's admission, the verdict (the persist token of an accepted batch, the
//! code of a rejection) and what the batch touched; none for a duplicate, none when the driver
//! did not ask.

use std::collections::BTreeSet;

use super::batches::{priority_for_admins, two_peers};
use super::*;
use crate::protocol::RejectCode;
use crate::room::{Judgement, Verdict};

fn judgements(actions: &[RoomAction]) -> Vec<Judgement> {
    actions
        .iter()
        .filter_map(|a| match a {
            RoomAction::Judged(j) => Some(j.clone()),
            _ => None,
        })
        .collect()
}

/// An editor (peer 1, client 7) and a viewer (peer 2) in a room that reports judgements,
/// where only admins set `priority`.
fn judging() -> (Driver, Client) {
    let config = priority_for_admins();
    let mut d = Driver::new(config.clone());
    d.room = Room::new(config, schema(), tokens(), Vec::<Vec<u8>>::new())
        .unwrap()
        .with_judgements();
    d.join(1, "edit", 7);
    d.join(2, "view", 8);
    (d, Client::new(7))
}

#[test]
fn each_judged_batch_reports_its_author_verdict_and_cards() {
    let (mut d, mut alice) = judging();
    let (msg, batch, _) = alice.batch(&[create_task(1, "todo")]);
    let actions = d.send(PeerId(1), &msg);
    // The judgement comes before the persist it names.
    let [
        RoomAction::Judged(accepted),
        RoomAction::Persist { token, .. },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(accepted.peer, PeerId(1));
    assert_eq!(accepted.batch, Some(batch));
    assert_eq!(accepted.author.role, Role::Editor);
    assert_eq!(accepted.verdict, Verdict::Accepted(*token));
    let change = &accepted.summary.cards[&card(1)];
    assert!(change.whole, "{accepted:?}");
    d.persist_all();

    // A field reserved to admins: rejected, with its code and the card and field it touched.
    let (msg, batch, _) = alice.batch(&[set(1, "priority", 3)]);
    let [rejected] = judgements(&d.send(PeerId(1), &msg)).try_into().unwrap();
    assert_eq!(rejected.batch, Some(batch));
    assert!(
        matches!(
            &rejected.verdict,
            Verdict::Rejected { code: RejectCode::Forbidden, reason } if !reason.is_empty()
        ),
        "{rejected:?}"
    );
    let fields: BTreeSet<String> = ["priority".to_owned()].into();
    assert_eq!(rejected.summary.cards[&card(1)].fields, fields);

    // The viewer's write: forbidden, by a viewer.
    let mut viewer = Client::new(8);
    let (msg, _, _) = viewer.batch(&[create_task(2, "todo")]);
    let [forbidden] = judgements(&d.send(PeerId(2), &msg)).try_into().unwrap();
    assert_eq!(forbidden.author.role, Role::Viewer);
    assert!(matches!(
        forbidden.verdict,
        Verdict::Rejected {
            code: RejectCode::Forbidden,
            ..
        }
    ));
}

#[test]
fn duplicates_are_not_judged_and_a_room_not_asked_reports_nothing() {
    let (mut d, mut alice) = judging();
    let (msg, _, _) = alice.batch(&[create_task(1, "todo")]);
    assert_eq!(judgements(&d.send(PeerId(1), &msg)).len(), 1);
    d.persist_all();
    assert!(
        judgements(&d.send(PeerId(1), &msg)).is_empty(),
        "a duplicate is no new verdict"
    );

    let (mut plain, mut bob) = two_peers();
    let (msg, _, _) = bob.batch(&[create_task(1, "todo")]);
    assert!(judgements(&plain.send(PeerId(1), &msg)).is_empty());
}
