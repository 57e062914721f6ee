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

/// Claims and answers in this process's memory, at most `max_per_caller` answers per caller
/// (the oldest goes first); claims in progress are bounded by the requests in flight.
#[derive(Debug)]
pub struct MemoryIdempotencyStore {
    terms: IdempotencyTerms,
    max_per_caller: usize,
    entries: Mutex<HashMap<String, Entry>>,
    tokens: AtomicU64,
}

#[derive(Debug)]
struct Entry {
    caller: String,
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
            entries: Mutex::new(HashMap::new()),
            tokens: AtomicU64::new(0),
        }
    }

    /// How many keys are kept, running or answered (expired ones until they are swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // The map is consistent after every statement: a panic elsewhere does not spoil it.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
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

    /// Drops `caller`'s expired answers, then its oldest ones over the bound.
    fn make_room(&self, entries: &mut HashMap<String, Entry>, caller: &str, now: Instant) {
        entries.retain(|_, e| e.caller != caller || self.is_live(e, now));
        let mut answered: Vec<(Instant, String)> = entries
            .iter()
            .filter(|(_, e)| e.caller == caller)
            .filter_map(|(id, e)| match e.state {
                State::Done { at, .. } => Some((at, id.clone())),
                State::Running { .. } => None,
            })
            .collect();
        if answered.len() < self.max_per_caller {
            return;
        }
        answered.sort();
        for (_, id) in &answered[..=answered.len() - self.max_per_caller] {
            entries.remove(id);
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
        let mut entries = self.lock();
        if let Some(entry) = entries.get(&key.id).filter(|e| self.is_live(e, now)) {
            return Ok(match &entry.state {
                State::Done { .. } if entry.fingerprint != *fingerprint => Claim::Mismatch,
                State::Done { answer, .. } => Claim::Replay(answer.clone()),
                State::Running { lease_until } => Claim::Running {
                    lease_left: lease_until.saturating_duration_since(now),
                },
            });
        }
        self.make_room(&mut entries, &key.caller, now);
        let token = self.new_token();
        let entry = Entry {
            caller: key.caller.clone(),
            fingerprint: *fingerprint,
            token: token.clone(),
            state: State::Running {
                lease_until: now + self.terms.lease,
            },
        };
        entries.insert(key.id.clone(), entry);
        Ok(Claim::Owned(token))
    }

    async fn complete(
        &self,
        key: &IdempotencyKey,
        _fingerprint: &Fingerprint,
        token: &ClaimToken,
        answer: StoredAnswer,
    ) -> Result<(), RepositoryError> {
        let mut entries = self.lock();
        if let Some(entry) = entries.get_mut(&key.id).filter(|e| e.token == *token) {
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
        let mut entries = self.lock();
        if entries.get(&key.id).is_some_and(|e| e.token == *token) {
            entries.remove(&key.id);
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
