//! The contract of `ports::IdempotencyStore`, run against every backend: each check takes two
//! stores that share their storage (two instances of the service on one database) and the
//! terms they were made with, short enough to wait out.
//!
//! ```ignore
//! tests::contract::idempotency::all([first, second], TERMS).await;
//! ```

use std::sync::Arc;
use std::time::Duration;

use ports::{Claim, ClaimToken, IdempotencyKey, IdempotencyStore, IdempotencyTerms, StoredAnswer};
use tokio::task::JoinSet;

/// Terms a backend's stores are made with for the checks: a lease and a window short enough
/// to wait out, long enough for a claim and its completion on a busy machine.
pub const TERMS: IdempotencyTerms = IdempotencyTerms {
    window: Duration::from_millis(1_500),
    lease: Duration::from_millis(700),
};

/// Two stores on the same storage, as two instances hold them.
pub type Instances = [Arc<dyn IdempotencyStore>; 2];

/// Every check below, on fresh keys.
pub async fn all(instances: Instances) {
    exactly_one_of_many_concurrent_first_claims_owns_the_key(&instances).await;
    a_completed_key_replays_its_answer_everywhere_and_refuses_another_body(&instances).await;
    a_released_key_is_claimed_again(&instances).await;
    a_claim_whose_lease_ended_is_taken_over_once_and_its_old_token_changes_nothing(&instances)
        .await;
    an_answer_whose_window_ended_is_claimed_again(&instances).await;
}

/// A key no other check uses, for the caller `caller`.
pub fn fresh_key(name: &str) -> IdempotencyKey {
    IdempotencyKey {
        id: format!("{name}-{}", testkit::server::unique_database_name("k")),
        caller: "user:contract".into(),
    }
}

/// An answer whose body is `body`.
pub fn answer(body: &str) -> StoredAnswer {
    StoredAnswer {
        status: 201,
        headers: vec![(
            "location".into(),
            b"/orders/65f0a1b2c3d4e5f6a7b8c9d0".to_vec(),
        )],
        body: body.as_bytes().to_vec(),
    }
}

async fn owned(store: &dyn IdempotencyStore, key: &IdempotencyKey) -> ClaimToken {
    match store.claim(key, &[1; 32]).await.expect("a claim") {
        Claim::Owned(token) => token,
        other => panic!("{key:?} not owned: {other:?}"),
    }
}

/// Twenty claims at once, ten through each instance: one owns the key, the others see it run.
pub async fn exactly_one_of_many_concurrent_first_claims_owns_the_key(instances: &Instances) {
    let key = fresh_key("concurrent");
    let mut claims = JoinSet::new();
    for n in 0..20 {
        let (store, key) = (instances[n % 2].clone(), key.clone());
        claims.spawn(async move { store.claim(&key, &[1; 32]).await.expect("a claim") });
    }
    let claims = claims.join_all().await;
    let owners = claims
        .iter()
        .filter(|c| matches!(c, Claim::Owned(_)))
        .count();
    assert_eq!(owners, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, Claim::Owned(_) | Claim::Running { .. })),
        "{claims:?}"
    );
}

/// A completed key replays its answer through either instance; another body is a mismatch.
pub async fn a_completed_key_replays_its_answer_everywhere_and_refuses_another_body(
    instances: &Instances,
) {
    let key = fresh_key("replay");
    let token = owned(instances[0].as_ref(), &key).await;
    let running = instances[1].claim(&key, &[1; 32]).await.expect("a claim");
    assert!(matches!(running, Claim::Running { .. }), "{running:?}");
    let first = answer("the first answer");
    instances[0]
        .complete(&key, &[1; 32], &token, first.clone())
        .await
        .expect("kept");
    for store in instances {
        let claim = store.claim(&key, &[1; 32]).await.expect("a claim");
        assert_eq!(claim, Claim::Replay(first.clone()));
        let other = store.claim(&key, &[2; 32]).await.expect("a claim");
        assert_eq!(other, Claim::Mismatch);
    }
}

/// A released key is the next request's, on any instance.
pub async fn a_released_key_is_claimed_again(instances: &Instances) {
    let key = fresh_key("released");
    let token = owned(instances[0].as_ref(), &key).await;
    instances[0].release(&key, &token).await.expect("released");
    owned(instances[1].as_ref(), &key).await;
}

/// After its lease a claim goes to the next request, and only one; its first holder can then
/// neither complete nor release it.
pub async fn a_claim_whose_lease_ended_is_taken_over_once_and_its_old_token_changes_nothing(
    instances: &Instances,
) {
    let key = fresh_key("lease");
    let dead = owned(instances[0].as_ref(), &key).await;
    tokio::time::sleep(TERMS.lease + Duration::from_millis(200)).await;
    let (first, second) = tokio::join!(
        instances[0].claim(&key, &[1; 32]),
        instances[1].claim(&key, &[1; 32])
    );
    let claims = [first.expect("a claim"), second.expect("a claim")];
    let owners: Vec<&ClaimToken> = claims
        .iter()
        .filter_map(|c| match c {
            Claim::Owned(token) => Some(token),
            _ => None,
        })
        .collect();
    assert_eq!(owners.len(), 1, "one takeover: {claims:?}");
    let live = owners[0].clone();
    instances[0]
        .complete(&key, &[1; 32], &dead, answer("late"))
        .await
        .expect("ignored");
    instances[0].release(&key, &dead).await.expect("ignored");
    let running = instances[1].claim(&key, &[1; 32]).await.expect("a claim");
    assert!(matches!(running, Claim::Running { .. }), "{running:?}");
    instances[1]
        .complete(&key, &[1; 32], &live, answer("live"))
        .await
        .expect("kept");
    let replay = instances[0].claim(&key, &[1; 32]).await.expect("a claim");
    assert_eq!(replay, Claim::Replay(answer("live")));
}

/// An answer is replayed for its window only; then the key is the next request's.
pub async fn an_answer_whose_window_ended_is_claimed_again(instances: &Instances) {
    let key = fresh_key("window");
    let token = owned(instances[0].as_ref(), &key).await;
    instances[0]
        .complete(&key, &[1; 32], &token, answer("old"))
        .await
        .expect("kept");
    tokio::time::sleep(TERMS.window + Duration::from_millis(200)).await;
    owned(instances[1].as_ref(), &key).await;
}
