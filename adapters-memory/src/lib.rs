/*!
Every repository port held in memory: the embedded default backend when no database is
configured, and the second implementation that keeps the ports honest.

It follows the same contract as the MongoDB adapter (unique keys, id order, versions,
`NotFound`), which the contract suite in the `tests` crate checks against both.

```
use domain::{Branch, BranchName, Location};
use adapters_memory::MemoryRepository;
use ports::Repository;

# tokio_test_block_on(async {
let branches = MemoryRepository::<Branch>::new();
let lyon = Branch::new(BranchName::parse("Lyon")?, Location::parse("Zone B")?);
let record = branches.create(lyon).await?;
assert_eq!(branches.get(record.id()).await?, record);
# Ok::<(), Box<dyn std::error::Error>>(())
# });
# fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
#     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
# }
```
*/
#![deny(missing_docs)]

mod idempotency;
mod monitor;
mod repository;

pub use idempotency::MemoryIdempotencyStore;
pub use monitor::MemoryMonitor;
pub use repository::MemoryRepository;
