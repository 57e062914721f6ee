//! `GET /health`, `/health/live` and `/health/ready`: whether the process and its databases are
//! up, for load balancers, orchestrators and operators.
//!
//! These routes need no credentials, so anyone can call them at any rate. The databases are
//! therefore pinged by a [`HealthCache`], not by the requests: a check is reused while it is
//! younger than [`HEALTH_INTERVAL`], one request at a time runs the next one (the others wait
//! for it and share it), and a check pings each database client once, however many roles share
//! it. Whatever the request rate, each client is pinged at most once per interval.
//!
//! - `/health/live`: the process answers. No I/O, always `200`.
//! - `/health/ready` and `/health` without a master admin's token: the cached check, `200` when
//!   every role is up, `503` otherwise; per role its state, `up`, and for a role that is down a
//!   sentence naming its database (never a host or a cause: those go to the log).
//! - `/health` with a master admin's token: the same check with each role's ping latency
//!   (`pingMs`) and the check's age (`checkedMsAgo`). `?fresh=true` runs a new check instead
//!   of reusing one; it is not rate-limited beyond sharing a check already under way, since
//!   master admins are trusted with the databases themselves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Extension, State};
use axum::http::{StatusCode, Uri};
use axum::Json;
use futures::future::join_all;
use ports::{ConnectionMonitor, ConnectionState, Role};
use registry::Registry;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::{AppState, Data};
use crate::auth::{CallerRole, Identity};

/// How long a check of the databases is reused: the shortest time between two pings of one
/// database client by unauthenticated callers.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(1);

/// The health routes, sharing one [`HealthCache`] built for `state`'s registry.
pub(super) fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let cache = HealthCache::new(&state.registry, state.ping_timeout, HEALTH_INTERVAL);
    OpenApiRouter::default()
        .routes(routes!(health))
        .routes(routes!(live))
        .routes(routes!(ready))
        .layer(Extension(Arc::new(cache)))
}

/// `GET /health`: the cached check; with a master admin's token, with latencies, and a new
/// check on `?fresh=true`. A missing or invalid token is no error here, only less detail:
/// load balancers send none.
#[utoipa::path(
    get, path = "/health", tag = "health", operation_id = "health.check",
    summary = "Every role's database, from a check at most a second old",
    params(("fresh" = Option<bool>, Query,
        description = "With a master admin's token: check now instead of reading the cache")),
    responses(
        (status = 200, description = "Every role is up", body = Data<Health>),
        (status = 400, description = "`fresh` is not true or false, or given twice", body = ErrorBody),
        (status = 503, description = "A role is down", body = Data<Health>),
    )
)]
async fn health(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<HealthCache>>,
    caller: Result<Identity, ApiError>,
    uri: Uri,
) -> Result<(StatusCode, Json<Data<Health>>), ApiError> {
    let detailed = matches!(&caller, Ok(identity) if identity.role() == CallerRole::MASTER_ADMIN);
    let fresh = asks_fresh(uri.query())? && detailed;
    let (status, Json(mut body)) = cache.check(fresh).await.answer(detailed);
    if detailed {
        body.data.indexes_refused = state
            .registry
            .refused_indexes()
            .into_iter()
            .map(|(model, role, refusal)| IndexRefusalView {
                model,
                role: role.as_str(),
                reason: refusal.reason,
            })
            .collect();
    }
    Ok((status, Json(body)))
}

/// `GET /health/live`: the process is up and serving; touches nothing else.
#[utoipa::path(
    get, path = "/health/live", tag = "health", operation_id = "health.live",
    summary = "The process serves; no database is asked",
    responses((status = 200, description = "Serving", body = Data<Live>))
)]
async fn live() -> Json<Data<Live>> {
    Data::json(Live { status: "ok" })
}

/// `GET /health/ready`: every role reachable, from the cached check.
#[utoipa::path(
    get, path = "/health/ready", tag = "health", operation_id = "health.ready",
    summary = "Every role's database reachable, for a load balancer",
    responses(
        (status = 200, description = "Ready", body = Data<Health>),
        (status = 503, description = "A role is down", body = Data<Health>),
    )
)]
async fn ready(Extension(cache): Extension<Arc<HealthCache>>) -> (StatusCode, Json<Data<Health>>) {
    cache.check(false).await.answer(false)
}

/// Whether the query says `fresh=true`. Other parameters are ignored, as probes add their
/// own; `fresh` itself is a boolean, as documented, given once.
fn asks_fresh(query: Option<&str>) -> Result<bool, ApiError> {
    let values: Vec<&str> = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter_map(|pair| match pair.split_once('=') {
            Some(("fresh", value)) => Some(value),
            None if pair == "fresh" => Some(""),
            _ => None,
        })
        .collect();
    match values.as_slice() {
        [] | ["false"] => Ok(false),
        ["true"] => Ok(true),
        _ => Err(ApiError::BadRequest(
            "fresh: must be true or false, given once".to_owned(),
        )),
    }
}

/// The body of `GET /health/live`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Live {
    status: &'static str,
}

/// The body of `GET /health` and `GET /health/ready`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok` when every role is up, `degraded` otherwise.
    status: &'static str,
    roles: BTreeMap<&'static str, RoleHealth>,
    /// For master admins: how long ago the check finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    checked_ms_ago: Option<u64>,
    /// For master admins: the models whose declared indexes the server refused, so that the
    /// database does not enforce their unique fields (`app check` says more).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    indexes_refused: Vec<IndexRefusalView>,
}

/// A model whose declared indexes the server refused: a [`ports::IndexRefusal`] as `/health`
/// shows it, named by its model and role, its indexes left to `app check`. Published under
/// its former name, so that `/openapi.json` does not change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IndexRefusal)]
pub struct IndexRefusalView {
    model: String,
    role: &'static str,
    reason: String,
}

/// The health of one role's database.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleHealth {
    state: &'static str,
    up: bool,
    /// For master admins: the ping's round trip.
    #[serde(skip_serializing_if = "Option::is_none")]
    ping_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// How a role's ping went.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Answered(Duration),
    Failed,
    NoAnswerInTime,
}

/// One role in a check.
#[derive(Debug)]
struct RoleCheck {
    role: Role,
    state: ConnectionState,
    outcome: Outcome,
}

impl RoleCheck {
    fn up(&self) -> bool {
        self.state == ConnectionState::Connected && matches!(self.outcome, Outcome::Answered(_))
    }

    fn report(&self, detailed: bool) -> RoleHealth {
        let role = self.role;
        let (ping_ms, error) = match self.outcome {
            Outcome::Answered(latency) => (Some(latency.as_secs_f64() * 1000.0), None),
            Outcome::Failed => (
                None,
                Some(format!("the {role} database did not answer the ping")),
            ),
            Outcome::NoAnswerInTime => (
                None,
                Some(format!("no answer from the {role} database in time")),
            ),
        };
        RoleHealth {
            state: self.state.as_str(),
            up: self.up(),
            ping_ms: ping_ms.filter(|_| detailed),
            error,
        }
    }
}

/// One check of every role, as it is cached.
#[derive(Debug)]
struct Check {
    started: Instant,
    finished: Instant,
    roles: Vec<RoleCheck>,
}

impl Check {
    /// `200` when every role is up, else `503`, with the same body; latencies only when
    /// `detailed`.
    fn answer(&self, detailed: bool) -> (StatusCode, Json<Data<Health>>) {
        let healthy = self.roles.iter().all(RoleCheck::up);
        let body = Health {
            status: if healthy { "ok" } else { "degraded" },
            roles: self
                .roles
                .iter()
                .map(|check| (check.role.as_str(), check.report(detailed)))
                .collect(),
            checked_ms_ago: detailed
                .then(|| u64::try_from(self.finished.elapsed().as_millis()).unwrap_or(u64::MAX)),
            indexes_refused: Vec::new(),
        };
        let status = match healthy {
            true => StatusCode::OK,
            false => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, Data::json(body))
    }
}

/// The last check of the databases and the right to run the next one; see the
/// [module documentation](self).
///
/// Roles on the same MongoDB deployment with the same credentials share one driver client
/// ([`ConnectionMonitor::client_of`]), and one ping tells as much about all of them as one
/// each: a check pings one role per client, all clients at once.
pub struct HealthCache {
    monitor: Arc<dyn ConnectionMonitor>,
    ping_timeout: Duration,
    interval: Duration,
    latest: Mutex<Option<Arc<Check>>>,
    /// Held while a check runs: one at a time, the others wait and share it.
    running: tokio::sync::Mutex<()>,
}

impl HealthCache {
    /// A cache of `registry`'s roles, pinging each client with `ping_timeout`, reusing a check
    /// for `interval`. Does no I/O.
    pub fn new(registry: &Registry, ping_timeout: Duration, interval: Duration) -> Self {
        Self::of(Arc::clone(registry.monitor()), ping_timeout, interval)
    }

    fn of(monitor: Arc<dyn ConnectionMonitor>, ping_timeout: Duration, interval: Duration) -> Self {
        Self {
            monitor,
            ping_timeout,
            interval,
            latest: Mutex::new(None),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// The last check if it is younger than the interval, else a new one. With `fresh`, a
    /// check begun after this call, whatever the interval.
    async fn check(&self, fresh: bool) -> Arc<Check> {
        let asked = Instant::now();
        let usable = |check: &Check| match fresh {
            true => check.started >= asked,
            false => check.finished.elapsed() < self.interval,
        };
        if let Some(check) = self.latest().filter(|check| usable(check)) {
            return check;
        }
        let _running = self.running.lock().await;
        // The check that held the lock may be the one this call waited for.
        if let Some(check) = self.latest().filter(|check| usable(check)) {
            return check;
        }
        let check = Arc::new(self.run().await);
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&check));
        check
    }

    fn latest(&self) -> Option<Arc<Check>> {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Pings the first role of each shared connection, all at once; every role of a
    /// connection reports its ping.
    async fn run(&self) -> Check {
        let started = Instant::now();
        let roles = self.monitor.roles();
        let mut connections: Vec<(Role, Vec<Role>)> = Vec::new();
        for &role in &roles {
            let shared = connections
                .iter_mut()
                .find(|(first, _)| self.monitor.shares_connection(*first, role));
            match shared {
                Some((_, served)) => served.push(role),
                None => connections.push((role, vec![role])),
            }
        }
        let answers = join_all(connections.iter().map(|(first, served)| {
            // The ping stands for every role of its connection: its metrics name them all.
            let served: Vec<&str> = served.iter().map(|role| role.as_str()).collect();
            self.ping(*first, served.join(","))
        }))
        .await;
        let mut outcomes: BTreeMap<Role, Outcome> = BTreeMap::new();
        for ((_, served), outcome) in connections.iter().zip(answers) {
            outcomes.extend(served.iter().map(|role| (*role, outcome)));
        }
        let roles = roles
            .into_iter()
            .map(|role| RoleCheck {
                role,
                state: self.monitor.state(role),
                outcome: outcomes[&role],
            })
            .collect();
        Check {
            started,
            finished: Instant::now(),
            roles,
        }
    }

    /// Pings `role`, recording the round trip as `mongodb_ping_duration_seconds` and a failure
    /// as `mongodb_ping_failures_total`, labelled with the `roles` of the client pinged.
    async fn ping(&self, role: Role, roles: String) -> Outcome {
        let outcome = self.ping_once(role).await;
        let failed = |reason: &'static str| {
            let roles = roles.clone();
            metrics::counter!("mongodb_ping_failures_total", "roles" => roles, "reason" => reason)
                .increment(1);
        };
        match outcome {
            Outcome::Answered(latency) => {
                metrics::histogram!("mongodb_ping_duration_seconds", "roles" => roles.clone())
                    .record(latency.as_secs_f64());
            }
            Outcome::Failed => failed("failed"),
            Outcome::NoAnswerInTime => failed("timeout"),
        }
        outcome
    }

    async fn ping_once(&self, role: Role) -> Outcome {
        match tokio::time::timeout(self.ping_timeout, self.monitor.ping(role)).await {
            Ok(Ok(latency)) => Outcome::Answered(latency),
            Ok(Err(failure)) => {
                // Unauthenticated routes: the cause (hosts, topology) goes to the log only.
                tracing::warn!(%role, error = %failure, "health ping failed");
                Outcome::Failed
            }
            Err(_) => {
                tracing::warn!(%role, timeout_ms = self.ping_timeout.as_millis(), "health ping timed out");
                Outcome::NoAnswerInTime
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use async_trait::async_trait;
    use ports::RepositoryError;
    use serde_json::Value;

    use super::*;

    const BILLING: Role = Role::named("billing");

    /// Roles on database clients: `client_of[i]` is the client of role `i` (the test's own
    /// numbering); each client counts
    /// the pings that reach it, as the driver's events do, and none reach a server that is down.
    struct Databases {
        roles: Vec<Role>,
        client_of: Vec<usize>,
        pings: Vec<AtomicU64>,
        reachable: AtomicBool,
    }

    impl Databases {
        fn new(roles: &[(Role, usize)]) -> Arc<Self> {
            let clients = roles.iter().map(|(_, c)| c + 1).max().unwrap_or(0);
            Arc::new(Self {
                roles: roles.iter().map(|(role, _)| *role).collect(),
                client_of: roles.iter().map(|(_, client)| *client).collect(),
                pings: (0..clients).map(|_| AtomicU64::new(0)).collect(),
                reachable: AtomicBool::new(true),
            })
        }

        fn client(&self, role: Role) -> usize {
            let index = self.roles.iter().position(|r| *r == role);
            self.client_of[index.expect("a role of the test")]
        }

        fn pings_of_client(&self, client: usize) -> u64 {
            self.pings[client].load(Ordering::Acquire)
        }

        fn cache(self: &Arc<Self>, interval: Duration) -> HealthCache {
            let monitor = Arc::clone(self) as Arc<dyn ConnectionMonitor>;
            HealthCache::of(monitor, Duration::from_secs(1), interval)
        }
    }

    #[async_trait]
    impl ConnectionMonitor for Databases {
        fn roles(&self) -> Vec<Role> {
            self.roles.clone()
        }

        fn state(&self, _role: Role) -> ConnectionState {
            match self.reachable.load(Ordering::Acquire) {
                true => ConnectionState::Connected,
                false => ConnectionState::Disconnected,
            }
        }

        fn shares_connection(&self, role: Role, other: Role) -> bool {
            self.client(role) == self.client(other)
        }

        async fn ping(&self, role: Role) -> Result<Duration, RepositoryError> {
            if !self.reachable.load(Ordering::Acquire) {
                return Err(RepositoryError::Unavailable {
                    role,
                    reason: "no server".into(),
                });
            }
            self.pings[self.client(role)].fetch_add(1, Ordering::AcqRel);
            Ok(Duration::from_micros(1500))
        }
    }

    fn body(answer: (StatusCode, Json<Data<Health>>)) -> (StatusCode, Value) {
        let (status, Json(Data { data })) = answer;
        (status, serde_json::to_value(data).unwrap_or_default())
    }

    #[tokio::test]
    async fn within_an_interval_each_client_is_pinged_once_however_many_roles_and_calls() {
        let databases = Databases::new(&[(Role::MAIN, 0), (Role::MASTERADMIN, 0), (BILLING, 1)]);
        let cache = databases.cache(Duration::from_millis(300));

        let answers = join_all((0..50).map(|_| cache.check(false))).await;
        assert!(answers
            .iter()
            .all(|check| check.roles.iter().all(RoleCheck::up)));
        assert_eq!(
            (databases.pings_of_client(0), databases.pings_of_client(1)),
            (1, 1)
        );

        tokio::time::sleep(Duration::from_millis(350)).await;
        for _ in 0..50 {
            cache.check(false).await;
        }
        assert_eq!(
            (databases.pings_of_client(0), databases.pings_of_client(1)),
            (2, 2),
            "one ping a client per check"
        );
    }

    #[tokio::test]
    async fn a_server_that_is_down_is_reported_down_then_up_once_it_answers() {
        let databases = Databases::new(&[(Role::MAIN, 0), (Role::MASTERADMIN, 0)]);
        databases.reachable.store(false, Ordering::Release);
        let cache = databases.cache(Duration::from_millis(100));

        let (status, down) = body(cache.check(false).await.answer(false));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down["status"], "degraded", "{down}");
        for role in ["main", "masteradmin"] {
            assert_eq!(down["roles"][role]["up"], false, "{down}");
            let error = down["roles"][role]["error"].as_str().unwrap_or_default();
            assert!(error.contains(&format!("the {role} database")), "{down}");
        }

        databases.reachable.store(true, Ordering::Release);
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (status, up) = body(cache.check(false).await.answer(false));
        assert_eq!(status, StatusCode::OK, "{up}");
        assert_eq!(
            databases.pings_of_client(0),
            1,
            "masteradmin shares main's ping"
        );
    }

    #[tokio::test]
    async fn a_fresh_check_pings_again_and_only_the_detailed_answer_shows_latency() {
        let databases = Databases::new(&[(Role::MAIN, 0), (Role::MASTERADMIN, 0)]);
        let cache = databases.cache(Duration::from_secs(60));
        let (_, anonymous) = body(cache.check(false).await.answer(false));
        assert!(
            anonymous["roles"]["main"].get("pingMs").is_none(),
            "{anonymous}"
        );
        assert!(anonymous.get("checkedMsAgo").is_none(), "{anonymous}");
        assert_eq!(anonymous["roles"]["main"]["state"], "connected");

        let (status, detailed) = body(cache.check(true).await.answer(true));
        assert_eq!(status, StatusCode::OK);
        assert_eq!(databases.pings_of_client(0), 2);
        assert_eq!(
            detailed["roles"]["masteradmin"]["pingMs"], 1.5,
            "{detailed}"
        );
        assert!(detailed["checkedMsAgo"].is_u64(), "{detailed}");
    }

    #[test]
    fn fresh_is_a_boolean_read_among_other_query_pairs_and_nothing_else_asks_for_it() {
        assert_eq!(asks_fresh(Some("x=%00&fresh=true")).ok(), Some(true));
        assert_eq!(asks_fresh(Some("fresh=false")).ok(), Some(false));
        assert_eq!(asks_fresh(Some("refresh=true")).ok(), Some(false));
        assert_eq!(asks_fresh(None).ok(), Some(false));
        for refused in ["fresh", "fresh=1", "fresh=INF", "fresh=true&fresh=true"] {
            assert!(asks_fresh(Some(refused)).is_err(), "{refused}");
        }
    }
}
