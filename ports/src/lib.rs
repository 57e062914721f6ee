/*!
The contracts between the business and its storage: which database a piece of data lives in
([`Role`]), what a repository must do ([`Repository`]), how it fails ([`RepositoryError`]) and
how the health of each database is observed ([`ConnectionMonitor`]).

Traits only: this crate depends on `domain` and on no backend. With the `mock` feature every
trait has a `mockall` double (`MockRepository<T>`, `MockConnectionMonitor`):

```
# #[cfg(feature = "mock")] {
use domain::Branch;
use ports::{MockRepository, Repository};

let mut branches = MockRepository::<Branch>::new();
branches.expect_count().times(1).returning(|| Ok(3));

let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
assert_eq!(runtime.block_on(branches.count()), Ok(3));
# }
```
*/
#![deny(missing_docs)]

mod error;
mod health;
mod page;
mod query;
mod repository;
mod role;

pub use error::{Conflict, RepositoryError};
#[cfg(any(test, feature = "mock"))]
pub use health::MockConnectionMonitor;
pub use health::{ConnectionMonitor, ConnectionState};
pub use page::Page;
pub use query::{Condition, Filter, FilterError, ListQuery, Listing};
#[cfg(any(test, feature = "mock"))]
pub use repository::MockRepository;
pub use repository::Repository;
pub use role::{InvalidRoleName, Role, UnknownRole};
