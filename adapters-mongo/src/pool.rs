//! How many connections a client's pool holds, counted from the driver's connection-pool
//! (CMAP) monitoring events.
//!
//! The driver announces every pooled connection twice: `ConnectionCreated` when the pool starts
//! opening it (it then counts against `maxPoolSize`), and `ConnectionClosed` when the pool lets
//! go of it, including when it could not be established. Counting the first minus the second
//! gives what the pool holds, which is what `maxPoolSize` bounds. The monitor's own
//! connections (SDAM heartbeats) are not pooled and not counted.
//!
//! The same events also count the connections checked out (in use by an operation) and the
//! check-outs waiting for a connection, and are published as gauges through the `metrics`
//! facade (`mongodb_pool_open_connections`, `mongodb_pool_checked_out_connections`,
//! `mongodb_pool_waiting_checkouts`, `mongodb_pool_max_size`, labelled with the client's
//! `roles`): a no-op until a recorder is installed, which the service does for `METRICS_PORT`.
//!
//! The same events are written as `debug` lines (target `adapters_mongo::events`) naming the
//! roles the client serves: what an operator turns on to see a pool fill up or drop
//! connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use metrics::Gauge;
use mongodb::event::cmap::CmapEvent;
use mongodb::event::EventHandler;

/// A `debug` line on the driver events' target.
macro_rules! debug {
    ($($field:tt)*) => { tracing::debug!(target: crate::commands::EVENTS_TARGET, $($field)*) };
}

/// A `trace` line on the driver events' target.
macro_rules! trace {
    ($($field:tt)*) => { tracing::trace!(target: crate::commands::EVENTS_TARGET, $($field)*) };
}

/// A snapshot of one client's connection pool, from [`ConnectionManager::pool_stats`].
///
/// Roles that share a client share its pool and report the same figures. The counts cover
/// every server of the deployment, while the driver applies `max_pool_size` to each server's
/// pool: on a standalone server or behind one `mongos`, `peak <= max_pool_size`; on a replica
/// set a client may hold up to `max_pool_size` connections per member.
///
/// [`ConnectionManager::pool_stats`]: crate::ConnectionManager::pool_stats
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Connections the pool holds now: being opened, idle or in use. A connection to a server
    /// that has gone away counts until the pool notices and closes it.
    pub open: usize,
    /// The most connections the pool has held at once since the client was created; 0 before
    /// the client exists. Never below [`Self::open`].
    pub peak: usize,
    /// Connections checked out by an operation now (a subset of [`Self::open`]).
    pub checked_out: usize,
    /// Operations waiting for a connection now: check-outs started and neither served nor
    /// failed yet (including those waiting for a new connection to be established).
    pub waiting: usize,
    /// The largest number of connections per server the client allows: the setting, else the
    /// URI's `maxPoolSize`, else [`DEFAULT_MAX_POOL_SIZE`](crate::DEFAULT_MAX_POOL_SIZE).
    pub max_pool_size: u32,
}

/// The live counts of one client's pool, shared by the roles it serves and by its event
/// handler.
#[derive(Debug, Default)]
pub(crate) struct PoolCounter {
    open: AtomicUsize,
    peak: AtomicUsize,
    checked_out: AtomicUsize,
    waiting: AtomicUsize,
}

/// Decrements `count`, saturating at zero: the driver pairs every decrement with an earlier
/// increment, but a miscount must not wrap around to a huge number. Returns the new value.
fn decrement(count: &AtomicUsize) -> usize {
    count
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .map_or(0, |before| before - 1)
}

/// Increments `count` and returns the new value.
fn increment(count: &AtomicUsize) -> usize {
    count.fetch_add(1, Ordering::AcqRel) + 1
}

/// The pool gauges of one client, resolved once against the recorder installed when the
/// client is created, so that an event costs an atomic store, not a registry lookup.
struct PoolGauges {
    open: Gauge,
    checked_out: Gauge,
    waiting: Gauge,
}

impl PoolGauges {
    fn new(roles: &Arc<str>, max_pool_size: u32) -> Self {
        let gauge = |name: &'static str| metrics::gauge!(name, "roles" => roles.to_string());
        gauge("mongodb_pool_max_size").set(f64::from(max_pool_size));
        Self {
            open: gauge("mongodb_pool_open_connections"),
            checked_out: gauge("mongodb_pool_checked_out_connections"),
            waiting: gauge("mongodb_pool_waiting_checkouts"),
        }
    }
}

/// A count as a gauge's value.
#[allow(clippy::cast_precision_loss)]
fn value(count: usize) -> f64 {
    count as f64
}

impl PoolCounter {
    /// The pool started opening a connection.
    fn opened(&self) -> usize {
        let now = increment(&self.open);
        self.peak.fetch_max(now, Ordering::AcqRel);
        now
    }

    /// The pool let go of a connection. Saturating: the driver pairs every close with an
    /// earlier create, but a miscount must not wrap around to a huge number.
    fn closed(&self) -> usize {
        decrement(&self.open)
    }

    /// The current figures, for a pool whose limit is `max_pool_size`.
    pub(crate) fn stats(&self, max_pool_size: u32) -> PoolStats {
        let open = self.open.load(Ordering::Acquire);
        // `opened` raises `open` before `peak`: read `peak` second and never report it lower.
        let peak = self.peak.load(Ordering::Acquire).max(open);
        PoolStats {
            open,
            peak,
            checked_out: self.checked_out.load(Ordering::Acquire),
            waiting: self.waiting.load(Ordering::Acquire),
            max_pool_size,
        }
    }

    /// The driver's CMAP event handler for the client whose pool this is, serving `roles`
    /// (`main,masteradmin`). The driver calls it synchronously, in the order the pool acts, so
    /// a close never precedes its create.
    ///
    /// Besides counting, it writes the pool's events at `debug` (target
    /// `adapters_mongo::events`): pools created, cleared and closed, connections created,
    /// ready and closed (with the reason), check-outs that failed (with the reason); the
    /// check-outs and check-ins of every operation at `trace` only. Servers are named by
    /// address (host and port), which carries no credentials.
    ///
    /// The counts are also published as gauges labelled `roles` (see the module's
    /// documentation), set on each change; a pool of `max_pool_size` per server.
    pub(crate) fn event_handler(
        self: &Arc<Self>,
        roles: Arc<str>,
        max_pool_size: u32,
    ) -> EventHandler<CmapEvent> {
        let counter = Arc::clone(self);
        let gauges = PoolGauges::new(&roles, max_pool_size);
        EventHandler::callback(move |event| {
            let roles = &*roles;
            match event {
                CmapEvent::ConnectionCreated(created) => {
                    gauges.open.set(value(counter.opened()));
                    debug!(roles, server = %created.address, connection = created.connection_id, "pool connection created");
                }
                CmapEvent::ConnectionReady(ready) => {
                    debug!(roles, server = %ready.address, connection = ready.connection_id, duration_ms = ms(ready.duration), "pool connection ready");
                }
                CmapEvent::ConnectionClosed(closed) => {
                    gauges.open.set(value(counter.closed()));
                    debug!(roles, server = %closed.address, connection = closed.connection_id, reason = ?closed.reason, "pool connection closed");
                }
                CmapEvent::ConnectionCheckoutStarted(_) => {
                    gauges.waiting.set(value(increment(&counter.waiting)));
                }
                CmapEvent::ConnectionCheckoutFailed(failed) => {
                    gauges.waiting.set(value(decrement(&counter.waiting)));
                    debug!(roles, server = %failed.address, reason = ?failed.reason, duration_ms = ms(failed.duration), "pool check-out failed");
                }
                CmapEvent::PoolCreated(pool) => {
                    debug!(roles, server = %pool.address, "pool created");
                }
                CmapEvent::PoolReady(pool) => debug!(roles, server = %pool.address, "pool ready"),
                CmapEvent::PoolCleared(pool) => {
                    debug!(roles, server = %pool.address, "pool cleared");
                }
                CmapEvent::PoolClosed(pool) => debug!(roles, server = %pool.address, "pool closed"),
                CmapEvent::ConnectionCheckedOut(out) => {
                    gauges.waiting.set(value(decrement(&counter.waiting)));
                    gauges
                        .checked_out
                        .set(value(increment(&counter.checked_out)));
                    trace!(roles, server = %out.address, connection = out.connection_id, duration_ms = ms(out.duration), "pool connection checked out");
                }
                CmapEvent::ConnectionCheckedIn(back) => {
                    gauges
                        .checked_out
                        .set(value(decrement(&counter.checked_out)));
                    trace!(roles, server = %back.address, connection = back.connection_id, "pool connection checked in");
                }
                _ => {}
            }
        })
    }
}

/// A duration in milliseconds, with the fraction.
fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_most_connections_open_at_once_and_open_never_goes_below_zero() {
        let counter = PoolCounter::default();
        assert_eq!(
            counter.stats(5),
            PoolStats {
                open: 0,
                peak: 0,
                checked_out: 0,
                waiting: 0,
                max_pool_size: 5
            }
        );
        for _ in 0..3 {
            counter.opened();
        }
        counter.closed();
        counter.opened();
        counter.closed();
        counter.closed();
        assert_eq!((counter.stats(5).open, counter.stats(5).peak), (1, 3));

        counter.closed();
        counter.closed();
        assert_eq!((counter.stats(5).open, counter.stats(5).peak), (0, 3));
        counter.opened();
        assert_eq!((counter.stats(5).open, counter.stats(5).peak), (1, 3));
    }

    #[test]
    fn concurrent_opens_and_closes_balance_out() {
        let counter = Arc::new(PoolCounter::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counter.opened();
                        counter.closed();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let stats = counter.stats(50);
        assert_eq!(stats.open, 0);
        assert!((1..=4).contains(&stats.peak), "{stats:?}");
    }
}
