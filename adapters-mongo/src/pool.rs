//! How many connections a client's pool holds, counted from the driver's connection-pool
//! (CMAP) monitoring events.
//!
//! The driver announces every pooled connection twice: `ConnectionCreated` when the pool starts
//! opening it (it then counts against `maxPoolSize`), and `ConnectionClosed` when the pool lets
//! go of it, including when it could not be established. Counting the first minus the second
//! gives what the pool holds, which is what `maxPoolSize` bounds. The monitor's own
//! connections (SDAM heartbeats) are not pooled and not counted.
//!
//! The same events are written as `debug` lines (target `adapters_mongo::events`) naming the
//! roles the client serves: what an operator turns on to see a pool fill up or drop
//! connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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
}

impl PoolCounter {
    /// The pool started opening a connection.
    fn opened(&self) {
        let now = self.open.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(now, Ordering::AcqRel);
    }

    /// The pool let go of a connection. Saturating: the driver pairs every close with an
    /// earlier create, but a miscount must not wrap around to a huge number.
    fn closed(&self) {
        let _ = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    /// The current figures, for a pool whose limit is `max_pool_size`.
    pub(crate) fn stats(&self, max_pool_size: u32) -> PoolStats {
        let open = self.open.load(Ordering::Acquire);
        // `opened` raises `open` before `peak`: read `peak` second and never report it lower.
        let peak = self.peak.load(Ordering::Acquire).max(open);
        PoolStats {
            open,
            peak,
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
    pub(crate) fn event_handler(self: &Arc<Self>, roles: Arc<str>) -> EventHandler<CmapEvent> {
        let counter = Arc::clone(self);
        EventHandler::callback(move |event| {
            let roles = &*roles;
            match event {
                CmapEvent::ConnectionCreated(created) => {
                    counter.opened();
                    debug!(roles, server = %created.address, connection = created.connection_id, "pool connection created");
                }
                CmapEvent::ConnectionReady(ready) => {
                    debug!(roles, server = %ready.address, connection = ready.connection_id, duration_ms = ms(ready.duration), "pool connection ready");
                }
                CmapEvent::ConnectionClosed(closed) => {
                    counter.closed();
                    debug!(roles, server = %closed.address, connection = closed.connection_id, reason = ?closed.reason, "pool connection closed");
                }
                CmapEvent::ConnectionCheckoutFailed(failed) => {
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
                    trace!(roles, server = %out.address, connection = out.connection_id, duration_ms = ms(out.duration), "pool connection checked out");
                }
                CmapEvent::ConnectionCheckedIn(back) => {
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
