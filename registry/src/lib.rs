/*!
The model factory, as a library any service can embed: which repository serves each model on
each connection role, created on MongoDB or in memory.

It is what the Node.js system calls `getModel('Branch', 'main')`, made typed and open:

- [`Registry::bind`] serves a model on a role, one line per pair, at start-up; any model type
  declared with the domain's declaration can be bound, the built-in ones and a service's own
  alike.
- [`Registry::repository`] and [`Registry::repositories`] give typed repositories;
  [`Registry::model`] gives a by-name [`ModelHandle`] (count, get, list as JSON) for generic
  tools, and on MongoDB its [`StoredCollection`], read document by document as stored (what
  `app check` reports before a migration), whose indexes ([`ports::IndexedCollection`]) can
  be compared with the declared ones and brought in line (`app indexes diff`, `sync`); the
  backend also gives the idempotency records' ([`Backend::idempotency_records`]). What they
  answer is in `ports`' words ([`ports::ScanReport`], [`ports::IndexDiff`],
  [`ports::IndexStatus`], …), the same on any backend that stores documents.
- A repository of a model with `checked` references refuses a create or a change whose
  referenced record does not exist ([`ports::RepositoryError::MissingReference`]), looked up on
  the same role, or else on the role the referenced model is bound on.
- A lookup of a model that is not bound is a [`RegistryError`] listing what is registered,
  never a panic; binding to a role that is not configured fails at start-up.

This crate knows no HTTP, Lambda, JWT or command line: those belong to the service that
embeds it.
*/
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod backend;
mod error;
mod handle;
mod references;
mod registry;

pub use backend::Backend;
pub use error::{ByNameError, RegistryError};
pub use handle::{ModelHandle, StoredCollection};
pub use registry::{Models, Registry};
