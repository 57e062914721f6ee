//! The app's own integration tests, as one test binary: the handlers on mocks, the router in
//! memory, the real binary as a process, and `app serve` under abuse on real sockets.
//!
//! The suites that need the test server take it from `MONGO_TEST_URI` (`./scripts/test-server`
//! starts one) and never skip.
#![allow(clippy::unwrap_used)] // test set-up: a failure here is a broken test, shown by the panic

mod abuse;
mod access;
mod aws_auth;
mod cli;
mod contract;
mod handlers;
mod hardening;
mod idempotency_cors;
mod lambda_metrics;
mod many_instances;
mod request_id;
mod startup;
mod token_policy;
