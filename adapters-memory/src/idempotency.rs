//! The idempotency store in memory, for the in-memory backend: one process, so it holds across
//! that process's requests only. Each caller's answers are bounded on their own, so that no
//! caller can push out another's keys.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use ports::{
    Claim, ClaimToken, Fingerprint, IdempotencyKey, IdempotencyStore, IdempotencyTerms,
    RepositoryError, StoredAnswer,
};

/// The longest lease counted: beyond it, a lease never ends in practice.
const YEAR: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// Claims and answers in this process's memory, in a map per caller: at most
/// `max_per_caller` answers each (that caller's oldest goes first), and a claim looks at its
/// caller's keys only. Claims in progress are bounded by the requests in flight.
#[derive(Debug)]
pub struct MemoryIdempotencyStore {
    terms: IdempotencyTerms,
    max_per_caller: usize,
    callers: Mutex<HashMap<String, Keys>>,
    tokens: AtomicU64,
}

/// One caller's keys, by record id.
type Keys = HashMap<String, Entry>;

#[derive(Debug)]
struct Entry {
    fingerprint: Fingerprint,
    token: ClaimToken,
    state: State,
}

#[derive(Debug)]
enum State {
    Running { lease_until: Instant },
    Done { at: Instant, answer: StoredAnswer },
}

impl MemoryIdempotencyStore {
    /// An empty store keeping answers for `terms.window`, at most `max_per_caller` (at least
    /// one) per caller.
    pub fn new(terms: IdempotencyTerms, max_per_caller: usize) -> Self {
        Self {
            terms,
            max_per_caller: max_per_caller.max(1),
            callers: Mutex::new(HashMap::new()),
            tokens: AtomicU64::new(0),
        }
    }

    /// How many keys are kept, running or answered (expired ones until they are swept).
    pub fn len(&self) -> usize {
        self.lock().values().map(HashMap::len).sum()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Keys>> {
        // The maps are consistent after every statement: a panic elsewhere does not spoil them.
        self.callers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn new_token(&self) -> ClaimToken {
        ClaimToken(self.tokens.fetch_add(1, Ordering::Relaxed).to_string())
    }

    /// Whether `entry` still holds its key at `now`.
    fn is_live(&self, entry: &Entry, now: Instant) -> bool {
        match &entry.state {
            State::Running { lease_until } => *lease_until > now,
            State::Done { at, .. } => now.duration_since(*at) < self.terms.window,
        }
    }

    /// Drops a caller's expired keys, then its oldest answers over the bound.
    fn make_room(&self, keys: &mut Keys, now: Instant) {
        keys.retain(|_, entry| self.is_live(entry, now));
        let mut answered: Vec<(Instant, String)> = keys
            .iter()
            .filter_map(|(id, entry)| match entry.state {
                State::Done { at, .. } => Some((at, id.clone())),
                State::Running { .. } => None,
            })
            .collect();
        if answered.len() < self.max_per_caller {
            return;
        }
        answered.sort();
        for (_, id) in &answered[..=answered.len() - self.max_per_caller] {
            keys.remove(id);
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
    ) -> Result<Claim, RepositoryError> {
        let now = Instant::now();
        let mut callers = self.lock();
        let keys = callers.entry(key.caller.clone()).or_default();
        if let Some(entry) = keys.get(&key.id).filter(|e| self.is_live(e, now)) {
            return Ok(match &entry.state {
                State::Done { .. } if entry.fingerprint != *fingerprint => Claim::Mismatch,
                State::Done { answer, .. } => Claim::Replay(answer.clone()),
                State::Running { lease_until } => Claim::Running {
                    lease_left: lease_until.saturating_duration_since(now),
                },
            });
        }
        self.make_room(keys, now);
        let token = self.new_token();
        let entry = Entry {
            fingerprint: *fingerprint,
            token: token.clone(),
            state: State::Running {
                // A lease too long to count is as good as forever.
                lease_until: now.checked_add(self.terms.lease).unwrap_or(now + YEAR),
            },
        };
        keys.insert(key.id.clone(), entry);
        Ok(Claim::Owned(token))
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        _fingerprint: &Fingerprint,
        token: &ClaimToken,
        answer: StoredAnswer,
    ) -> Result<(), RepositoryError> {
        let mut callers = self.lock();
        let entry = callers
            .get_mut(&key.caller)
            .and_then(|keys| keys.get_mut(&key.id))
            .filter(|entry| entry.token == *token);
        if let Some(entry) = entry {
            entry.state = State::Done {
                at: Instant::now(),
                answer,
            };
        }
        Ok(())
    }

    async fn release(
        &self,
        key: &IdempotencyKey,
        token: &ClaimToken,
    ) -> Result<(), RepositoryError> {
        let mut callers = self.lock();
        if let Some(keys) = callers.get_mut(&key.caller) {
            if keys.get(&key.id).is_some_and(|entry| entry.token == *token) {
                keys.remove(&key.id);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key(id: &str, caller: &str) -> IdempotencyKey {
        IdempotencyKey {
            id: id.into(),
            caller: caller.into(),
        }
    }

    async fn answer_once(store: &MemoryIdempotencyStore, key: &IdempotencyKey, body: &str) {
        let Claim::Owned(token) = store.claim(key, &[1; 32]).await.unwrap() else {
            panic!("{key:?} is taken");
        };
        let answer = StoredAnswer {
            status: 201,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        store.complete(key, &[1; 32], &token, answer).await.unwrap();
    }

    #[tokio::test]
    async fn one_callers_flood_never_pushes_out_another_callers_answer() {
        let terms = IdempotencyTerms {
            window: Duration::from_secs(60),
            lease: Duration::from_secs(60),
        };
        let store = MemoryIdempotencyStore::new(terms, 3);
        let theirs = key("theirs", "user:a");
        answer_once(&store, &theirs, "a's order").await;
        for n in 0..100 {
            answer_once(&store, &key(&format!("flood-{n}"), "user:b"), "b").await;
        }
        let Claim::Replay(kept) = store.claim(&theirs, &[1; 32]).await.unwrap() else {
            panic!("a's answer was pushed out");
        };
        assert_eq!(kept.body, b"a's order");
        assert_eq!(store.len(), 1 + 3, "b keeps at most its bound");
    }
}
