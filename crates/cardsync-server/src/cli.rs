//! The command line: `cardsync-server serve`, `cardsync-server token` and
//! `cardsync-server migrate`.
//!
//! Layering, lowest first: defaults, the TOML file (`--config`), environment variables
//! (`CARDSYNC_*`), flags. clap gives each flag its environment fallback; what neither sets
//! keeps the file's value. The token secret comes from `CARDSYNC_SECRET` or a file
//! (`--secret-file`, or `secret_file` in the config), never from a flag: flags are visible in
//! `ps` to every user of the machine.

use std::net::SocketAddr;
use std::path::PathBuf;

use cardsync_core::Schema;
use cardsync_sync::room::Role;
use clap::{Args, Parser, Subcommand, ValueEnum};
use thiserror::Error;

use crate::auth::{Secret, SecretError};
use crate::config::ServerConfig;
use crate::store::Synchronous;

/// The cardsync sync server.
#[derive(Debug, Parser)]
#[command(name = "cardsync-server", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve documents over WebSockets.
    Serve(ServeArgs),
    /// Print a signed token for one document and role.
    Token(TokenArgs),
    /// Copy every document of a SQLite data directory to PostgreSQL (safe to run again).
    Migrate(MigrateArgs),
}

/// `migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The data directory of the SQLite store (the one `serve --data-dir` used).
    #[arg(long)]
    pub from: PathBuf,
    /// The PostgreSQL store: `postgres://user:password@host:port/database`.
    #[arg(long)]
    pub to: String,
}

/// Where the configuration comes from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// A TOML configuration file.
    #[arg(long, env = "CARDSYNC_CONFIG")]
    pub config: Option<PathBuf>,
    /// A file holding the token secret (at least 32 bytes; a trailing newline is ignored).
    #[arg(long, env = "CARDSYNC_SECRET_FILE")]
    pub secret_file: Option<PathBuf>,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration sources.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on (default 127.0.0.1:4455).
    #[arg(long, env = "CARDSYNC_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory of the SQLite file.
    #[arg(long, env = "CARDSYNC_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where documents are stored: `sqlite` (the file in the data directory, the default) or
    /// a PostgreSQL URL, `postgres://user:password@host:port/database`.
    #[arg(long, env = "CARDSYNC_STORE")]
    pub store: Option<String>,
    /// The document schema (JSON).
    #[arg(long, env = "CARDSYNC_SCHEMA")]
    pub schema: Option<PathBuf>,
    /// Most documents loaded at once.
    #[arg(long, env = "CARDSYNC_MAX_ROOMS")]
    pub max_rooms: Option<usize>,
    /// Most connections at once.
    #[arg(long, env = "CARDSYNC_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Unload a room after this many idle milliseconds.
    #[arg(long, env = "CARDSYNC_IDLE_ROOM_MS")]
    pub idle_room_ms: Option<u64>,
    /// SQLite `synchronous` for the WAL.
    #[arg(long, env = "CARDSYNC_SYNCHRONOUS", value_enum)]
    pub synchronous: Option<Synchronous>,
    /// Serve the files of this directory at `/` (e.g. the demo board's build).
    #[arg(long, env = "CARDSYNC_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
}

/// `token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Configuration sources (for the secret).
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The document the token opens.
    #[arg(long)]
    pub doc: String,
    /// The role it grants.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub ttl_secs: u64,
    /// The user id the token names (its subject), which the room's validators see as the
    /// author of the batches sent under it. Omitted: an anonymous author.
    #[arg(long)]
    pub sub: Option<String>,
}

/// `--role`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    /// Read only.
    Viewer,
    /// Read and write.
    Editor,
    /// Read and write, including admin-only fields.
    Admin,
    /// A backend using the HTTP API: read and write.
    Service,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Editor => Role::Editor,
            RoleArg::Admin => Role::Admin,
            RoleArg::Service => Role::Service,
        }
    }
}

/// The configuration could not be assembled.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not valid TOML for [`ServerConfig`].
    #[error("invalid config file {path}: {source}")]
    Toml {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The schema file is not a valid schema.
    #[error("invalid schema file {path}: {source}")]
    SchemaJson {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// No schema given.
    #[error("no schema: pass --schema FILE, set CARDSYNC_SCHEMA, or set `schema` in the config")]
    NoSchema,
    /// No secret given.
    #[error("no token secret: set CARDSYNC_SECRET, or pass --secret-file FILE")]
    NoSecret,
    /// The secret is too short.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

fn read(path: &std::path::Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })
}

impl ConfigArgs {
    /// The file's configuration (defaults without a file).
    pub fn file(&self) -> Result<ServerConfig, ConfigError> {
        let Some(path) = &self.config else {
            return Ok(ServerConfig::default());
        };
        toml::from_str(&read(path)?).map_err(|source| ConfigError::Toml {
            path: path.display().to_string(),
            source: Box::new(source),
        })
    }

    /// The secret: `CARDSYNC_SECRET`, else the secret file from the flag or the config.
    pub fn secret(&self, config: &ServerConfig) -> Result<Secret, ConfigError> {
        if let Ok(secret) = std::env::var("CARDSYNC_SECRET") {
            return Ok(Secret::new(secret.into_bytes())?);
        }
        let path = self
            .secret_file
            .as_ref()
            .or(config.secret_file.as_ref())
            .ok_or(ConfigError::NoSecret)?;
        let text = read(path)?;
        Ok(Secret::new(
            text.trim_end_matches(['\r', '\n']).as_bytes().to_vec(),
        )?)
    }
}

impl ServeArgs {
    /// Everything `serve` needs: the layered configuration, the schema and the secret.
    pub fn load(&self) -> Result<(ServerConfig, Schema, Secret), ConfigError> {
        let mut config = self.config.file()?;
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(dir) = &self.data_dir {
            config.data_dir.clone_from(dir);
        }
        if let Some(store) = &self.store {
            config.store = Some(store.clone());
        }
        if let Some(schema) = &self.schema {
            config.schema = Some(schema.clone());
        }
        if let Some(dir) = &self.static_dir {
            config.static_dir = Some(dir.clone());
        }
        if let Some(n) = self.max_rooms {
            config.limits.max_rooms = n;
        }
        if let Some(n) = self.max_connections {
            config.limits.max_connections = n;
        }
        if let Some(ms) = self.idle_room_ms {
            config.limits.idle_room_ms = ms;
        }
        if let Some(s) = self.synchronous {
            config.storage.synchronous = s;
        }
        let schema_path = config.schema.clone().ok_or(ConfigError::NoSchema)?;
        let schema = serde_json::from_str(&read(&schema_path)?).map_err(|source| {
            ConfigError::SchemaJson {
                path: schema_path.display().to_string(),
                source,
            }
        })?;
        let secret = self.config.secret(&config)?;
        Ok((config, schema, secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        let schema = dir.path().join("s.json");
        let secret = dir.path().join("secret");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1000\"\n[limits]\nmax_rooms = 7\n",
        )
        .unwrap();
        std::fs::write(&schema, serde_json::to_string(&Schema::new(1)).unwrap()).unwrap();
        std::fs::write(&secret, format!("{}\n", "s".repeat(32))).unwrap();
        let cli = Cli::try_parse_from([
            "cardsync-server",
            "serve",
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:2000",
            "--schema",
            schema.to_str().unwrap(),
            "--secret-file",
            secret.to_str().unwrap(),
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve")
        };
        let (config, _, _) = args.load().unwrap();
        assert_eq!(config.listen.port(), 2000);
        assert_eq!(config.limits.max_rooms, 7);
    }
}
