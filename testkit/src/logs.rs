//! Log lines captured in memory, for the tests that assert what a log never shows (a
//! password, a command body) or always shows (a state change).
//!
//! ```
//! let (logs, _guard) = testkit::logs::capture();
//! tracing::info!(role = "main", "connected");
//! assert!(logs.text().contains("connected"));
//! ```

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::subscriber::DefaultGuard;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Everything written to it, shared by its clones: give one clone to the subscriber, read
/// another.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// The lines written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A capture in progress, with the current-thread runtime its async code runs on (every task
/// on the capturing thread). Dropping it stops the runtime, ends the capture, then lets the
/// next test have the process.
#[must_use = "the capture ends when this is dropped"]
pub struct Capture {
    runtime: tokio::runtime::Runtime,
    _default: DefaultGuard,
    _alone: crate::alone::Alone,
}

impl Capture {
    /// Runs `future` to completion on the capture's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Captures every event and span of this thread, at every level, in both formats the app
/// writes (text without colours, then JSON), until the guard is dropped.
///
/// The subscriber is the calling thread's default only, so a test that captures runs its
/// async code with [`Capture::block_on`], on a current-thread runtime: every task then runs on
/// the capturing thread. `tracing` caches per call site whether anyone listens, and a call site
/// first reached by another thread while a capture starts can stay unheard: so a capture
/// takes the process to itself ([`crate::alone`]), and a test binary that captures runs only
/// tests that do the same.
pub fn capture() -> (LogBuffer, Capture) {
    let alone = crate::alone::alone();
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(LevelFilter::TRACE)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(logs.clone())
                .with_ansi(false),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(logs.clone()),
        );
    let guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    (
        logs,
        Capture {
            runtime,
            _default: guard,
            _alone: alone,
        },
    )
}
