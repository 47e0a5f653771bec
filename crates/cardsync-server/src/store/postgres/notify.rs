//! The announcement of a new head on PostgreSQL: the store sends `pg_notify` inside the
//! appending transaction (so it is delivered only at `COMMIT`), and [`PgBus`] listens for it
//! on one dedicated connection (`LISTEN`), on a thread of its own. One channel, and a payload
//! of the document id and the head, written once here so that both ends agree.
//!
//! The listening connection is reopened with backoff (100 ms doubling to 5 s) when it drops;
//! the bus reports the loss ([`WakeUp::Lost`]) and, once listening again, that announcements
//! may have been missed meanwhile ([`WakeUp::Missed`]): every room then catches up from the
//! log, which is the source of truth (docs/design.md §12).

use std::thread::JoinHandle;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Config, NoTls};

use crate::store::bus::{Bus, Deliver, WakeUp};
use crate::store::{DocId, SeqNo};

/// The notification channel.
pub(crate) const CHANNEL: &str = "cardsync_heads";

/// How long the listener waits for a notification before it reports [`WakeUp::Idle`].
const IDLE: Duration = Duration::from_secs(1);

/// First and longest wait before reconnecting.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// `"<doc> <head>"`: a document id never holds a space.
pub(crate) fn payload(doc: &DocId, head: SeqNo) -> String {
    format!("{doc} {head}")
}

/// Reads a payload back; `None` for anything else (someone else's notification on the
/// channel is ignored, never trusted).
pub(crate) fn parse(payload: &str) -> Option<(DocId, SeqNo)> {
    let (doc, head) = payload.split_once(' ')?;
    Some((DocId::new(doc).ok()?, head.parse().ok()?))
}

/// The PostgreSQL bus. See the module docs of `store/postgres/notify.rs`.
pub struct PgBus {
    config: Config,
    target: String,
}

impl PgBus {
    pub(crate) fn new(config: Config, target: String) -> Self {
        Self { config, target }
    }
}

impl Bus for PgBus {
    fn notify(&self, _doc: &DocId, _head: SeqNo) {
        // Sent by the appending transaction itself.
    }

    fn listen(&self, deliver: Deliver) -> Option<JoinHandle<()>> {
        let (config, target) = (self.config.clone(), self.target.clone());
        std::thread::Builder::new()
            .name("cardsync-bus".into())
            .spawn(move || listen(&config, &target, deliver))
            .ok()
    }
}

/// Listens until `deliver` says the node stopped, reconnecting with backoff.
fn listen(config: &Config, target: &str, mut deliver: Deliver) {
    let mut wait = BACKOFF.0;
    let mut up = true;
    loop {
        match config.connect(NoTls) {
            Ok(mut client) => match client.batch_execute(&format!("LISTEN {CHANNEL}")) {
                Ok(()) => {
                    wait = BACKOFF.0;
                    if !up {
                        tracing::info!(%target, "bus listening again");
                    }
                    up = true;
                    if !deliver(WakeUp::Missed) || !relay(&mut client, &mut deliver) {
                        return;
                    }
                }
                Err(e) => tracing::warn!(%target, error = %e, "bus cannot LISTEN"),
            },
            Err(e) => {
                if up {
                    tracing::warn!(%target, error = %e, "bus cannot connect; retrying with backoff");
                }
            }
        }
        if up {
            tracing::warn!(%target, "bus connection lost; rooms rely on their periodic checks");
        }
        up = false;
        if !deliver(WakeUp::Lost) {
            return;
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(BACKOFF.1);
    }
}

/// Relays notifications until the connection drops (`true`) or the node stopped (`false`).
fn relay(client: &mut Client, deliver: &mut Deliver) -> bool {
    loop {
        {
            let mut notifications = client.notifications();
            let mut iter = notifications.timeout_iter(IDLE);
            loop {
                match iter.next() {
                    Ok(Some(n)) => {
                        if let Some((doc, head)) = parse(n.payload())
                            && !deliver(WakeUp::Head { doc, head })
                        {
                            return false;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => return true,
                }
            }
        }
        if client.is_closed() {
            return true;
        }
        if !deliver(WakeUp::Idle) {
            return false;
        }
    }
}
