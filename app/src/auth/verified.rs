//! Tokens already verified, kept until they expire. A back-office client sends the same token
//! with every request for the token's whole life, and verifying it (base64, HMAC-SHA256,
//! JSON, the policy) was about 4 % of the service's CPU per request (docs/benchmarks.md).
//!
//! Whether a token verifies depends only on the token, the keys and the time, so an answer
//! kept here is the answer verification would give: it is used only while the token's `exp`
//! and `nbf` (with the same leeway) still admit it. Only tokens that verified are kept, so a
//! caller without a valid token cannot fill the cache; it is bounded in entries and in token
//! length all the same.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{CallerRole, Identity};

/// The most tokens kept: a few thousand callers at once, at most about 4 MB.
const CAPACITY: usize = 4096;

/// Longer tokens are verified every time rather than kept.
const MAX_TOKEN_LEN: usize = 1024;

/// What a verified token says, and when it stops being valid.
#[derive(Debug, Clone)]
struct Verified {
    subject: String,
    role: CallerRole,
    not_before: Option<u64>,
    expires: u64,
}

/// The verified tokens of one set of keys.
#[derive(Debug, Default)]
pub(super) struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, Verified>>,
}

/// The times a token was verified for, in seconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct Validity {
    pub(super) not_before: Option<u64>,
    pub(super) expires: u64,
}

impl VerifiedTokens {
    /// The identity of `token` if it verified before and is still within its times at `now`,
    /// with `leeway` seconds either way, as verification allows.
    pub(super) fn get(&self, token: &str, now: u64, leeway: u64) -> Option<Identity> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = entries.get(token)?;
        let started = kept.not_before.is_none_or(|nbf| nbf <= now + leeway);
        let alive = now <= kept.expires.saturating_add(leeway);
        (started && alive).then(|| Identity::verified(kept.subject.clone(), kept.role))
    }

    /// Keeps `identity` for `token`, verified now for `validity`. When full, the tokens that
    /// expired by `now` go first, and all of them if none did.
    pub(super) fn keep(&self, token: &str, identity: &Identity, validity: Validity, now: u64) {
        if token.len() > MAX_TOKEN_LEN {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.retain(|_, kept| now <= kept.expires);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let verified = Verified {
            subject: identity.subject().to_owned(),
            role: identity.role(),
            not_before: validity.not_before,
            expires: validity.expires,
        };
        entries.insert(token.into(), verified);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn kept(token: &str, validity: Validity) -> VerifiedTokens {
        let tokens = VerifiedTokens::default();
        let identity = Identity::verified("65f0a1b2c3d4e5f6a7b8c9d0".into(), CallerRole::ADMIN);
        tokens.keep(token, &identity, validity, NOW);
        tokens
    }

    #[test]
    fn a_kept_token_answers_until_its_expiry_and_leeway_then_no_more() {
        let tokens = kept(
            "t",
            Validity {
                not_before: None,
                expires: NOW + 60,
            },
        );
        let identity = tokens.get("t", NOW, 5).expect("kept");
        assert_eq!(
            (identity.subject(), identity.role()),
            ("65f0a1b2c3d4e5f6a7b8c9d0", CallerRole::ADMIN)
        );
        assert!(tokens.get("t", NOW + 65, 5).is_some(), "within the leeway");
        assert!(tokens.get("t", NOW + 66, 5).is_none(), "expired");
        assert!(tokens.get("other", NOW, 5).is_none(), "never verified");
    }

    #[test]
    fn a_kept_token_whose_not_before_is_ahead_does_not_answer_yet() {
        let tokens = kept(
            "t",
            Validity {
                not_before: Some(NOW + 100),
                expires: NOW + 600,
            },
        );
        assert!(tokens.get("t", NOW, 5).is_none());
        assert!(tokens.get("t", NOW + 95, 5).is_some());
    }

    #[test]
    fn the_cache_stays_bounded_in_entries_and_token_length() {
        let tokens = VerifiedTokens::default();
        let identity = Identity::verified("s".into(), CallerRole::USER);
        let alive = Validity {
            not_before: None,
            expires: NOW + 60,
        };
        for n in 0..CAPACITY + 10 {
            tokens.keep(&format!("token-{n}"), &identity, alive, NOW);
        }
        assert!(tokens.len() <= CAPACITY, "{}", tokens.len());
        tokens.keep(&"x".repeat(MAX_TOKEN_LEN + 1), &identity, alive, NOW);
        assert!(tokens.get(&"x".repeat(MAX_TOKEN_LEN + 1), NOW, 5).is_none());
    }
}
