//! K5: the automerge-paper editing trace (259,778 single-character edits) replayed into one
//! card's body, one transaction per patch, checked against the trace's final text.

use super::{Ctx, each_peer, num};
use crate::adapter::Peer;
use crate::error::{BenchError, Result};
use crate::measure::{Timing, time};
use crate::trace::{Patch, Trace};

/// The trace file, in [`crate::trace::traces_dir`].
pub const TRACE: &str = "automerge-paper.json.gz";

/// One peer's figures.
pub struct Figures {
    total: Timing,
    bytes: usize,
}

fn measure<P: Peer>(ctx: &Ctx, patches: &[&Patch], expected: Option<&str>) -> Result<Figures> {
    ctx.progress(format!("K5 {} {} patches", P::NAME, patches.len()));
    let (total, peer) = time(
        ctx.samples,
        || {
            let mut peer = P::new(1)?;
            peer.create_small_card(0)?;
            Ok(peer)
        },
        |mut peer| {
            for Patch(index, delete, insert) in patches.iter().copied() {
                peer.splice_body(0, *index, *delete, insert)?;
            }
            Ok(peer)
        },
    )?;
    if let Some(expected) = expected
        && peer.body(0)? != expected
    {
        return Err(BenchError::Missing {
            peer: P::NAME,
            what: "the trace's final text".to_owned(),
        });
    }
    Ok(Figures {
        total,
        bytes: peer.snapshot()?.len(),
    })
}

/// Runs K5.
pub fn run(ctx: &mut Ctx) -> Result<()> {
    let trace = Trace::read(&ctx.traces.join(TRACE))?;
    if !trace.is_ascii() || !trace.start_content.is_empty() {
        return Err(BenchError::Missing {
            peer: "trace",
            what: "an ASCII trace starting empty (positions are used as-is)".to_owned(),
        });
    }
    let all: Vec<&Patch> = trace.patches().collect();
    let patches = &all[..ctx.sizes.k5_patches.unwrap_or(all.len()).min(all.len())];
    // The text the patches must leave: the trace's own for the whole trace, a plain replay
    // for a prefix.
    let expected = if patches.len() == all.len() {
        trace.end_content.clone()
    } else {
        let mut text = String::new();
        for Patch(index, delete, insert) in patches.iter().copied() {
            text.replace_range(*index..*index + *delete, insert);
        }
        text
    };
    let expected = Some(expected.as_str());
    let figures = each_peer!(measure(ctx, patches, expected));
    let case = format!(
        "automerge-paper trace, {} patches, txn per patch",
        patches.len()
    );
    ctx.row("K5", format!("{case}: total"), "ms", &figures, |f| {
        Some(f.total.per(1e-3).into())
    });
    ctx.row(
        "K5",
        format!("{case}: per patch"),
        "µs/patch",
        &figures,
        |f| Some(f.total.per(patches.len() as f64 / 1e6).into()),
    );
    ctx.row("K5", format!("{case}: doc bytes"), "KB", &figures, |f| {
        num(f.bytes as f64 / 1e3)
    });
    Ok(())
}
