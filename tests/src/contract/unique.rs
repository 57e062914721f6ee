//! Unique keys: branch names, machine serial numbers, admin and master admin usernames.

use std::fmt::Debug;

use domain::{BranchName, BranchPatch, Entity, Id};
use ports::{Conflict, Repository, RepositoryError};

use super::fixtures::{admin, branch, customer, machine, master_admin};
use super::RolePair;

/// Creating a second entity with a taken unique value fails with `Conflict::Duplicate`
/// naming the field, and leaves the store as it was.
pub async fn a_duplicate_unique_value_is_a_conflict_naming_the_key_and_stores_nothing(
    stores: RolePair,
) {
    let site = Id::generate();
    let main = &stores.main;
    let admins = &stores.masteradmin;
    rejects_second(&*main.branches, branch("Lyon"), branch("Lyon")).await;
    rejects_second(
        &*main.machines,
        machine(site, "SN-9"),
        machine(Id::generate(), "SN-9"),
    )
    .await;
    rejects_second(
        &*admins.master_admins,
        master_admin("root"),
        master_admin("ROOT"),
    )
    .await;
    rejects_second(
        &*admins.admins,
        admin("lead", None),
        admin("lead", Some(site)),
    )
    .await;
}

async fn rejects_second<T: Entity>(repository: &dyn Repository<T>, first: T, second: T) {
    repository
        .create(first)
        .await
        .expect("the first holder is stored");
    let result = repository.create(second).await;
    assert_duplicate(
        &result,
        T::NAME,
        super::any_model::first_unique_field::<T>().expect("the model has a unique key"),
    );
    assert_eq!(
        repository.count().await.expect("count"),
        1,
        "the duplicate must not be stored"
    );
}

fn assert_duplicate<T: Debug>(
    result: &Result<T, RepositoryError>,
    model: &'static str,
    key: &'static str,
) {
    let expected = RepositoryError::Conflict(Conflict::Duplicate { model, key });
    assert!(
        matches!(result, Err(e) if *e == expected),
        "expected {expected:?}, got {result:?}"
    );
}

/// Kinds without a unique key store entities with identical fields side by side.
pub async fn entities_without_a_unique_key_accept_identical_values(stores: RolePair) {
    let customers = &*stores.main.customers;
    let site = Id::generate();
    let first = customers
        .create(customer(site, "Acme"))
        .await
        .expect("create");
    let second = customers
        .create(customer(site, "Acme"))
        .await
        .expect("create");
    assert_ne!(first.id(), second.id());
    assert_eq!(customers.count().await.expect("count"), 2);
}

/// Renaming a branch to another branch's name is a conflict; both stay as they were.
pub async fn an_update_to_a_unique_value_held_by_another_is_a_conflict_and_changes_nothing(
    stores: RolePair,
) {
    let branches = &*stores.main.branches;
    let lyon = branches.create(branch("Lyon")).await.expect("create");
    let paris = branches.create(branch("Paris")).await.expect("create");
    let rename = BranchPatch {
        name: Some(BranchName::parse("Lyon").expect("valid")),
        location: None,
    };
    let renamed = paris.clone().apply(rename).expect("valid patch");
    let result = branches.update(renamed).await;
    assert_duplicate(&result, "Branch", "name");
    assert_eq!(branches.get(paris.id()).await.expect("get"), paris);
    assert_eq!(branches.get(lyon.id()).await.expect("get"), lyon);
}
