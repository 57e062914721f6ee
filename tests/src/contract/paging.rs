//! Listing: creation order, page bounds.

use domain::Id;
use ports::Page;

use super::fixtures::{branch, machine};
use super::RolePair;

/// Lists come in creation order; consecutive pages cover every record exactly once; a page
/// never holds more than its limit.
pub async fn lists_come_in_creation_order_and_pages_do_not_overlap(stores: RolePair) {
    let branches = &*stores.main.branches;
    let mut created = Vec::new();
    for n in 0..25 {
        created.push(
            branches
                .create(branch(&format!("Branch {n:02}")))
                .await
                .expect("create")
                .id(),
        );
    }

    let first = branches.list(Page::first()).await.expect("list");
    assert_eq!(first.len(), 20, "the default page holds 20");
    let rest = branches.list(page(20, 20)).await.expect("list");
    let listed: Vec<_> = first.iter().chain(&rest).map(|r| r.id()).collect();
    assert_eq!(
        listed, created,
        "pages must follow creation order without gaps or repeats"
    );

    let middle = branches.list(page(7, 3)).await.expect("list");
    let middle: Vec<_> = middle.iter().map(|r| r.id()).collect();
    assert_eq!(middle, created[3..10]);
}

/// Skipping past the last record gives an empty page, not an error.
pub async fn a_page_past_the_end_is_empty(stores: RolePair) {
    let machines = &*stores.main.machines;
    machines
        .create(machine(Id::generate(), "SN-1"))
        .await
        .expect("create");
    assert!(machines.list(page(20, 1)).await.expect("list").is_empty());
    assert!(machines
        .list(page(100, Page::MAX_SKIP))
        .await
        .expect("list")
        .is_empty());
}

fn page(limit: u64, skip: u64) -> Page {
    Page::new(Some(limit), Some(skip)).expect("valid page")
}
