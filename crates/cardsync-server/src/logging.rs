//! The server's logs: to stderr, filtered by `RUST_LOG` (default `info`), and never fatal.
//!
//! Why a module of its own: a log line must not cost a room. When the reader of the server's
//! stderr goes away (a `| tee` that exits, a log shipper restarting), every write fails with a
//! broken pipe. `tracing-subscriber` then reports its own failure with `eprintln!`, which
//! panics on that same broken pipe inside whichever task was logging: a room task, so that one
//! bad-token connection closed every healthy peer of its room, or the signal handler, so that
//! SIGTERM was ignored. Here a line that cannot be written is dropped: [`LossyStderr`] reports
//! every write as done, and the subscriber's internal error reports are off as well.

use std::io::Write as _;

/// Installs the global subscriber. Call once, before anything logs.
pub fn init() {
    tracing_subscriber::fmt()
        .with_writer(|| LossyStderr)
        .log_internal_errors(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
}

/// Writes `line` and a newline to stderr, dropping it if stderr is gone: for the few messages
/// the binary prints outside the log (its fatal error).
pub fn to_stderr(line: &str) {
    let _ = writeln!(LossyStderr, "{line}");
}

/// stderr that drops what it cannot write instead of failing: a logger has no better place to
/// report that its own output is gone.
#[derive(Clone, Copy, Debug, Default)]
pub struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}
