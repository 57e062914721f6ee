/*!
Test support shared by the workspace's integration tests (in `tests/tests/`):

- [`contract`]: the repository contract, written once as plain async checks over the ports and
  run against every backend through [`contract_suite!`];
- [`server`]: the MongoDB wire-protocol server the database tests run against.
*/
#![deny(missing_docs)]

pub mod contract;
pub mod server;
