//! The repository contract of `ports::Repository`, written once and run against every backend
//! (and, in [`idempotency`], that of `ports::IdempotencyStore`).
//!
//! Each check is a plain `async fn` over a fresh [`RolePair`];
//! [`contract_suite!`](crate::contract_suite) turns the whole list into one `#[tokio::test]`
//! per check for a backend:
//!
//! ```ignore
//! async fn fresh_stores() -> tests::contract::RolePair { /* two empty stores */ }
//! tests::contract_suite!(fresh_stores);
//! ```

pub mod any_model;
mod conditional_delete;
mod crud;
mod filters;
mod fixtures;
pub mod idempotency;
mod isolation;
pub mod paging;
pub mod two_keys;
mod unique;
mod versions;

use std::sync::Arc;

use domain::{Admin, Branch, Customer, Machine, MasterAdmin, Order};
use ports::Repository;

pub use conditional_delete::*;
pub use crud::*;
pub use filters::*;
pub use fixtures::*;
pub use isolation::*;
pub use paging::*;
pub use unique::*;
pub use versions::*;

/// One role's repositories of every entity kind, all empty when handed to a check.
#[derive(Clone)]
pub struct Stores {
    /// Branches.
    pub branches: Arc<dyn Repository<Branch>>,
    /// Customers.
    pub customers: Arc<dyn Repository<Customer>>,
    /// Orders.
    pub orders: Arc<dyn Repository<Order>>,
    /// Machines.
    pub machines: Arc<dyn Repository<Machine>>,
    /// Master admins.
    pub master_admins: Arc<dyn Repository<MasterAdmin>>,
    /// Admins.
    pub admins: Arc<dyn Repository<Admin>>,
}

/// The stores of both roles, kept apart as two databases are.
#[derive(Clone)]
pub struct RolePair {
    /// The `main` role's stores.
    pub main: Stores,
    /// The `masteradmin` role's stores.
    pub masteradmin: Stores,
}

/// Expands to one `#[tokio::test]` per contract check, each on stores from `$fresh().await`.
#[macro_export]
macro_rules! contract_suite {
    ($fresh:path) => {
        $crate::contract_suite!(@each $fresh;
            every_entity_kind_reads_back_as_it_was_created,
            a_well_formed_unknown_id_is_not_found_for_every_operation,
            deleting_removes_the_record_and_frees_its_unique_value,
            count_follows_creates_and_deletes,
            a_duplicate_unique_value_is_a_conflict_naming_the_key_and_stores_nothing,
            entities_without_a_unique_key_accept_identical_values,
            an_update_to_a_unique_value_held_by_another_is_a_conflict_and_changes_nothing,
            lists_come_in_creation_order_and_pages_do_not_overlap,
            a_page_past_the_end_is_empty,
            a_cursor_continues_after_the_last_record_of_the_previous_page,
            a_filter_on_an_enumeration_selects_and_counts_the_matching_records,
            a_filter_on_a_reference_selects_the_records_of_that_record,
            an_update_is_saved_with_the_next_version_and_keeps_the_creation_time,
            a_second_update_from_the_same_read_is_a_stale_version_conflict,
            what_one_role_writes_the_other_does_not_see,
            a_guarded_delete_of_a_stale_read_deletes_nothing,
        );
    };
    (@each $fresh:path; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $check() {
                $crate::contract::$check($fresh().await).await;
            }
        )+
    };
}
