//! One test at a time, for the tests that watch what is global to a process: the `tracing`
//! call sites' interest ([`crate::logs::capture`] takes it) and the `metrics` recorder. Tests
//! in other binaries are not held back: each test binary is a process of its own.

use std::sync::{Mutex, MutexGuard, PoisonError};

static PROCESS: Mutex<()> = Mutex::new(());

/// Held while a test has the process to itself.
#[must_use = "the test has the process to itself only while this is held"]
pub struct Alone(#[allow(dead_code)] MutexGuard<'static, ()>);

/// Waits until no other test of this process holds it, then holds it. A test that failed
/// while holding it does not block the others.
pub fn alone() -> Alone {
    Alone(PROCESS.lock().unwrap_or_else(PoisonError::into_inner))
}
