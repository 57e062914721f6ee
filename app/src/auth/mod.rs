//! Who is calling, and what that caller may reach.
//!
//! The identity comes from a verified source only: an HS256 JWT checked with
//! `AUTH_JWT_SECRET` under a [`TokenPolicy`] (lifetime, issuer, audience), or on Lambda the
//! API Gateway authorizer context. Nothing the client says about itself (an `x-user-role`
//! header, say) is read.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod verified;

use verified::{Validity, VerifiedTokens};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Who calls: the `role` claim of a verified token, one of the names a service declares.
/// Access to routes is granted per caller role ([`Access`](crate::http::Access)).
///
/// Distinct from a connection role ([`ports::Role`]), which names a database: a caller role
/// says who someone is, a connection role where data lives. The back office declares
/// [`CallerRole::BUILT_IN`]; a service may declare its own (`analyst`), and a token whose role
/// the service does not declare is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallerRole(&'static str);

impl CallerRole {
    /// A master admin: every route, and the only caller of the `masteradmin` database's.
    pub const MASTER_ADMIN: CallerRole = CallerRole("master_admin");
    /// A branch or company admin.
    pub const ADMIN: CallerRole = CallerRole("admin");
    /// Any other signed-in user.
    pub const USER: CallerRole = CallerRole("user");
    /// The caller roles every service accepts.
    pub const BUILT_IN: [CallerRole; 3] = [Self::MASTER_ADMIN, Self::ADMIN, Self::USER];

    /// A caller role of a service's own, by its claim value (`analyst`).
    pub const fn named(name: &'static str) -> Self {
        Self(name)
    }

    /// The claim value.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The role among `declared` whose claim value is `claim`.
    pub fn find(claim: &str, declared: &[CallerRole]) -> Option<CallerRole> {
        declared.iter().copied().find(|role| role.0 == claim)
    }
}

impl fmt::Display for CallerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A caller whose identity was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    subject: String,
    role: CallerRole,
}

impl Identity {
    /// A verified identity: only the token verifier and the Lambda authorizer bridge make one.
    pub(crate) fn verified(subject: String, role: CallerRole) -> Self {
        Self { subject, role }
    }

    /// The caller's id (for a master admin, its `MasterAdmin` id).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The caller's role.
    pub fn role(&self) -> CallerRole {
        self.role
    }
}

/// Why a caller could not be identified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("missing bearer token in the Authorization header")]
    MissingToken,
    /// The token is expired, not yet valid, forged, malformed, of another algorithm, issuer or
    /// audience, or lives longer than the policy allows. One answer for all, so that a caller
    /// learns nothing about which check failed.
    #[error("invalid or expired token")]
    InvalidToken,
    /// More than one `Authorization` header: which one counts is not for a proxy and this
    /// service to disagree on, so neither does.
    #[error("more than one Authorization header; send one")]
    SeveralTokens,
}

/// The shortest accepted secret: 32 bytes, the 256 bits RFC 7518 asks of an HS256 key. A
/// shorter one can be guessed offline from any token the service accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// The longest token lifetime (`exp - iat`) accepted unless configured: 24 hours.
pub const DEFAULT_MAX_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Seconds of clock skew tolerated between the token's issuer and this service.
const LEEWAY_SECS: u64 = 5;

/// The secret is too short to be safe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "AUTH_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes long; \
     generate one with `openssl rand -base64 48`"
)]
pub struct WeakSecret;

/// What a token must show besides a valid HS256 signature and an `exp` in the future.
///
/// A stolen token is usable until it expires, so its lifetime is capped; issuer and audience,
/// when set, keep tokens minted for another service or by another issuer sharing the secret out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// The `iss` every token must carry (`AUTH_JWT_ISSUER`); not checked when `None`.
    pub issuer: Option<String>,
    /// The `aud` every token must carry (`AUTH_JWT_AUDIENCE`); not checked when `None`.
    pub audience: Option<String>,
    /// The longest `exp - iat` accepted (`AUTH_MAX_TOKEN_TTL`); a token without `iat` is
    /// refused, since its lifetime cannot be known.
    pub max_ttl: Duration,
    /// The caller roles the service declares; a token with another `role` is refused.
    pub caller_roles: Vec<CallerRole>,
}

impl Default for TokenPolicy {
    /// No issuer or audience, [`DEFAULT_MAX_TOKEN_TTL`], the built-in caller roles.
    fn default() -> Self {
        Self {
            issuer: None,
            audience: None,
            max_ttl: DEFAULT_MAX_TOKEN_TTL,
            caller_roles: CallerRole::BUILT_IN.to_vec(),
        }
    }
}

/// The claims of a token. `iss` and `aud` are written when the policy sets them and checked by
/// the [`Validation`] on the way in, so they are never read here.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    iat: u64,
    exp: u64,
    /// Checked by the [`Validation`]; read to know when a kept verification starts to hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<u64>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
}

/// The HS256 keys derived from `AUTH_JWT_SECRET` and the [`TokenPolicy`] they enforce, with
/// the [`Validation`] built once at start-up. Cloning shares them: the handlers' state is
/// cloned on every request, and these hold several allocations. Its `Debug` shows no key
/// material.
#[derive(Clone)]
pub struct JwtKeys(Arc<Keys>);

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    policy: TokenPolicy,
    verified: VerifiedTokens,
}

impl JwtKeys {
    /// Keys from the shared secret, verifying tokens under `policy`.
    ///
    /// # Errors
    /// [`WeakSecret`] when the secret is shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &SecretString, policy: TokenPolicy) -> Result<Self, WeakSecret> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        Ok(Self(Arc::new(Keys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation: validation(&policy),
            policy,
            verified: VerifiedTokens::default(),
        })))
    }

    /// The caller roles the service declares.
    pub fn caller_roles(&self) -> &[CallerRole] {
        &self.0.policy.caller_roles
    }

    /// The longest lifetime a token may have, to mint tokens that verify.
    pub fn max_ttl(&self) -> Duration {
        self.0.policy.max_ttl
    }

    /// The identity in `token`, if its signature, algorithm, times, issuer and audience check
    /// out and its lifetime is within the policy's.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] otherwise.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let keys = &*self.0;
        let now = seconds_since_epoch();
        if let Some(identity) = keys.verified.get(token, now, LEEWAY_SECS) {
            return Ok(identity);
        }
        let claims = decode::<Claims>(token, &keys.decoding, &keys.validation)
            .map_err(|error| refused(why_refused(error.kind())))?
            .claims;
        if claims.exp.saturating_sub(claims.iat) > keys.policy.max_ttl.as_secs() {
            return Err(refused("lifetime (exp - iat) over AUTH_MAX_TOKEN_TTL"));
        }
        // An `iat` in the future would stretch the usable lifetime past the maximum.
        if claims.iat > now + LEEWAY_SECS {
            return Err(refused("iat in the future"));
        }
        let role = CallerRole::find(&claims.role, &keys.policy.caller_roles)
            .ok_or_else(|| refused("a role the service does not declare"))?;
        let identity = Identity::verified(claims.sub, role);
        let validity = Validity {
            not_before: claims.nbf,
            expires: claims.exp,
        };
        keys.verified.keep(token, &identity, validity, now);
        Ok(identity)
    }

    /// A token for `subject` with `role`, issued now and valid for `ttl`, carrying the
    /// policy's issuer and audience: for the demo and for tests. It verifies only if `ttl` is
    /// within [`JwtKeys::max_ttl`].
    pub fn issue(&self, subject: &str, role: CallerRole, ttl: Duration) -> String {
        let now = seconds_since_epoch();
        let claims = Claims {
            sub: subject.to_owned(),
            role: role.as_str().to_owned(),
            iat: now,
            exp: now.saturating_add(ttl.as_secs()),
            nbf: None,
            iss: self.0.policy.issuer.clone(),
            aud: self.0.policy.audience.clone(),
        };
        // Encoding HS256 with an in-memory key cannot fail: no I/O, no key parsing.
        encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding).unwrap_or_default()
    }
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("secret", &"[REDACTED]")
            .field("policy", &self.0.policy)
            .finish()
    }
}

/// HS256 only; `exp`, `sub` and `iat` required (`iat` by [`Claims`]), `nbf` honoured;
/// issuer and audience required and checked when the policy names them, ignored otherwise.
fn validation(policy: &TokenPolicy) -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    let mut required = vec!["exp", "sub"];
    if let Some(issuer) = &policy.issuer {
        validation.set_issuer(&[issuer]);
        required.push("iss");
    }
    match &policy.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        // jsonwebtoken refuses any `aud` when none is expected; unset means not checked.
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

/// [`AuthError::InvalidToken`], with the reason in a debug log line for the operator: words of
/// ours, never the token, never the secret.
fn refused(reason: &'static str) -> AuthError {
    tracing::debug!(reason, "refused a bearer token");
    AuthError::InvalidToken
}

/// Why `jsonwebtoken` refused a token, in fixed words. Its own messages quote parts of the
/// token (an unknown algorithm or claim value from the header), which are the caller's bytes:
/// none of them reaches a log line.
fn why_refused(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet (nbf)",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => "not HS256",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => "claims or header not as expected",
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => "malformed",
        _ => "invalid",
    }
}

fn seconds_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "unit-test-secret-of-thirty-two-b";

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&SecretString::from(secret), TokenPolicy::default()).unwrap()
    }

    #[test]
    fn an_issued_token_verifies_to_its_subject_and_role() {
        let keys = keys(SECRET);
        let token = keys.issue("abc", CallerRole::ADMIN, Duration::from_secs(60));
        let identity = keys.verify(&token).unwrap();
        assert_eq!(
            (identity.subject(), identity.role()),
            ("abc", CallerRole::ADMIN)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected() {
        let other = "another-unit-test-secret-32-byte";
        let token = keys(other).issue("abc", CallerRole::MASTER_ADMIN, Duration::from_secs(60));
        assert_eq!(keys(SECRET).verify(&token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn an_unsigned_none_algorithm_token_is_rejected() {
        // {"alg":"none","typ":"JWT"} . {"sub":"x","role":"master_admin","exp":9999999999} .
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.\
                     eyJzdWIiOiJ4Iiwicm9sZSI6Im1hc3Rlcl9hZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert_eq!(keys(SECRET).verify(token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn a_secret_one_byte_short_is_refused_and_one_of_the_minimum_length_accepted() {
        let short = "x".repeat(MIN_SECRET_BYTES - 1);
        let refused = JwtKeys::new(&SecretString::from(short), TokenPolicy::default());
        assert_eq!(refused.err(), Some(WeakSecret));
        let exact = "x".repeat(MIN_SECRET_BYTES);
        assert!(JwtKeys::new(&SecretString::from(exact), TokenPolicy::default()).is_ok());
    }

    #[test]
    fn keys_do_not_show_the_secret_in_debug_output() {
        let shown = format!("{:?}", keys("hunter2-secret-hunter2-secret-hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
