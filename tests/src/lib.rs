/*!
Test support shared by the workspace's integration tests (in `tests/tests/`):

- [`contract`]: the repository contract, written once as plain async checks over the ports and
  run against every backend through [`contract_suite!`];
- [`server`]: the MongoDB wire-protocol server the database tests run against;
- [`service`]: the service under test, driven through its router as a client drives it, with
  a look at what it stored;
- [`logs`]: log lines captured in memory;
- [`hostile`]: the hostile-input kit: generators of hostile requests and bodies, forged
  credentials, and the invariants every answer keeps.
*/
#![deny(missing_docs)]

pub mod contract;
pub mod hostile;
pub mod logs;
pub mod server;
pub mod service;
