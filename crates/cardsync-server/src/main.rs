//! The `cardsync-server` binary: parse the command line, then serve, mint a token or migrate
//! a SQLite store to PostgreSQL.
//!
//! On start it prints one line to stdout, `cardsync-server listening on ws://ADDR/rooms/{doc}`,
//! which scripts (and the integration tests, which start it on port 0) read to learn the
//! address. Logs go to stderr (`RUST_LOG` filters them; default `info`; a line stderr cannot
//! take is dropped, see [`cardsync_server::logging`]). SIGINT and SIGTERM
//! shut down gracefully; the exit code is 0 after a clean shutdown, 1 on a runtime failure
//! and 2 when the server cannot start (bad configuration, damaged database).

use std::io::Write as _;
use std::process::ExitCode;

use cardsync_server::auth::{Claims, mint, unix_now};
use cardsync_server::cli::{Cli, Command, MigrateArgs, ServeArgs, TokenArgs};
use cardsync_server::{Server, ShutdownHandle};
use clap::Parser as _;

fn main() -> ExitCode {
    let cli = Cli::parse();
    cardsync_server::logging::init();
    match cli.command {
        Command::Token(args) => token(&args),
        Command::Migrate(args) => migrate(&args),
        Command::Serve(args) => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(e) => return fail(2, &e),
            };
            runtime.block_on(serve(&args))
        }
    }
}

/// Logs an error with its chain of causes and returns the exit code.
fn fail(code: u8, error: &dyn std::error::Error) -> ExitCode {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        message.push_str(&format!(": {e}"));
        source = e.source();
    }
    tracing::error!("{message}");
    cardsync_server::logging::to_stderr(&format!("cardsync-server: error: {message}"));
    ExitCode::from(code)
}

/// Copies a SQLite data directory to PostgreSQL; one line per document and a summary on
/// stdout.
fn migrate(args: &MigrateArgs) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let result = cardsync_server::migrate::migrate(&args.from, &args.to, |doc, copied| {
        let what = if copied { "copied" } else { "already there" };
        let _ = writeln!(out, "{doc}: {what}");
    });
    match result {
        Ok(done) => {
            let _ = writeln!(
                out,
                "migrated: {} documents copied ({} updates, {} bytes), {} already there",
                done.copied, done.updates, done.bytes, done.skipped
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(2, &e),
    }
}

fn token(args: &TokenArgs) -> ExitCode {
    let secret = match args.config.file().and_then(|c| args.config.secret(&c)) {
        Ok(secret) => secret,
        Err(e) => return fail(2, &e),
    };
    let claims = Claims {
        doc: args.doc.clone(),
        role: args.role.into(),
        exp: unix_now().saturating_add(args.ttl_secs),
        sub: args.sub.clone(),
    };
    let _ = writeln!(std::io::stdout().lock(), "{}", mint(&secret, &claims));
    ExitCode::SUCCESS
}

async fn serve(args: &ServeArgs) -> ExitCode {
    let (config, schema, secret) = match args.load() {
        Ok(loaded) => loaded,
        Err(e) => return fail(2, &e),
    };
    let server = match Server::start(config, schema, secret).await {
        Ok(server) => server,
        Err(e) => return fail(2, &e),
    };
    let _ = writeln!(
        std::io::stdout().lock(),
        "cardsync-server listening on ws://{}/rooms/{{doc}}",
        server.local_addr()
    );
    let _ = std::io::stdout().flush();
    tokio::spawn(on_signal(server.shutdown_handle()));
    match server.wait().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, &e),
    }
}

async fn on_signal(stop: ShutdownHandle) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutdown requested");
    stop.shutdown();
}
