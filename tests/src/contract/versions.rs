//! Updates: whole-record saves guarded by the version.

use domain::{Order, OrderPatch, OrderStatus, Record, Version};
use ports::{Conflict, RepositoryError};

use super::fixtures::{branch, customer, line, order};
use super::{RolePair, Stores};

/// A pending order of a new customer of a new branch, created through `main`.
async fn placed_order(main: &Stores) -> Record<Order> {
    let site = main.branches.create(branch("Lyon")).await.expect("create");
    let buyer = main
        .customers
        .create(customer(site.id(), "Acme"))
        .await
        .expect("create");
    main.orders
        .create(order(site.id(), buyer.id()))
        .await
        .expect("create")
}

/// An update stores the patched entity with the next version and a later `updatedAt`, and
/// keeps the id and `createdAt`.
pub async fn an_update_is_saved_with_the_next_version_and_keeps_the_creation_time(
    stores: RolePair,
) {
    let main = &stores.main;
    let placed = placed_order(main).await;
    assert_eq!(placed.version(), Version::INITIAL);

    let patch = OrderPatch {
        items: Some(vec![line("GEAR-40", 4, 12.5)]),
        status: Some(OrderStatus::InProduction),
    };
    let saved = main
        .orders
        .update(placed.clone().apply(patch).expect("valid"))
        .await
        .expect("update");
    assert_eq!(saved.version(), Version::INITIAL.next());
    assert_eq!(
        (saved.id(), saved.created_at()),
        (placed.id(), placed.created_at())
    );
    assert!(saved.updated_at() >= placed.updated_at());
    assert_eq!(
        saved.entity().total(),
        50.0,
        "the total follows the new items"
    );
    assert_eq!(main.orders.get(placed.id()).await.expect("get"), saved);
}

/// Two writers who read the same version: the first save wins, the second is told the
/// record changed, and the stored record is the first writer's.
pub async fn a_second_update_from_the_same_read_is_a_stale_version_conflict(stores: RolePair) {
    let main = &stores.main;
    let read = placed_order(main).await;

    let status = |s| OrderPatch {
        items: None,
        status: Some(s),
    };
    let first = read
        .clone()
        .apply(status(OrderStatus::InProduction))
        .expect("valid");
    let second = read
        .clone()
        .apply(status(OrderStatus::Cancelled))
        .expect("valid");
    let saved = main.orders.update(first).await.expect("first writer wins");
    let result = main.orders.update(second).await;
    assert!(
        matches!(
            result,
            Err(RepositoryError::Conflict(Conflict::StaleVersion { .. }))
        ),
        "expected StaleVersion, got {result:?}"
    );
    assert_eq!(main.orders.get(read.id()).await.expect("get"), saved);
}
