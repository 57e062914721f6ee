//! Create, read, delete and count.

use std::fmt::Debug;

use domain::{Entity, Id, Record};
use ports::{Repository, RepositoryError};

use super::fixtures::{admin, branch, customer, machine, master_admin, order};
use super::RolePair;

/// Every kind of entity is read back equal to what `create` returned, field for field.
pub async fn every_entity_kind_reads_back_as_it_was_created(stores: RolePair) {
    let main = &stores.main;
    let lyon = round_trip(&*main.branches, branch("Lyon")).await;
    let buyer = round_trip(&*main.customers, customer(lyon.id(), "Acme")).await;
    round_trip(&*main.orders, order(lyon.id(), buyer.id())).await;
    round_trip(&*main.machines, machine(lyon.id(), "SN-001")).await;
    let admins = &stores.masteradmin;
    round_trip(&*admins.master_admins, master_admin("root")).await;
    round_trip(&*admins.admins, admin("floor.lead", Some(lyon.id()))).await;
    round_trip(&*admins.admins, admin("auditor", None)).await;
}

async fn round_trip<T: Entity>(repository: &dyn Repository<T>, entity: T) -> Record<T> {
    let created = repository.create(entity.clone()).await.expect("create");
    assert_eq!(
        created.entity(),
        &entity,
        "create must store the entity as given"
    );
    assert_eq!(created.created_at(), created.updated_at());
    let read = repository.get(created.id()).await.expect("get");
    assert_eq!(read, created, "{} must read back as created", T::NAME);
    created
}

/// `get`, `update` and `delete` of an id that no entity has are `NotFound`.
pub async fn a_well_formed_unknown_id_is_not_found_for_every_operation(stores: RolePair) {
    let branches = &*stores.main.branches;
    branches.create(branch("Existing")).await.expect("create");
    let unknown = Id::generate();
    assert_not_found(branches.get(unknown).await);
    assert_not_found(branches.delete(unknown).await);
    let never_stored = Record::new(branch("Ghost"));
    assert_not_found(branches.update(never_stored).await);
    assert_eq!(
        branches.count().await.expect("count"),
        1,
        "nothing may be created"
    );
}

fn assert_not_found<T: Debug>(result: Result<T, RepositoryError>) {
    assert!(
        matches!(result, Err(RepositoryError::NotFound { .. })),
        "expected NotFound, got {result:?}"
    );
}

/// After `delete` the id is gone, and its unique value can be taken again.
pub async fn deleting_removes_the_record_and_frees_its_unique_value(stores: RolePair) {
    let branches = &*stores.main.branches;
    let kept = branches.create(branch("Kept")).await.expect("create");
    let gone = branches.create(branch("Gone")).await.expect("create");
    branches.delete(gone.id()).await.expect("delete");
    assert_not_found(branches.get(gone.id()).await);
    assert_not_found(branches.delete(gone.id()).await);
    assert_eq!(branches.get(kept.id()).await.expect("get"), kept);
    branches
        .create(branch("Gone"))
        .await
        .expect("the name is free again");
}

/// `count` is the number of stored entities of the kind.
pub async fn count_follows_creates_and_deletes(stores: RolePair) {
    let machines = &*stores.main.machines;
    let site = Id::generate();
    assert_eq!(machines.count().await.expect("count"), 0);
    let mut ids = Vec::new();
    for serial in ["SN-1", "SN-2", "SN-3"] {
        ids.push(
            machines
                .create(machine(site, serial))
                .await
                .expect("create")
                .id(),
        );
    }
    assert_eq!(machines.count().await.expect("count"), 3);
    machines.delete(ids[1]).await.expect("delete");
    assert_eq!(machines.count().await.expect("count"), 2);
}
