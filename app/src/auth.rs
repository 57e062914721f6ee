//! Who is calling, and what that caller may reach.
//!
//! The identity comes from a verified source only: an HS256 JWT checked with
//! `AUTH_JWT_SECRET`, or on Lambda the API Gateway authorizer context. Nothing the client
//! says about itself (an `x-user-role` header, say) is read.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What kind of user a caller is. Only master admins reach the `masteradmin` database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerRole {
    /// A master admin: every route.
    MasterAdmin,
    /// A branch or company admin: business data only.
    Admin,
    /// Any other signed-in user: business data only.
    User,
}

impl CallerRole {
    /// The claim value.
    pub const fn as_str(self) -> &'static str {
        match self {
            CallerRole::MasterAdmin => "master_admin",
            CallerRole::Admin => "admin",
            CallerRole::User => "user",
        }
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
    /// The token is expired, forged, malformed or of another algorithm.
    #[error("invalid or expired token")]
    InvalidToken,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: CallerRole,
    exp: u64,
}

/// The HS256 key pair derived from `AUTH_JWT_SECRET`. Its `Debug` shows no key material.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys from the shared secret.
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    /// The identity in `token`, if its signature, algorithm and expiry check out.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] otherwise.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| AuthError::InvalidToken)?;
        Ok(Identity::verified(data.claims.sub, data.claims.role))
    }

    /// A token for `subject` with `role`, valid for `ttl`: for the demo and for tests.
    pub fn issue(&self, subject: &str, role: CallerRole, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            exp: (now + ttl).as_secs(),
        };
        // Encoding HS256 with an in-memory key cannot fail: no I/O, no key parsing.
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default()
    }
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKeys([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&SecretString::from(secret))
    }

    #[test]
    fn an_issued_token_verifies_to_its_subject_and_role() {
        let keys = keys("s3cret-for-tests");
        let token = keys.issue("abc", CallerRole::Admin, Duration::from_secs(60));
        let identity = keys.verify(&token).unwrap();
        assert_eq!(
            (identity.subject(), identity.role()),
            ("abc", CallerRole::Admin)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected() {
        let token = keys("one").issue("abc", CallerRole::MasterAdmin, Duration::from_secs(60));
        assert_eq!(keys("two").verify(&token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn an_unsigned_none_algorithm_token_is_rejected() {
        // {"alg":"none","typ":"JWT"} . {"sub":"x","role":"master_admin","exp":9999999999} .
        let token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.\
                     eyJzdWIiOiJ4Iiwicm9sZSI6Im1hc3Rlcl9hZG1pbiIsImV4cCI6OTk5OTk5OTk5OX0.";
        assert_eq!(keys("k").verify(token), Err(AuthError::InvalidToken));
    }

    #[test]
    fn keys_do_not_show_the_secret_in_debug_output() {
        assert!(!format!("{:?}", keys("hunter2-secret")).contains("hunter2"));
    }
}
