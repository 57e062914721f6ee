/*!
Test support shared by the workspace's integration tests (in `tests/tests/`):

- [`contract`]: the repository contract, written once as plain async checks over the ports and
  run against every backend through [`contract_suite!`];
- [`service`]: the service under test, driven through its router as a client drives it, with
  a look at what it stored;
- [`hostile`]: the hostile-input kit: generators of hostile requests and bodies, forged
  credentials, and the invariants every answer keeps.
*/
#![deny(missing_docs)]

pub mod contract;
pub mod hostile;
pub mod service;
