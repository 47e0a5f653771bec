//! Running external programs, the one way xtask does it.
//!
//! Every command is echoed (with its directory and extra environment) before it runs, so a CI log
//! shows exactly what to paste to reproduce a failure. A command that cannot start or exits
//! non-zero becomes an [`Error`] naming the command, which fails the whole xtask.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};

/// An external command to echo and run.
#[derive(Debug)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Cmd {
    /// A command that runs `program` in the directory `dir`.
    pub fn new(program: impl Into<OsString>, dir: &Path) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            dir: dir.to_path_buf(),
            env: Vec::new(),
        }
    }

    /// `cargo`, the same one that runs xtask (`CARGO` is set by `cargo run`), so the toolchain
    /// pinned in `rust-toolchain.toml` is used throughout.
    pub fn cargo(dir: &Path) -> Self {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Self::new(cargo, dir)
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for this command only.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Echoes and runs the command with inherited stdin/stdout/stderr; fails unless it exits 0.
    pub fn run(&self) -> Result<()> {
        eprintln!("$ {self}");
        let status = self
            .command()
            .status()
            .map_err(|error| self.start_error(&error))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::new(format!("`{self}` failed ({status})")))
        }
    }

    /// Echoes and runs the command, returning its stdout (stderr is inherited); fails unless
    /// it exits 0.
    pub fn output(&self) -> Result<String> {
        eprintln!("$ {self}");
        let output = self
            .command()
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|error| self.start_error(&error))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(Error::new(format!("`{self}` failed ({})", output.status)))
        }
    }

    /// Echoes and starts the command with inherited stdin/stdout/stderr, without waiting (the
    /// demo's server nodes); the caller ends and reaps it.
    pub fn spawn(&self) -> Result<std::process::Child> {
        eprintln!("$ {self} &");
        self.command()
            .spawn()
            .map_err(|error| self.start_error(&error))
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(&self.dir);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    fn start_error(&self, error: &std::io::Error) -> Error {
        let program = Path::new(&self.program).display();
        let hint = if error.kind() == std::io::ErrorKind::NotFound {
            format!(": `{program}` was not found; is it installed and on PATH?")
        } else {
            format!(": {error}")
        };
        Error::new(format!("could not start `{self}`{hint}"))
    }
}

impl std::fmt::Display for Cmd {
    /// Shell-like rendering for the echo: `(cd DIR && KEY=value program args…)`, with the
    /// directory left out when it is the current one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cwd = std::env::current_dir().ok();
        let in_other_dir = cwd.as_deref() != Some(self.dir.as_path());
        if in_other_dir {
            write!(f, "cd {} && ", self.dir.display())?;
        }
        for (key, value) in &self.env {
            write!(f, "{key}={value:?} ")?;
        }
        // `CARGO` is usually an absolute path into the toolchain; show the short name.
        let program = Path::new(&self.program);
        let shown = match program.file_name() {
            Some(name) if program.is_absolute() => name.to_string_lossy(),
            _ => program.as_os_str().to_string_lossy(),
        };
        f.write_str(&shown)?;
        for arg in &self.args {
            write!(f, " {}", arg.to_string_lossy())?;
        }
        Ok(())
    }
}
