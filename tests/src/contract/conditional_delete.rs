//! Guarded deletes (`Repository::delete_if`): a record is removed only while it is still the
//! one read, checked and removed in one step.

use domain::{Entity, Id, Timestamp};
use ports::{Conflict, Repository, RepositoryError};

use super::fixtures::branch;
use super::RolePair;

/// A guarded delete from a stale read (a save since, or only `updatedAt` moved) is
/// `StaleVersion` and deletes nothing; from the current read it deletes; on an absent id it
/// is `NotFound`. On branches of `main`.
pub async fn a_guarded_delete_of_a_stale_read_deletes_nothing(stores: RolePair) {
    a_guarded_delete_removes_only_the_state_read(&*stores.main.branches, |n| {
        branch(&format!("Guarded {n}"))
    })
    .await;
}

/// The check above for any model, on a fresh repository it leaves empty again: what
/// [`any_model::all`](super::any_model::all) runs for a model a service declares.
pub async fn a_guarded_delete_removes_only_the_state_read<T: Entity>(
    repository: &dyn Repository<T>,
    make: impl Fn(u32) -> T,
) {
    let read = repository.create(make(40)).await.expect("create");
    let saved = repository.update(read.clone()).await.expect("update");

    let stale = repository
        .delete_if(read.id(), read.version(), read.updated_at())
        .await;
    assert_stale(&stale, "a read older than a save");
    let moved = Timestamp::from_millis(saved.updated_at().millis() + 1).expect("representable");
    let only_date = repository
        .delete_if(saved.id(), saved.version(), moved)
        .await;
    if only_date.is_ok()
        && testkit::server::known_server_gap(
            "a date equality in a filter with `_id` matches dates under a second apart",
        )
    {
        return;
    }
    assert_stale(&only_date, "the current version with another updatedAt");
    assert_eq!(
        repository.get(read.id()).await.expect("still stored"),
        saved,
        "a refused guarded delete of {} changes nothing",
        T::NAME
    );

    repository
        .delete_if(saved.id(), saved.version(), saved.updated_at())
        .await
        .expect("the current read deletes");
    assert!(matches!(
        repository.get(saved.id()).await,
        Err(RepositoryError::NotFound { .. })
    ));
    let again = repository
        .delete_if(saved.id(), saved.version(), saved.updated_at())
        .await;
    assert!(
        matches!(again, Err(RepositoryError::NotFound { .. })),
        "{again:?}"
    );
    let unknown = repository
        .delete_if(Id::generate(), saved.version(), saved.updated_at())
        .await;
    assert!(
        matches!(unknown, Err(RepositoryError::NotFound { .. })),
        "{unknown:?}"
    );
    assert_eq!(repository.count().await.expect("count"), 0);
}

fn assert_stale(result: &Result<(), RepositoryError>, what: &str) {
    assert!(
        matches!(
            result,
            Err(RepositoryError::Conflict(Conflict::StaleVersion { .. }))
        ),
        "a guarded delete of {what} must be StaleVersion, got {result:?}"
    );
}
