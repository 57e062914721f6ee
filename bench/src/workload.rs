//! What is measured: the two routes, who serves them, and the same reads for every contender.

use mongodb::bson::oid::ObjectId;
use mongodb::bson::Document;
use mongodb::Collection;

use crate::load::{drive, CountDashboard, FindBranch, HttpGet, HttpTarget, LoadResult, LoadShape};
use crate::proc_info::own_cpu_time;

/// The route of the HTTP floor: answered by the app without any I/O.
pub const FLOOR_PATH: &str = "/health/live";

/// The two routes measured.
#[derive(Debug, Clone, Copy)]
pub enum Route {
    Branch,
    Dashboard,
}

impl Route {
    /// Both, in the report's order.
    pub const ALL: [Route; 2] = [Route::Branch, Route::Dashboard];

    pub fn label(self) -> &'static str {
        match self {
            Route::Branch => "`GET /branches/{id}`",
            Route::Dashboard => "`GET /dashboard`",
        }
    }

    pub fn driver_label(self) -> &'static str {
        match self {
            Route::Branch => "`find_one({_id})` on `branches`",
            Route::Dashboard => "3 × `count_documents({})`, concurrently, 2 databases",
        }
    }
}

/// Who serves the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// `app serve`, over HTTP.
    App,
    /// The `mongodb` driver, in this process.
    Driver,
    /// The Node.js + Mongoose reference server, over HTTP.
    Node,
    /// The hand-written peer (`src/bin/peer.rs`), over HTTP.
    Peer,
    /// `app serve` with `RUST_LOG=warn` and no metrics port, over HTTP.
    AppQuiet,
    /// `app serve` with `RUST_LOG=warn` and a metrics port: the defaults without the request
    /// line, over HTTP.
    AppUnlogged,
}

impl Contender {
    pub fn name(self) -> &'static str {
        match self {
            Contender::App => "app",
            Contender::Driver => "raw driver",
            Contender::Node => "Node.js + Mongoose",
            Contender::Peer => "hand-written peer",
            Contender::AppQuiet => "app, RUST_LOG=warn, no metrics",
            Contender::AppUnlogged => "app, RUST_LOG=warn, metrics",
        }
    }
}

/// What every contender is asked to do: the same reads, the same ids.
pub struct Workload {
    pub shape: LoadShape,
    pub branch_ids: Vec<ObjectId>,
    pub branches: Collection<Document>,
    pub dashboard: CountDashboard,
}

impl Workload {
    /// One HTTP worker per request in flight, each on its own keep-alive connection.
    pub fn http_workers(&self, route: Route, target: &HttpTarget) -> Vec<HttpGet> {
        let paths: Vec<String> = match route {
            Route::Branch => self
                .branch_ids
                .iter()
                .map(|id| format!("/branches/{}", id.to_hex()))
                .collect(),
            Route::Dashboard => vec!["/dashboard".to_owned()],
        };
        self.workers_on(target, paths)
    }

    /// The HTTP floor's workers: `GET /health/live` touches no database, but passes through
    /// the same server, request id, request log and metrics as every route, so its CPU is what
    /// the app spends per request before any handler runs.
    pub fn floor_workers(&self, target: &HttpTarget) -> Vec<HttpGet> {
        self.workers_on(target, vec![FLOOR_PATH.to_owned()])
    }

    /// One worker per request in flight, each starting at its own place in `paths`.
    fn workers_on(&self, target: &HttpTarget, paths: Vec<String>) -> Vec<HttpGet> {
        (0..self.shape.concurrency)
            .map(|i| HttpGet::new(target.clone(), paths.clone(), i))
            .collect()
    }

    /// The same reads with the driver directly, in this process, under `shape`.
    pub async fn drive_driver(&self, route: Route, shape: LoadShape) -> LoadResult {
        match route {
            Route::Branch => {
                let workers = (0..shape.concurrency)
                    .map(|i| FindBranch::new(self.branches.clone(), self.branch_ids.clone(), i))
                    .collect();
                drive(shape, workers, own_cpu_time).await
            }
            Route::Dashboard => {
                let workers = vec![self.dashboard.clone(); shape.concurrency];
                drive(shape, workers, own_cpu_time).await
            }
        }
    }
}
