//! Signed, expiring, per-document tokens (HMAC-SHA256), checked in the hello.
//!
//! # Why signed tokens
//! The room calls its [`Authenticator`] synchronously, inside `handle_message`, so checking a
//! token must not need I/O. A token signed with a secret the server holds verifies offline:
//! the application backend that knows users mints tokens with the same secret
//! ([`mint`], or `cardsync-server token`), and the sync server needs no user table.
//!
//! # Format
//! `v1.<payload>.<mac>`: `payload` is base64url (no padding) of
//! `{"doc":"board-1","role":"editor","exp":1767225600,"sub":"ana"}` (`exp` in Unix seconds;
//! `sub`, the user id the room's validators see as the author, is optional), and `mac` is
//! base64url of HMAC-SHA256(secret, `"v1." + payload`). The MAC is compared in constant time
//! (`hmac`'s `verify_slice`), and nothing in the payload is read before it verifies.
//!
//! A token binds one document: a valid token for another document is refused
//! ([`AuthError::NoAccess`]), so a token leaked from one board opens nothing else.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cardsync_sync::room::{AuthError, Authenticator, Author, Role};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

use crate::store::DocId;

/// Shortest secret accepted: HMAC-SHA256 keys shorter than the hash add no strength, and a
/// short secret is most likely a placeholder someone forgot to replace.
pub const MIN_SECRET_BYTES: usize = 32;

const PREFIX: &str = "v1.";

/// The token-signing secret. Its `Debug` output never shows it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

/// Why a secret was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SecretError {
    /// Too short.
    #[error("the token secret has {0} bytes; at least {MIN_SECRET_BYTES} are required")]
    TooShort(usize),
}

impl Secret {
    /// A secret of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort(bytes.len()));
        }
        Ok(Self(bytes))
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts keys of any length")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// What a token grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The one document it opens.
    pub doc: String,
    /// The role it grants there.
    pub role: Role,
    /// Expiry, in Unix seconds.
    pub exp: u64,
    /// The user the token was minted for (the subject), handed to the room's validators as
    /// the author of every batch sent under it. Absent in tokens minted before subjects
    /// existed, which stay valid: their batches have an anonymous author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// Signs a token for `claims`.
///
/// ```
/// use cardsync_server::auth::{Claims, Secret, mint, verify};
/// use cardsync_sync::room::Role;
/// let secret = Secret::new(vec![7; 32])?;
/// let claims = Claims { doc: "board".into(), role: Role::Editor, exp: 2_000_000_000, sub: None };
/// let token = mint(&secret, &claims);
/// assert_eq!(verify(&secret, &token, "board", 1_700_000_000), Ok(Role::Editor));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn mint(secret: &Secret, claims: &Claims) -> String {
    // Serialising a struct of a string, an enum and an integer cannot fail.
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let mut mac = secret.mac();
    mac.update(PREFIX.as_bytes());
    mac.update(payload.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{PREFIX}{payload}.{tag}")
}

/// Checks a token for document `doc` at `now` (Unix seconds) and returns the role it grants.
pub fn verify(secret: &Secret, token: &str, doc: &str, now: u64) -> Result<Role, AuthError> {
    verify_claims(secret, token, doc, now).map(|claims| claims.role)
}

/// Checks a token for document `doc` at `now` (Unix seconds) and returns its claims.
pub fn verify_claims(
    secret: &Secret,
    token: &str,
    doc: &str,
    now: u64,
) -> Result<Claims, AuthError> {
    let rest = token.strip_prefix(PREFIX).ok_or(AuthError::InvalidToken)?;
    let (payload, tag) = rest.split_once('.').ok_or(AuthError::InvalidToken)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| AuthError::InvalidToken)?;
    let mut mac = secret.mac();
    mac.update(PREFIX.as_bytes());
    mac.update(payload.as_bytes());
    mac.verify_slice(&tag)
        .map_err(|_| AuthError::InvalidToken)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| AuthError::InvalidToken)?;
    let claims: Claims = serde_json::from_slice(&json).map_err(|_| AuthError::InvalidToken)?;
    if claims.exp <= now {
        return Err(AuthError::Expired);
    }
    if claims.doc != doc {
        return Err(AuthError::NoAccess);
    }
    Ok(claims)
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The [`Authenticator`] of one room: verifies tokens for its document against the clock.
#[derive(Clone, Debug)]
pub struct TokenAuth {
    secret: Secret,
    doc: DocId,
}

impl TokenAuth {
    /// Tokens for `doc`, signed with `secret`.
    pub fn new(secret: Secret, doc: DocId) -> Self {
        Self { secret, doc }
    }
}

impl Authenticator for TokenAuth {
    fn authenticate(&self, token: &str) -> Result<Role, AuthError> {
        verify(&self.secret, token, self.doc.as_str(), unix_now())
    }

    fn identify(&self, token: &str) -> Result<Author, AuthError> {
        let claims = verify_claims(&self.secret, token, self.doc.as_str(), unix_now())?;
        Ok(Author {
            role: claims.role,
            subject: claims.sub.map(Into::into),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap()
    }

    fn claims(doc: &str, exp: u64) -> Claims {
        Claims {
            doc: doc.into(),
            role: Role::Viewer,
            exp,
            sub: None,
        }
    }

    #[test]
    fn tokens_bind_document_role_and_expiry() {
        let s = secret();
        let t = mint(&s, &claims("a", 100));
        assert_eq!(verify(&s, &t, "a", 99), Ok(Role::Viewer));
        assert_eq!(verify(&s, &t, "a", 100), Err(AuthError::Expired));
        assert_eq!(verify(&s, &t, "b", 99), Err(AuthError::NoAccess));
        let other = Secret::new(vec![1; 32]).unwrap();
        assert_eq!(verify(&other, &t, "a", 99), Err(AuthError::InvalidToken));
    }

    #[test]
    fn a_subject_reaches_the_author_and_old_tokens_stay_valid() {
        let s = secret();
        let auth = TokenAuth::new(s.clone(), DocId::new("a").unwrap());
        let with = Claims {
            sub: Some("ana".into()),
            exp: u64::MAX,
            ..claims("a", 0)
        };
        let author = auth.identify(&mint(&s, &with)).unwrap();
        assert_eq!(author, Author::with_subject(Role::Viewer, "ana"));
        // A token minted before subjects existed: its payload has no `sub` key at all.
        let old = mint(&s, &claims("a", u64::MAX));
        assert!(
            !String::from_utf8(
                URL_SAFE_NO_PAD
                    .decode(old.split('.').nth(1).unwrap())
                    .unwrap()
            )
            .unwrap()
            .contains("sub")
        );
        assert_eq!(auth.identify(&old), Ok(Author::anonymous(Role::Viewer)));
    }

    #[test]
    fn tampering_and_garbage_are_invalid() {
        let s = secret();
        let t = mint(&s, &claims("a", 100));
        let (payload, tag) = t["v1.".len()..].split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"doc":"a","role":"admin","exp":100}"#);
        for bad in [
            String::new(),
            "garbage".into(),
            format!("v2.{payload}.{tag}"),
            format!("v1.{forged_payload}.{tag}"),
            format!("v1.{payload}.{}", &tag[1..]),
            format!("v1.{payload}"),
        ] {
            assert_eq!(
                verify(&s, &bad, "a", 1),
                Err(AuthError::InvalidToken),
                "{bad}"
            );
        }
        assert_eq!(
            Secret::new(vec![0; 31]).unwrap_err(),
            SecretError::TooShort(31)
        );
        assert_eq!(format!("{s:?}"), "Secret(32 bytes)");
    }
}
