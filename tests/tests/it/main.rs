//! The workspace's integration tests, as one test binary: each module is a suite that used to
//! be a binary of its own, and linking the whole dependency tree once instead of fifteen times
//! is most of what `cargo test` costs.
//!
//! Database suites use the server in `MONGO_TEST_URI` (`./scripts/test` starts one;
//! `./scripts/test-server` starts one for a single crate's run) and never skip.

mod api_contract;
mod app_check;
mod app_indexes;
mod conditional;
mod faults;
mod health_cache;
mod hostile_input;
mod http_e2e;
mod lambda_events;
mod list_api;
mod memory_contract;
mod mongo_adapter;
mod role_options;
