//! The measured rounds: in each, every contender serves each route in turn, the first one
//! rotating from round to round, so that a slow drift (server files growing, other work on
//! the machine) does not always favour the same side.

use crate::app_process::AppProcess;
use crate::load::{drive, HttpTarget};
use crate::proc_info::cpu_time;
use crate::report::{Measured, RouteComparison};
use crate::workload::{Contender, Route, Workload, FLOOR_PATH};

/// A server under test over HTTP: its process and how to reach it.
pub type Served = (AppProcess, HttpTarget);

/// What the rounds measured.
pub struct Rounds {
    /// `GET /branches/{id}`, then `GET /dashboard`.
    pub routes: Vec<RouteComparison>,
    /// The app's HTTP floor (`GET /health/live`), once per round.
    pub floor: Measured,
}

/// The servers under test over HTTP besides the app: each measured when given.
pub struct Others<'a> {
    pub node: Option<&'a mut Served>,
    pub peer: Option<&'a mut Served>,
    pub quiet: Option<&'a mut Served>,
    pub unlogged: Option<&'a mut Served>,
}

/// `rounds` rounds of both routes by the app, the raw driver and, if given, Node.js and the
/// hand-written peer, then the app's HTTP floor. Fails if a server under test has died.
pub async fn run_rounds(
    rounds: usize,
    work: &Workload,
    app: &mut Served,
    others: Others<'_>,
) -> Result<Rounds, String> {
    let Others {
        mut node,
        mut peer,
        mut quiet,
        mut unlogged,
    } = others;
    let mut routes = Route::ALL.map(|r| RouteComparison::new(r.label(), r.driver_label()));
    let mut floor = Measured::default();
    let mut contenders = vec![Contender::App, Contender::Driver];
    if node.is_some() {
        contenders.push(Contender::Node);
    }
    if peer.is_some() {
        contenders.push(Contender::Peer);
    }
    if quiet.is_some() {
        contenders.push(Contender::AppQuiet);
    }
    if unlogged.is_some() {
        contenders.push(Contender::AppUnlogged);
    }
    for round in 0..rounds {
        let mut order = contenders.clone();
        order.rotate_left(round % contenders.len());
        for (route, comparison) in Route::ALL.into_iter().zip(&mut routes) {
            for &contender in &order {
                crate::progress(&format!(
                    "round {}/{rounds}: {}, {}",
                    round + 1,
                    route.label(),
                    contender.name()
                ));
                let served = match contender {
                    Contender::App => Some(&*app),
                    Contender::Node => node.as_deref(),
                    Contender::Peer => peer.as_deref(),
                    Contender::AppQuiet => quiet.as_deref(),
                    Contender::AppUnlogged => unlogged.as_deref(),
                    Contender::Driver => None,
                };
                let result = match served {
                    Some((process, target)) => {
                        let pid = process.pid();
                        let workers = work.http_workers(route, target);
                        drive(work.shape, workers, move || cpu_time(pid)).await
                    }
                    None => work.drive_driver(route, work.shape).await,
                };
                let side = match contender {
                    Contender::App => &mut comparison.app,
                    Contender::Driver => &mut comparison.driver,
                    Contender::Node => &mut comparison.node,
                    Contender::Peer => &mut comparison.peer,
                    Contender::AppQuiet => &mut comparison.quiet,
                    Contender::AppUnlogged => &mut comparison.unlogged,
                };
                side.add(result);
            }
        }
        crate::progress(&format!(
            "round {}/{rounds}: `GET {FLOOR_PATH}` (HTTP floor), app",
            round + 1
        ));
        let (process, target) = &*app;
        let pid = process.pid();
        floor.add(
            drive(work.shape, work.floor_workers(target), move || {
                cpu_time(pid)
            })
            .await,
        );
        app.0.check_alive()?;
        let others = [
            node.as_deref_mut(),
            peer.as_deref_mut(),
            quiet.as_deref_mut(),
            unlogged.as_deref_mut(),
        ];
        for (process, _) in others.into_iter().flatten() {
            process.check_alive()?;
        }
    }
    Ok(Rounds {
        routes: routes.into(),
        floor,
    })
}
