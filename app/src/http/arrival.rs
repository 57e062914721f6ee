//! Whether a request is waiting for its own body: a request cut off by its deadline while the
//! handler waits for bytes the client has not sent is the client's timeout (`408`), not ours.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use http_body::{Frame, SizeHint};

/// What the tracked body says about its arrival.
#[derive(Debug, Clone, Default)]
pub(crate) struct Arrival(Arc<AtomicBool>);

impl Arrival {
    /// Whether the last read of the body is waiting for the client.
    pub(crate) fn is_awaited(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// `request` with its body tracked, and the tracker.
pub(crate) fn track(request: Request) -> (Request, Arrival) {
    let arrival = Arrival::default();
    let tracked = arrival.clone();
    let request = request.map(|inner| {
        Body::new(Tracked {
            inner,
            arrival: tracked,
        })
    });
    (request, arrival)
}

/// A request body that notes whether its reader is waiting on the client.
struct Tracked {
    inner: Body,
    arrival: Arrival,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        self.arrival.0.store(polled.is_pending(), Ordering::Relaxed);
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
