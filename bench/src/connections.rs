//! Counting a process's connections to the server while it serves a load, every 100 ms.
//! Reading `/proc/PID/net/tcp` costs CPU, so this runs in loads of its own, never in a
//! measured window.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::app_process::clients_created;
use crate::load::{drive, HttpGet, HttpTarget, LoadResult, LoadShape};
use crate::proc_info::{established_to, peak_rss};
use crate::report::Sharing;
use crate::rounds::Served;
use crate::workload::{Route, Workload};

/// The shape of a counting load: 1 s of warm-up, 3 s sampled.
pub fn counting_shape(shape: LoadShape) -> LoadShape {
    LoadShape {
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(3),
        ..shape
    }
}

/// What was read once the rounds were over.
pub struct Counted {
    /// The app's clients and connections to `ports`.
    pub one_uri: Sharing,
    /// The raw driver's (this process's) connections, under the same load.
    pub driver_peak_connections: usize,
    /// The app's `VmHWM`, after all of its load.
    pub app_peak_rss: Option<u64>,
    /// The Node.js reference's connections and `VmHWM`, when it ran.
    pub node: Option<(usize, Option<u64>)>,
}

/// Connections to `ports` under `/dashboard` load, for the app, the raw driver and the
/// Node.js reference in turn, and the servers' peak RSS once all their load is done; then
/// stops the servers. Fails if one of them has died.
pub async fn count_after_rounds(
    work: &Workload,
    ports: &[u16],
    app: Served,
    node: Option<Served>,
) -> Result<Counted, String> {
    let short = counting_shape(work.shape);
    let (mut app, app_target) = app;
    let app_load = drive(
        short,
        work.http_workers(Route::Dashboard, &app_target),
        || None,
    );
    let app_connections = sampled(app.pid(), ports, app_load).await;
    let driver_load = work.drive_driver(Route::Dashboard, short);
    let driver_connections = sampled(std::process::id(), ports, driver_load).await;
    app.check_alive()?;
    let counted_app = (clients_created(&app), peak_rss(app.pid()));
    let node = match node {
        Some((mut process, target)) => {
            let load = drive(short, work.http_workers(Route::Dashboard, &target), || None);
            let connections = sampled(process.pid(), ports, load).await;
            process.check_alive()?;
            let rss = peak_rss(process.pid());
            process.stop();
            Some((connections.iter().sum(), rss))
        }
        None => None,
    };
    app.stop();
    Ok(Counted {
        one_uri: Sharing {
            clients: counted_app.0,
            peak_connections: app_connections,
            ports: ports.to_vec(),
        },
        driver_peak_connections: driver_connections.iter().sum(),
        app_peak_rss: counted_app.1,
        node,
    })
}

/// Runs `load` while sampling `pid`'s ESTABLISHED connections to `ports` every 100 ms; the
/// sample with the most connections in all. A load that fails is reported, not fatal: the
/// count is still what the process held.
pub async fn sampled(
    pid: u32,
    ports: &[u16],
    load: impl Future<Output = LoadResult>,
) -> Vec<usize> {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let owned_ports = ports.to_vec();
    let sampler = tokio::spawn(async move {
        let mut peak = vec![0; owned_ports.len()];
        while !flag.load(Ordering::Relaxed) {
            peak = max_total(peak, established_to(pid, &owned_ports));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    let result = load.await;
    done.store(true, Ordering::Relaxed);
    if let Some(error) = result.first_error {
        crate::progress(&format!(
            "{} errors during a connection count; first: {error}",
            result.errors
        ));
    }
    sampler.await.unwrap_or_default()
}

/// One `GET /dashboard` worker per request in flight.
pub fn dashboard_gets(target: &HttpTarget, shape: LoadShape) -> Vec<HttpGet> {
    let paths = vec!["/dashboard".to_owned()];
    (0..shape.concurrency)
        .map(|i| HttpGet::new(target.clone(), paths.clone(), i))
        .collect()
}

/// Of two per-port samples, the one with more connections in all.
fn max_total(a: Vec<usize>, b: Vec<usize>) -> Vec<usize> {
    match b.iter().sum::<usize>() > a.iter().sum::<usize>() {
        true => b,
        false => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_with_more_connections_in_all_is_kept_whole() {
        assert_eq!(max_total(vec![3, 0], vec![1, 1]), vec![3, 0]);
        assert_eq!(max_total(vec![1, 1], vec![0, 3]), vec![0, 3]);
    }
}
