//! The contract checks that hold for any model, including one a service declares for itself:
//! each takes a fresh, empty repository and a maker of distinct valid values of the model.
//!
//! ```ignore
//! tests::contract::any_model::all(&*repository, |n| invoice(n)).await;
//! ```

use domain::{Entity, Id, Record};
use ports::{Conflict, ListQuery, Page, Repository, RepositoryError};

/// Every check below, in turn, on one fresh repository (each check cleans up after itself).
pub async fn all<T: Entity>(repository: &dyn Repository<T>, make: impl Fn(u32) -> T) {
    records_read_back_as_created_and_list_in_creation_order(repository, &make).await;
    an_update_saves_the_next_version_and_a_stale_one_is_refused(repository, &make).await;
    a_taken_unique_value_is_a_duplicate_naming_the_key(repository, &make).await;
    unknown_ids_are_not_found_and_deletes_remove(repository, &make).await;
    super::a_guarded_delete_removes_only_the_state_read(repository, &make).await;
}

/// Every check, with the model's own examples ([`Entity::example`]) as fixtures: what a model
/// declared with `#[derive(Model)]` passes with no fixture written for it.
pub async fn declared<T: Entity>(repository: &dyn Repository<T>) {
    all(repository, |n| {
        T::example(n).unwrap_or_else(|err| panic!("{}'s example breaks its rules: {err}", T::NAME))
    })
    .await;
}

/// Created records read back equal, count, and list in creation order.
pub async fn records_read_back_as_created_and_list_in_creation_order<T: Entity>(
    repository: &dyn Repository<T>,
    make: &impl Fn(u32) -> T,
) {
    let mut created = Vec::new();
    for n in 0..3 {
        let record = repository.create(make(n)).await.expect("create");
        assert_eq!(record.entity(), &make(n), "{} stored as given", T::NAME);
        assert_eq!(repository.get(record.id()).await.expect("get"), record);
        created.push(record);
    }
    assert_eq!(repository.count().await.expect("count"), 3);
    let listed = repository.list(ListQuery::new(Page::first())).await;
    let listed = listed.expect("list").records;
    assert_eq!(listed, created, "{} lists in creation order", T::NAME);
    remove_all(repository, &created).await;
}

/// A save from the version read advances it; a second save from the same read is stale.
pub async fn an_update_saves_the_next_version_and_a_stale_one_is_refused<T: Entity>(
    repository: &dyn Repository<T>,
    make: &impl Fn(u32) -> T,
) {
    let read = repository.create(make(10)).await.expect("create");
    let saved = repository.update(read.clone()).await.expect("update");
    assert_eq!(saved.version(), read.version().next());
    assert_eq!(saved.created_at(), read.created_at());
    let stale = repository.update(read.clone()).await;
    assert!(
        matches!(
            stale,
            Err(RepositoryError::Conflict(Conflict::StaleVersion { .. }))
        ),
        "{stale:?}"
    );
    assert_eq!(repository.get(read.id()).await.expect("get"), saved);
    remove_all(repository, &[saved]).await;
}

/// When the model has unique keys, a second record with the same values is refused naming the
/// first declared key, and nothing is stored.
pub async fn a_taken_unique_value_is_a_duplicate_naming_the_key<T: Entity>(
    repository: &dyn Repository<T>,
    make: &impl Fn(u32) -> T,
) {
    let Some(key) = first_unique_field::<T>() else {
        return;
    };
    let first = repository.create(make(20)).await.expect("create");
    let second = repository.create(make(20)).await;
    let expected = Conflict::Duplicate {
        model: T::NAME,
        key,
    };
    assert_eq!(second.err(), Some(RepositoryError::Conflict(expected)));
    assert_eq!(repository.count().await.expect("count"), 1);
    remove_all(repository, &[first]).await;
}

/// `get` and `delete` of an id nobody has are `NotFound`; after `delete` the record is gone.
pub async fn unknown_ids_are_not_found_and_deletes_remove<T: Entity>(
    repository: &dyn Repository<T>,
    make: &impl Fn(u32) -> T,
) {
    let unknown = Id::generate();
    assert!(matches!(
        repository.get(unknown).await,
        Err(RepositoryError::NotFound { .. })
    ));
    let record = repository.create(make(30)).await.expect("create");
    repository.delete(record.id()).await.expect("delete");
    assert!(matches!(
        repository.get(record.id()).await,
        Err(RepositoryError::NotFound { .. })
    ));
    assert!(matches!(
        repository.delete(record.id()).await,
        Err(RepositoryError::NotFound { .. })
    ));
}

async fn remove_all<T: Entity>(repository: &dyn Repository<T>, records: &[Record<T>]) {
    for record in records {
        repository.delete(record.id()).await.expect("delete");
    }
    assert_eq!(repository.count().await.expect("count"), 0);
}

/// The first field the model declares `unique`, if any.
pub fn first_unique_field<T: Entity>() -> Option<&'static str> {
    T::FIELDS
        .iter()
        .find(|field| field.unique)
        .map(|field| field.name)
}
