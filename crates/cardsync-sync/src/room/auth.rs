//! Who may do what: roles from an injected [`Authenticator`], and a [`Permissions`] policy.
//!
//! The room does not know where tokens come from (JWTs, a session table, a static list), so
//! the driver injects an [`Authenticator`]; the room only needs the resulting [`Role`]. The
//! policy on top is data ([`Permissions`], serde), so a deployment can tighten it without
//! code: viewers never write, and optional [`FieldRule`]s reserve single fields of a card kind
//! (say, `task.priority`) to some roles.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a connection may do in the room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and presence only; every write is refused with `Forbidden`.
    Viewer,
    /// Reads and writes, subject to [`FieldRule`]s.
    Editor,
    /// Reads and writes; field rules may reserve fields to admins.
    Admin,
    /// A backend (the server's HTTP API, a job, an integration): reads and writes, subject to
    /// [`FieldRule`]s like every role (a rule must list `service` to let it write a field).
    Service,
}

impl Role {
    /// The stable string sent in `Welcome` (`"viewer"`, `"editor"`, `"admin"`, `"service"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    /// Whether the role may change the document at all.
    pub fn can_write(self) -> bool {
        self != Role::Viewer
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who wrote a batch: what the token the connection was admitted with says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Author {
    /// The role the token grants.
    pub role: Role,
    /// The user id the token names (its subject), or `None` for a token without one (tokens
    /// minted before subjects existed) and for peers admitted without a token.
    pub subject: Option<Arc<str>>,
}

impl Author {
    /// An author without a subject.
    pub fn anonymous(role: Role) -> Self {
        Self {
            role,
            subject: None,
        }
    }

    /// An author with a subject.
    pub fn with_subject(role: Role, subject: impl Into<Arc<str>>) -> Self {
        Self {
            role,
            subject: Some(subject.into()),
        }
    }
}

/// Why a token was refused. The `Display` text travels to the client in `AuthDenied`, so it
/// must not leak secrets.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    /// The token is unknown or its signature does not verify.
    #[error("invalid token")]
    InvalidToken,
    /// The token was valid once.
    #[error("token expired")]
    Expired,
    /// The token is valid but grants nothing in this room.
    #[error("no access to this document")]
    NoAccess,
    /// The identity backend could not be asked; the client should retry later.
    #[error("authentication unavailable")]
    Unavailable,
}

/// Turns a bearer token into a role. Called synchronously inside `handle_message`, so an
/// implementation that needs I/O should verify offline (signed tokens) or consult a cache the
/// driver keeps warm.
pub trait Authenticator {
    /// The role `token` grants in this room.
    fn authenticate(&self, token: &str) -> Result<Role, AuthError>;

    /// The role and the subject (user id) `token` grants: what the room hands validators as
    /// the batch's [`Author`]. The default names no subject, so an authenticator that knows
    /// only roles keeps working unchanged.
    fn identify(&self, token: &str) -> Result<Author, AuthError> {
        self.authenticate(token).map(Author::anonymous)
    }
}

impl<A: Authenticator + ?Sized> Authenticator for &A {
    fn authenticate(&self, token: &str) -> Result<Role, AuthError> {
        (**self).authenticate(token)
    }

    fn identify(&self, token: &str) -> Result<Author, AuthError> {
        (**self).identify(token)
    }
}

/// A fixed token → role table, for tests, demos and single-tenant servers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaticTokens(pub HashMap<String, Role>);

impl StaticTokens {
    /// Adds a token.
    pub fn with(mut self, token: &str, role: Role) -> Self {
        self.0.insert(token.to_owned(), role);
        self
    }
}

impl Authenticator for StaticTokens {
    fn authenticate(&self, token: &str) -> Result<Role, AuthError> {
        self.0.get(token).copied().ok_or(AuthError::InvalidToken)
    }
}

/// Reserves one field of one card kind to some roles: "only `roles` may set `field` of
/// `kind`". Creating a card counts as setting the fields it gives a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// Card kind.
    pub kind: String,
    /// Field of that kind.
    pub field: String,
    /// Roles allowed to write it (viewers never write, whatever this lists).
    pub roles: Vec<Role>,
}

/// The write policy of a room.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Permissions {
    /// Field reservations; a field without a rule is writable by every role that can write.
    pub field_rules: Vec<FieldRule>,
}

impl Permissions {
    /// Whether `role` may write `field` of cards of `kind`.
    pub fn may_write_field(&self, role: Role, kind: &str, field: &str) -> bool {
        role.can_write()
            && self
                .field_rules
                .iter()
                .filter(|r| r.kind == kind && r.field == field)
                .all(|r| r.roles.contains(&role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_rules_restrict_only_their_field() {
        let p = Permissions {
            field_rules: vec![FieldRule {
                kind: "task".into(),
                field: "priority".into(),
                roles: vec![Role::Admin],
            }],
        };
        assert!(p.may_write_field(Role::Admin, "task", "priority"));
        assert!(!p.may_write_field(Role::Editor, "task", "priority"));
        assert!(p.may_write_field(Role::Editor, "task", "title"));
        assert!(p.may_write_field(Role::Editor, "note", "priority"));
        assert!(!p.may_write_field(Role::Viewer, "task", "title"));
        // A service writes what an editor may, and no reserved field it is not listed for.
        assert!(p.may_write_field(Role::Service, "task", "title"));
        assert!(!p.may_write_field(Role::Service, "task", "priority"));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Permissions>(&json).unwrap(), p);
    }
}
