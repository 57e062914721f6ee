//! What the process shows of itself, its logs and its metrics, as one test binary apart: both
//! are watched through what is global to a process. `tracing` caches per call site whether
//! anyone listens, so a capture started while other threads reach new call sites can miss
//! lines; the `metrics` recorder is installed once per process. So every test here takes the
//! process to itself (`testkit::logs::capture`, `testkit::alone`) and they run one at a time,
//! and no test that does not watch runs beside them.

mod database_metrics;
mod driver_events;
mod secrets;
mod uri_corpus;
