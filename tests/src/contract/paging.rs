//! Listing: creation order, page bounds, cursors, totals.

use domain::{Entity, Id};
use ports::{ListQuery, Listing, Page, Repository};

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

    let first = list(branches, ListQuery::new(Page::first())).await;
    assert_eq!(first.records.len(), 20, "the default page holds 20");
    let rest = list(branches, ListQuery::new(page(20, 20))).await;
    let listed: Vec<_> = first
        .records
        .iter()
        .chain(&rest.records)
        .map(|r| r.id())
        .collect();
    assert_eq!(
        listed, created,
        "pages must follow creation order without gaps or repeats"
    );
    assert_eq!(
        first.next_after,
        Some(created[19]),
        "more follow the first page"
    );
    assert_eq!(rest.next_after, None, "nothing follows the last page");

    let middle = list(branches, ListQuery::new(page(7, 3))).await;
    assert_eq!(ids(&middle), created[3..10]);
}

/// A cursor continues exactly where the previous page ended, however records were skipped to
/// get there; the total counts every record, whatever the page.
pub async fn a_cursor_continues_after_the_last_record_of_the_previous_page(stores: RolePair) {
    let branches = &*stores.main.branches;
    let mut created = Vec::new();
    for n in 0..7 {
        let record = branches.create(branch(&format!("Site {n}"))).await;
        created.push(record.expect("create").id());
    }
    let first = list(branches, ListQuery::new(page(3, 0)).counted()).await;
    assert_eq!(ids(&first), created[..3]);
    assert_eq!(first.total, Some(7));
    let after = first.next_after.expect("a next page");
    let second = list(branches, ListQuery::new(page(3, 0)).after(after)).await;
    assert_eq!(ids(&second), created[3..6]);
    assert_eq!(second.total, None, "not asked for");
    let last = list(branches, ListQuery::new(page(3, 0)).after(created[5])).await;
    assert_eq!((ids(&last), last.next_after), (created[6..].to_vec(), None));
}

/// Skipping past the last record gives an empty page, not an error.
pub async fn a_page_past_the_end_is_empty(stores: RolePair) {
    let machines = &*stores.main.machines;
    machines
        .create(machine(Id::generate(), "SN-1"))
        .await
        .expect("create");
    let past = list(machines, ListQuery::new(page(20, 1))).await;
    assert!(past.records.is_empty() && past.next_after.is_none());
    let far = list(machines, ListQuery::new(page(100, Page::MAX_SKIP))).await;
    assert!(far.records.is_empty());
}

/// `query`'s listing, which must not fail.
pub async fn list<T: Entity>(repository: &dyn Repository<T>, query: ListQuery<T>) -> Listing<T> {
    repository.list(query).await.expect("list")
}

/// The ids of a listing's records, in order.
pub fn ids<T: Entity>(listing: &Listing<T>) -> Vec<Id<T>> {
    listing.records.iter().map(|r| r.id()).collect()
}

fn page(limit: u64, skip: u64) -> Page {
    Page::new(Some(limit), Some(skip)).expect("valid page")
}
