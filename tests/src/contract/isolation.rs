//! Roles: what `main` holds, `masteradmin` does not, and the reverse.

use ports::{ListQuery, Page, RepositoryError};

use super::fixtures::{branch, master_admin};
use super::RolePair;

/// Records written through one role are invisible through the other, which holds the same
/// entity types in a separate store.
pub async fn what_one_role_writes_the_other_does_not_see(stores: RolePair) {
    let in_main = stores
        .main
        .branches
        .create(branch("Lyon"))
        .await
        .expect("create");
    let in_admin = stores
        .masteradmin
        .master_admins
        .create(master_admin("root"))
        .await
        .expect("create");

    assert_eq!(stores.masteradmin.branches.count().await.expect("count"), 0);
    let listed = super::paging::list(&*stores.masteradmin.branches, ListQuery::new(Page::first()));
    assert!(listed.await.records.is_empty());
    let lookup = stores.masteradmin.branches.get(in_main.id()).await;
    assert!(
        matches!(lookup, Err(RepositoryError::NotFound { .. })),
        "{lookup:?}"
    );

    assert_eq!(stores.main.master_admins.count().await.expect("count"), 0);
    let lookup = stores.main.master_admins.get(in_admin.id()).await;
    assert!(
        matches!(lookup, Err(RepositoryError::NotFound { .. })),
        "{lookup:?}"
    );

    stores
        .masteradmin
        .branches
        .create(branch("Lyon"))
        .await
        .expect("unique keys are per store");
}
