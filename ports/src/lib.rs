/*!
The contracts between the business and its storage: which database a piece of data lives in
([`Role`]), what a repository must do ([`Repository`]), how it fails ([`RepositoryError`]) and
how the health of each database is observed ([`ConnectionMonitor`]), where retried
requests find their first answer ([`IdempotencyStore`]), and what tools over stored data say:
a collection's declared indexes ([`IndexedCollection`], [`IndexDiff`], [`IndexSync`],
[`IndexStatus`], one [`IndexRefusal`]) and a scan of its documents ([`ScanReport`]).

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
mod idempotency;
mod indexes;
mod page;
mod query;
mod repository;
mod role;
mod stored;

pub use error::{Conflict, RepositoryError};
#[cfg(any(test, feature = "mock"))]
pub use health::MockConnectionMonitor;
pub use health::{ConnectionMonitor, ConnectionState};
#[cfg(any(test, feature = "mock"))]
pub use idempotency::MockIdempotencyStore;
pub use idempotency::{
    Claim, ClaimToken, Fingerprint, IdempotencyKey, IdempotencyStore, IdempotencyTerms,
    StoredAnswer,
};
#[cfg(any(test, feature = "mock"))]
pub use indexes::MockIndexedCollection;
pub use indexes::{
    IndexConflict, IndexDiff, IndexKey, IndexRefusal, IndexSpec, IndexStatus, IndexSync,
    IndexedCollection, KeyOrder,
};
pub use page::Page;
pub use query::{filter_pattern, Condition, Filter, FilterError, ListQuery, Listing};
#[cfg(any(test, feature = "mock"))]
pub use repository::MockRepository;
pub use repository::Repository;
pub use role::{InvalidRoleName, Role, UnknownRole};
pub use stored::{Finding, ScanReport};
