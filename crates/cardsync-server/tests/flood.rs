//! A client flooding one room cannot starve another: while editors push batches into room
//! `flood` as fast as their sockets take them (with the rate limit lifted, so every batch is
//! validated, persisted and acked), an edit in room `calm` still reaches the other client
//! there within a bound. Rooms run as separate tasks; what they share is the runtime, the
//! process's limits and the store's writer, and the flood must not monopolise any of them.
//!
//! The flood is a relay of flooders, each with its own client id, one after another, each
//! sending all its batches without waiting while it reads its acks. None of them may be cut:
//! a connection blocked on a full room inbox still writes the acks queued for it, so its send
//! queue cannot fill up behind its own backpressure ("too far behind", `TRY_AGAIN_LATER`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cardsync_core::{CardDoc, CardId, Op, Origin, Stamp};
use cardsync_sync::protocol::{BatchId, Message};
use cardsync_sync::room::Role;
use common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// How long one edit in the calm room may take to reach its other client during the flood.
/// Unloaded it takes milliseconds; the bound leaves room for a loaded 2-core CI machine.
const BOUND: Duration = Duration::from_secs(5);

/// Batches from client `client`, each creating a card: new work for the room and the store.
fn flood_updates(client: u64, n: u128) -> Vec<Vec<u8>> {
    let mut doc = CardDoc::new(schema(), client).unwrap();
    (0..n)
        .map(|i| {
            let create = Op::CreateCard {
                card: CardId::from_u128(u128::from(client) << 64 | i),
                kind: "task".into(),
                fields: [("title".to_owned(), "flood".into())].into(),
            };
            doc.apply_with_origin(&Stamp::new(1, "flood"), &[create], Origin::Local)
                .unwrap()
                .update
        })
        .collect()
}

/// One flooder: sends every update without waiting and counts the acks, until the server
/// cuts it, everything it sent is acked, or `stop`. Returns the close frame if the server cut
/// it before everything was acked.
async fn flooder(
    url: &str,
    client: u64,
    acked: &AtomicUsize,
    stop: &AtomicBool,
) -> Option<WsMessage> {
    let updates = flood_updates(client, 5_000);
    let (total, mine) = (updates.len(), AtomicUsize::new(0));
    let mut ws = raw(url).await;
    let hello = hello_from(&token("flood", Role::Editor), client);
    send(&mut ws, &hello).await;
    let (mut sink, mut stream) = ws.split();
    let reading = async {
        while let Some(Ok(frame)) = stream.next().await {
            match frame {
                WsMessage::Binary(bytes) => {
                    if let Ok(Message::Ack { .. }) = Message::decode(&bytes, usize::MAX) {
                        acked.fetch_add(1, Ordering::Relaxed);
                        mine.fetch_add(1, Ordering::Relaxed);
                    }
                }
                close @ WsMessage::Close(_) => return Some(close),
                _ => {}
            }
        }
        Some(WsMessage::Close(None))
    };
    let sending = async {
        for (seq, update) in updates.into_iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let batch = BatchId {
                client,
                seq: seq as u64,
            };
            let frame = Message::SubmitBatch { batch, update }.encode();
            if sink.send(WsMessage::Binary(frame.into())).await.is_err() {
                return;
            }
        }
        // Sent everything: read the remaining acks, then make way for the next flooder.
        while mine.load(Ordering::Relaxed) < total && !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        closed = reading => closed.filter(|_| !stop.load(Ordering::Relaxed)),
        () = sending => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_room_does_not_starve_another() {
    let dir = tempfile::tempdir().unwrap();
    // Short queues, so that a flooder keeps its room's inbox full and its acks pile up fast.
    let config = "[room]\nbatch_rate = { burst = 1000000, refill_ms = 1 }\n\
                  [limits]\nsend_queue = 256\nroom_queue = 16\n";
    let server = TestServer::start(dir.path(), config, 0);
    let calm = server.url("calm");
    let (a, _) = client(&calm, "calm", Role::Editor, None).await;
    let (b, _) = client(&calm, "calm", Role::Editor, None).await;
    settled(&a, "a online").await;
    settled(&b, "b online").await;

    let (acked, stop) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let (flooders, flood) = {
        let (url, acked, stop) = (server.url("flood"), Arc::clone(&acked), Arc::clone(&stop));
        let flooders = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&flooders);
        let flood = tokio::spawn(async move {
            for client in 1_000.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                count.fetch_add(1, Ordering::Relaxed);
                // Panics in the task: printed at once, and again by `flood.await` below.
                if let Some(close) = flooder(&url, client, &acked, &stop).await {
                    panic!("flooder {client} was cut: {close:?}");
                }
            }
        });
        (flooders, flood)
    };
    within("the flood to start", async {
        while acked.load(Ordering::Relaxed) < 100 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    let mut slowest = Duration::ZERO;
    for n in 1..=5u128 {
        let acked_before = acked.load(Ordering::Relaxed);
        let card = CardId::from_u128(n);
        let create = Op::CreateCard {
            card,
            kind: "task".into(),
            fields: Default::default(),
        };
        let started = Instant::now();
        a.apply(Stamp::new(n as u64, "a"), vec![create])
            .await
            .unwrap();
        eventually(&b, "b sees a's card during the flood", move |s| {
            s.local().card(card).is_some()
        })
        .await;
        let took = started.elapsed();
        slowest = slowest.max(took);
        assert!(
            took < BOUND,
            "edit {n} in the calm room took {took:?} during the flood"
        );
        // The flooded room kept working meanwhile: the flood was on, not paused.
        within("the flooded room to ack during the edit", async {
            while acked.load(Ordering::Relaxed) == acked_before {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }
    stop.store(true, Ordering::Relaxed);
    within("the flood to stop", flood).await.unwrap();
    eprintln!(
        "calm-room edits took at most {slowest:?}; the flooded room acked {} batches from {} \
         flooders",
        acked.load(Ordering::Relaxed),
        flooders.load(Ordering::Relaxed)
    );
}
