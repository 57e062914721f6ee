//! Credentials that must never reach the masteradmin database: lesser roles, a forged role
//! header, and tokens that are expired, foreign, unsigned or unsigned in disguise.

use app::auth::{CallerRole, JwtKeys};
use axum::http::header::AUTHORIZATION;
use serde_json::json;

use crate::service::{expired_token, foreign_token, seconds_since_epoch, TOKEN_TTL};

/// Credentials that must never reach the masteradmin database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forged {
    /// A valid token of a user.
    User,
    /// A valid token of an admin.
    Admin,
    /// A valid token of a user, with headers that claim the master admin role.
    UserWithRoleHeader,
    /// A master admin token that has expired.
    Expired,
    /// A master admin token signed with another secret.
    OtherSecret,
    /// A master admin token with `alg: none` and no signature.
    NoneAlgorithm,
    /// A master admin token that claims HS256 and has no signature.
    EmptySignature,
}

impl Forged {
    /// Every kind of credential.
    pub const ALL: [Forged; 7] = [
        Forged::User,
        Forged::Admin,
        Forged::UserWithRoleHeader,
        Forged::Expired,
        Forged::OtherSecret,
        Forged::NoneAlgorithm,
        Forged::EmptySignature,
    ];

    /// Whether the token verifies (to a role that is not master_admin).
    pub fn verifies(self) -> bool {
        matches!(
            self,
            Forged::User | Forged::Admin | Forged::UserWithRoleHeader
        )
    }

    /// `request` with this credential, for the master admin `master_id`.
    pub fn apply(
        self,
        request: axum::http::request::Builder,
        keys: &JwtKeys,
        master_id: &str,
    ) -> axum::http::request::Builder {
        let bearer = |token: String| format!("Bearer {token}");
        // A master admin's claims, issued now for an hour, under `header` and with no signature.
        let unsigned = |header: &[u8]| {
            let iat = seconds_since_epoch();
            let exp = iat + 3600;
            let claims =
                json!({ "sub": master_id, "role": "master_admin", "iat": iat, "exp": exp });
            format!(
                "{}.{}.",
                base64url(header),
                base64url(claims.to_string().as_bytes())
            )
        };
        match self {
            Forged::User => request.header(
                AUTHORIZATION,
                bearer(keys.issue(master_id, CallerRole::USER, TOKEN_TTL)),
            ),
            Forged::Admin => request.header(
                AUTHORIZATION,
                bearer(keys.issue(master_id, CallerRole::ADMIN, TOKEN_TTL)),
            ),
            Forged::UserWithRoleHeader => request
                .header(
                    AUTHORIZATION,
                    bearer(keys.issue(master_id, CallerRole::USER, TOKEN_TTL)),
                )
                .header("x-user-role", "master_admin")
                .header("x-role", "master_admin")
                .header("x-user-id", master_id),
            Forged::Expired => request.header(AUTHORIZATION, bearer(expired_token(master_id))),
            Forged::OtherSecret => request.header(
                AUTHORIZATION,
                bearer(foreign_token(master_id, CallerRole::MASTER_ADMIN)),
            ),
            Forged::NoneAlgorithm => request.header(
                AUTHORIZATION,
                bearer(unsigned(br#"{"alg":"none","typ":"JWT"}"#)),
            ),
            Forged::EmptySignature => request.header(
                AUTHORIZATION,
                bearer(unsigned(br#"{"alg":"HS256","typ":"JWT"}"#)),
            ),
        }
    }
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}
