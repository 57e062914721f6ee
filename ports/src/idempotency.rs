//! Where the answers to retried requests are kept: the store behind `Idempotency-Key`, shared
//! by every instance of the service when the backend is shared, so that a retry reaching
//! another instance (another Lambda execution environment, another container) is answered as
//! the first attempt was, never run twice.
//!
//! The protocol is a claim with a lease, decided by the store alone:
//!
//! 1. [`IdempotencyStore::claim`]: the first request for a key owns it ([`Claim::Owned`]);
//!    any other sees a claim still held ([`Claim::Running`]), the stored answer
//!    ([`Claim::Replay`]) or, for another body, [`Claim::Mismatch`].
//! 2. The owner then either [`IdempotencyStore::complete`]s the claim with the answer it gave,
//!    or [`IdempotencyStore::release`]s it (the request was refused before its work began, and
//!    a retry may run).
//! 3. A claim whose owner died is taken over once its lease ends; the takeover is guarded by
//!    the claim's token, so of two instances that both see the lease ended, one takes it.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::RepositoryError;

/// A request's key, scoped so that no caller reaches another's answers: `id` names the record
/// (derived by the caller from who calls, the method, the path and the client's key), `caller`
/// says whose quota it counts against in a store that bounds callers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// The record's identity: the same for every retry of one request, unique otherwise.
    pub id: String,
    /// The caller (role and token subject), for a store that bounds each caller's keys.
    pub caller: String,
}

/// The SHA-256 of what a request asked for (its body and content type): a retry with the same
/// key and another body is refused, not replayed.
pub type Fingerprint = [u8; 32];

/// An answer kept for replay, as sent: its status, its headers and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// The status code.
    pub status: u16,
    /// Header names and values, in order (`Location`, `ETag`, `Content-Type`…).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl StoredAnswer {
    /// The bytes it takes to keep this answer, about: what a store's size is counted in.
    pub fn size(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(name, value)| name.len() + value.len())
                .sum::<usize>()
    }
}

/// The proof that a claim is held: only its holder completes or releases it, and a takeover
/// after the lease replaces exactly the claim that was read.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimToken(pub String);

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClaimToken(…)")
    }
}

/// What a store says to a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's: run it, then complete or release the claim.
    Owned(ClaimToken),
    /// The same request was answered: answer this again.
    Replay(StoredAnswer),
    /// The key was used with another body.
    Mismatch,
    /// Another request holds the key, for at most `lease_left` more.
    Running {
        /// How long until the claim may be taken over if its holder never finishes.
        lease_left: Duration,
    },
}

/// How long claims and answers last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyTerms {
    /// How long an answer is replayed after it was stored.
    pub window: Duration,
    /// How long a claim holds its key without being completed: at least the request timeout,
    /// so that a live request is never taken over.
    pub lease: Duration,
}

/// The store behind `Idempotency-Key`; see the [module documentation](self).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync + fmt::Debug {
    /// Claims `key` for a request with `fingerprint`, or says what to answer instead.
    ///
    /// # Errors
    ///
    /// - MUST return [`Claim::Owned`] to exactly one of any number of concurrent first
    ///   requests for `key`, on any instance sharing the store.
    /// - MUST return [`Claim::Replay`] with the completed answer for the same fingerprint
    ///   within the window, and [`Claim::Mismatch`] for another fingerprint; a claim still
    ///   running is [`Claim::Running`] whatever the fingerprint (the first request's body is
    ///   decided on when it is answered).
    /// - MUST hand a claim whose lease ended, or an answer whose window ended, to the next
    ///   request ([`Claim::Owned`]), to one only.
    /// - [`RepositoryError::Unavailable`] when the store cannot be reached;
    ///   [`RepositoryError::ReadOnly`] on a read-only role.
    async fn claim(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
    ) -> Result<Claim, RepositoryError>;

    /// Keeps `answer` as the key's answer, if `token` still holds the key.
    ///
    /// # Errors
    ///
    /// [`RepositoryError::Unavailable`] when the store cannot be reached. A claim taken over
    /// meanwhile (its lease ended) is not an error: the answer is not kept.
    async fn complete(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        token: &ClaimToken,
        answer: StoredAnswer,
    ) -> Result<(), RepositoryError>;

    /// Gives the key up, if `token` still holds it: the next request for it runs.
    ///
    /// # Errors
    ///
    /// [`RepositoryError::Unavailable`] when the store cannot be reached.
    async fn release(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
    ) -> Result<(), RepositoryError>;
}
