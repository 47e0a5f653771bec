//! The one error type of xtask: a sentence that says what failed, printed once by `main`.
//!
//! Its own module so that every subcommand's module can use it without importing `main.rs`,
//! which declares them all (no import cycle through the crate root).

/// The error every subcommand returns: a sentence that says what failed, printed once by `main`.
///
/// A plain message is enough here: nothing matches on xtask errors, a person reads them.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    /// Wraps a message that says what failed and, where known, what to do about it.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The result of an xtask step.
pub type Result<T, E = Error> = std::result::Result<T, E>;
