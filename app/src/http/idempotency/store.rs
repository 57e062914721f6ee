//! Where answers are kept between a request and its retries: the [`IdempotencyStore`] trait,
//! and [`MemoryIdempotencyStore`], in this process's memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use tokio::sync::watch;

use super::IdempotencyConfig;

/// A key as the store sees it: the client's key within the caller's and the route's scope, so
/// that no caller can read another's answer by guessing its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopedKey {
    /// The caller's token subject.
    pub subject: String,
    /// The caller's role (`master_admin`, `admin`, `user`).
    pub role: &'static str,
    /// The request path (`/orders`).
    pub route: String,
    /// The client's `Idempotency-Key`.
    pub key: String,
}

/// The SHA-256 of a request's `Content-Type` and body.
pub type Fingerprint = [u8; 32];

/// An answer kept for replay.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// Its status.
    pub status: StatusCode,
    /// Its headers (`Content-Type`, `Location`, `ETag`, …).
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

/// What the store says about a key when a request carrying it arrives.
#[derive(Debug, Clone)]
pub enum Begin {
    /// The key is new (or its answer expired): run the request, then call
    /// [`IdempotencyStore::finish`].
    Proceed,
    /// The same body was answered already: answer this again.
    Replay(StoredResponse),
    /// The key was used with another body.
    Mismatch,
    /// The store is full of requests still running: answer `503`.
    Full,
}

/// Where answers are kept between a request and its retries. One in-process implementation,
/// [`MemoryIdempotencyStore`]; a store shared by several instances would implement the same
/// two calls.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + fmt::Debug {
    /// Claims `key` for a request with `fingerprint`, or says what to answer instead. A request
    /// with the same key and body still running makes this wait for it to finish.
    async fn begin(&self, key: &ScopedKey, fingerprint: Fingerprint) -> Begin;

    /// Ends the claim made by [`IdempotencyStore::begin`]: keeps `response` for replay, or,
    /// with `None`, forgets the key so that a retry runs again.
    async fn finish(
        &self,
        key: &ScopedKey,
        fingerprint: Fingerprint,
        response: Option<StoredResponse>,
    );
}

/// The in-process store: a map bounded by [`IdempotencyConfig`]. Not shared between
/// instances (see the module documentation).
#[derive(Debug)]
pub struct MemoryIdempotencyStore {
    config: IdempotencyConfig,
    entries: Mutex<HashMap<ScopedKey, Entry>>,
}

#[derive(Debug)]
enum Entry {
    /// The first request is running; dropping the sender (when the entry is replaced or
    /// removed) wakes the retries waiting on it.
    Running {
        fingerprint: Fingerprint,
        done: watch::Sender<()>,
    },
    /// The first request was answered at `at`.
    Done {
        fingerprint: Fingerprint,
        at: Instant,
        response: StoredResponse,
    },
}

impl MemoryIdempotencyStore {
    /// An empty store bounded by `config` (`max_keys` of at least 1).
    pub fn new(config: IdempotencyConfig) -> Self {
        Self {
            config: IdempotencyConfig {
                max_keys: config.max_keys.max(1),
                ..config
            },
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How many keys are kept (running or answered, expired ones until they are swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ScopedKey, Entry>> {
        // The map is consistent after every statement: a panic elsewhere does not spoil it.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for one more key: expired answers go, then the oldest answer. Running
    /// requests are never forgotten (their retries would run again).
    fn make_room(&self, entries: &mut HashMap<ScopedKey, Entry>, now: Instant) {
        let window = self.config.window;
        entries.retain(|_, entry| match entry {
            Entry::Done { at, .. } => now.duration_since(*at) < window,
            Entry::Running { .. } => true,
        });
        while entries.len() >= self.config.max_keys {
            let oldest = entries
                .iter()
                .filter_map(|(key, entry)| match entry {
                    Entry::Done { at, .. } => Some((*at, key)),
                    Entry::Running { .. } => None,
                })
                .min_by_key(|(at, _)| *at)
                .map(|(_, key)| key.clone());
            match oldest {
                Some(key) => entries.remove(&key),
                None => break,
            };
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn begin(&self, key: &ScopedKey, fingerprint: Fingerprint) -> Begin {
        loop {
            let mut done = {
                let mut entries = self.lock();
                let now = Instant::now();
                match entries.get(key) {
                    Some(Entry::Done {
                        fingerprint: first,
                        at,
                        response,
                    }) if now.duration_since(*at) < self.config.window => {
                        return match *first == fingerprint {
                            true => Begin::Replay(response.clone()),
                            false => Begin::Mismatch,
                        };
                    }
                    Some(Entry::Running {
                        fingerprint: first,
                        done,
                    }) => {
                        if *first != fingerprint {
                            return Begin::Mismatch;
                        }
                        done.subscribe()
                    }
                    // New, or answered longer ago than the window.
                    _ => {
                        entries.remove(key);
                        if entries.len() >= self.config.max_keys {
                            self.make_room(&mut entries, now);
                            if entries.len() >= self.config.max_keys {
                                return Begin::Full;
                            }
                        }
                        let (done, _) = watch::channel(());
                        entries.insert(key.clone(), Entry::Running { fingerprint, done });
                        return Begin::Proceed;
                    }
                }
            };
            // Returns when the first request's entry is replaced or removed; then look again.
            let _closed = done.changed().await;
        }
    }

    async fn finish(
        &self,
        key: &ScopedKey,
        fingerprint: Fingerprint,
        response: Option<StoredResponse>,
    ) {
        let mut entries = self.lock();
        match response {
            Some(response) => {
                entries.insert(
                    key.clone(),
                    Entry::Done {
                        fingerprint,
                        at: Instant::now(),
                        response,
                    },
                );
            }
            None => {
                if matches!(entries.get(key), Some(Entry::Running { .. })) {
                    entries.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::DEFAULT_WINDOW;
    use super::*;

    fn key(text: &str) -> ScopedKey {
        ScopedKey {
            subject: "someone".into(),
            role: "user",
            route: "/orders".into(),
            key: text.into(),
        }
    }

    fn answer(status: StatusCode) -> StoredResponse {
        StoredResponse {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from_static(b"{}"),
        }
    }

    #[tokio::test]
    async fn the_store_replays_within_the_window_and_forgets_after_it() {
        let store = MemoryIdempotencyStore::new(IdempotencyConfig {
            window: Duration::from_millis(50),
            max_keys: 10,
        });
        assert!(matches!(
            store.begin(&key("a"), [1; 32]).await,
            Begin::Proceed
        ));
        store
            .finish(&key("a"), [1; 32], Some(answer(StatusCode::CREATED)))
            .await;
        assert!(matches!(
            store.begin(&key("a"), [1; 32]).await,
            Begin::Replay(StoredResponse {
                status: StatusCode::CREATED,
                ..
            })
        ));
        assert!(matches!(
            store.begin(&key("a"), [2; 32]).await,
            Begin::Mismatch
        ));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(matches!(
            store.begin(&key("a"), [2; 32]).await,
            Begin::Proceed
        ));
    }

    #[tokio::test]
    async fn a_full_store_forgets_its_oldest_answer_but_never_a_running_request() {
        let store = MemoryIdempotencyStore::new(IdempotencyConfig {
            window: DEFAULT_WINDOW,
            max_keys: 2,
        });
        for name in ["a", "b"] {
            assert!(matches!(
                store.begin(&key(name), [0; 32]).await,
                Begin::Proceed
            ));
        }
        assert!(matches!(store.begin(&key("c"), [0; 32]).await, Begin::Full));
        store
            .finish(&key("a"), [0; 32], Some(answer(StatusCode::OK)))
            .await;
        assert!(matches!(
            store.begin(&key("c"), [0; 32]).await,
            Begin::Proceed
        ));
        assert_eq!(store.len(), 2);
        assert!(matches!(store.begin(&key("a"), [0; 32]).await, Begin::Full));
    }

    #[tokio::test]
    async fn a_retry_waits_for_the_running_request_and_runs_again_if_it_was_not_stored() {
        let store = Arc::new(MemoryIdempotencyStore::new(IdempotencyConfig::default()));
        assert!(matches!(
            store.begin(&key("a"), [0; 32]).await,
            Begin::Proceed
        ));
        let waiting = tokio::spawn({
            let store = store.clone();
            async move { store.begin(&key("a"), [0; 32]).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        store.finish(&key("a"), [0; 32], None).await;
        assert!(matches!(waiting.await.unwrap(), Begin::Proceed));
    }
}
