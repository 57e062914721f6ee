//! The service under test, driven as a client drives it.
//!
//! A [`TestService`] is the application wired by a configuration ([`app::service::Application`])
//! and its router (`app::http::router`), called with `oneshot`, without a socket. It mints
//! tokens for each kind of caller, builds requests, and reads every answer as a [`Reply`],
//! whose body is checked on the way in: it is JSON and shows none of [`NEVER_SHOWN`].
//!
//! Built on the test server ([`TestService::on_fresh_databases`], [`TestService::looking_at`]),
//! it also keeps a driver client of the test's own on the two databases the roles use, so that
//! a test sees what was stored ([`stored`], [`count`], [`TestService::snapshot`]), not only the
//! status code. [`TestService::finish`] drops those databases and closes every client.
//!
//! ```no_run
//! # async fn example() {
//! use app::auth::CallerRole;
//! use serde_json::json;
//! use tests::service::{count, TestService};
//!
//! let app = TestService::on_fresh_databases("example").await;
//! let token = app.token(CallerRole::USER);
//! app.create("/branches", &token, json!({ "name": "Lyon", "location": "Forge" })).await;
//! assert_eq!(count(app.main(), "branches").await, 1);
//! app.finish().await;
//! # }
//! ```

mod documented;
mod reply;
mod stored;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adapters_mongo::{ConnectionManager, MongoSettings};
use app::auth::{CallerRole, JwtKeys, TokenPolicy};
use app::config::{AppConfig, StorageSettings};
use app::service::{Application, Backend, Service};
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{request, Method, Request, StatusCode};
use axum::Router;
use mongodb::{Client, Database};
use ports::Role;
use secrecy::SecretString;
use serde_json::{json, Value};
use tower::ServiceExt;

pub use documented::ApiContract;
pub use reply::{field_errors, parts_of, Reply};
pub use stored::{
    all_documents, changes, count, raw_client, same_snapshot, snapshot, stored, FreshDatabases,
    Snapshot,
};

use testkit::server::test_server_uri;

/// The secret the service verifies tokens with: no body, log line or `Debug` output may show
/// it.
pub const SECRET: &str = "test-jwt-Secret-never-shown-4d1f";
/// The password of the URIs that carry one: no body, log line or `Debug` output may show it.
pub const PASSWORD: &str = "S3cretPass";
/// What no response body may contain: the two secrets, and connection strings.
pub const NEVER_SHOWN: [&str; 4] = [SECRET, PASSWORD, "mongodb://", "mongodb+srv://"];
/// How long the tokens minted here live: longer than a long property-test run.
pub const TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Long enough for the test server on a busy 2-core machine, short enough to fail fast.
pub const SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// The service's request timeout unless a test sets its own: far above the database timeouts,
/// so that a 503 comes from the database layer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How long `/health` waits for each role's ping.
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// The subject of [`TestService::token`]: a caller that is no stored account.
const CALLER: &str = "test-caller";

/// The service under test; see the [module documentation](self).
#[derive(Debug)]
pub struct TestService {
    application: Application,
    router: Router,
    /// What `/openapi.json` publishes, which every answer read by [`TestService::call`] keeps.
    contract: ApiContract,
    /// Set when the service was built on the test server.
    databases: Option<Databases>,
}

/// The service's two databases, seen through a client of the test's own.
#[derive(Debug)]
struct Databases {
    client: Client,
    main: Database,
    masteradmin: Database,
}

impl TestService {
    /// The configuration of the service on MongoDB with `settings`: the test [`SECRET`], every
    /// kind on its usual role, the [`REQUEST_TIMEOUT`]. Change a field with
    /// `AppConfig { request_timeout, ..TestService::config(settings) }`.
    pub fn config(settings: MongoSettings) -> AppConfig {
        Self::config_on(StorageSettings::Mongo(Box::new(settings)))
    }

    /// The configuration of the service in memory, as [`TestService::config`] otherwise.
    pub fn memory_config() -> AppConfig {
        Self::config_on(StorageSettings::Memory)
    }

    fn config_on(backend: StorageSettings) -> AppConfig {
        AppConfig {
            request_timeout: REQUEST_TIMEOUT,
            ping_timeout: PING_TIMEOUT,
            ..AppConfig::new(backend).with_jwt_secret(SECRET)
        }
    }

    /// Wires the back office from `config`. This reaches no database, so it succeeds whatever
    /// state the servers are in.
    ///
    /// # Panics
    ///
    /// When the application refuses `config`.
    pub async fn start(config: AppConfig) -> Self {
        Self::start_service(config, Service::back_office()).await
    }

    /// Wires `service` (another team's, with its own models and roles) from `config`, as
    /// [`TestService::start`] wires the back office.
    ///
    /// # Panics
    ///
    /// When the application refuses `config`.
    pub async fn start_service(config: AppConfig, service: Service) -> Self {
        let application = Application::build_service(config, service)
            .await
            .expect("the service starts without reaching any database");
        let router = app::http::router(application.state.clone());
        let contract = ApiContract::new(published_document(&router).await);
        Self {
            application,
            router,
            contract,
            databases: None,
        }
    }

    /// The service on MongoDB with `settings` and the usual [`TestService::config`].
    pub async fn on_mongo(settings: MongoSettings) -> Self {
        Self::start(Self::config(settings)).await
    }

    /// The service on the in-memory backend. The test [`SECRET`] is given, so no demo records
    /// are written.
    pub async fn in_memory() -> Self {
        Self::start(Self::memory_config()).await
    }

    /// `main` and `masteradmin` on two [`FreshDatabases`] of the test server, looking at both.
    pub async fn on_fresh_databases(prefix: &str) -> Self {
        let databases = FreshDatabases::new(prefix);
        let config = Self::config(databases.settings());
        Self::looking_at(config, &databases.main, &databases.masteradmin).await
    }

    /// The service wired by `config`, with a client of the test's own on the databases `main`
    /// and `masteradmin` of the test server: the ones `config` names or, when a role's server
    /// is down, some other.
    ///
    /// # Panics
    ///
    /// When the application refuses `config`, `MONGO_TEST_URI` is unset, or the test server
    /// does not answer.
    pub async fn looking_at(config: AppConfig, main: &str, masteradmin: &str) -> Self {
        let service = Self::start(config).await;
        let client = raw_client(&test_server_uri()).await;
        Self {
            databases: Some(Databases {
                main: client.database(main),
                masteradmin: client.database(masteradmin),
                client,
            }),
            ..service
        }
    }

    /// The wired application.
    pub fn application(&self) -> &Application {
        &self.application
    }

    /// Every (model, role) the service binds, its extra bindings included, sorted: what a
    /// tool over stored data (`app check`, `app indexes`) must cover, every one.
    pub fn bindings(&self) -> Vec<(String, Role)> {
        let mut bindings = self.application.state.registry.bindings();
        bindings.sort();
        bindings
    }

    /// The router every request goes through.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The connection manager of a service on MongoDB.
    ///
    /// # Panics
    ///
    /// When the service runs in memory.
    pub fn manager(&self) -> &ConnectionManager {
        match &self.application.backend {
            Backend::Mongo(manager) => manager,
            Backend::Memory(_) => panic!("the service runs in memory, not on MongoDB"),
        }
    }

    /// A token of `role` for a caller that is no stored account.
    pub fn token(&self, role: CallerRole) -> String {
        self.token_for(CALLER, role)
    }

    /// A token of `role` for the caller `subject` (a stored account's id, say).
    pub fn token_for(&self, subject: &str, role: CallerRole) -> String {
        self.application.keys().issue(subject, role, TOKEN_TTL)
    }

    /// Sends `request` through the router, reads the answer, and checks it against the
    /// service's published contract ([`ApiContract::check`]).
    pub async fn call(&self, request: Request<Body>) -> Reply {
        let (method, path) = (request.method().clone(), request.uri().to_string());
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let reply = Reply::read(response).await;
        self.contract
            .check(&method, &path, reply.status, &reply.body);
        reply
    }

    /// The contract the service publishes at `/openapi.json`.
    pub fn contract(&self) -> &ApiContract {
        &self.contract
    }

    /// Sends a request with a JSON body, if any, and a bearer `token`, if any.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let body = body.map(|value| value.to_string());
        self.send_text(method, path, token, body).await
    }

    /// A request whose body is sent as it is (malformed JSON, say).
    pub async fn send_text(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Reply {
        self.call(request(method, path, token, body)).await
    }

    /// `GET path` with `token`.
    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    /// `POST path` of `body` with `token`.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    /// `PATCH path` of `body` with `token`.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// `DELETE path` with `token`.
    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// `GET /health`, which needs no token.
    pub async fn health(&self) -> Reply {
        self.send(Method::GET, "/health", None, None).await
    }

    /// Creates an entity through the API and returns its id.
    ///
    /// # Panics
    ///
    /// When the answer is not a `201` with an id.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> String {
        let data = self.post(path, token, body).await.data(StatusCode::CREATED);
        data["id"]
            .as_str()
            .expect("a created record has an id")
            .to_owned()
    }

    /// Creates a branch named `name` through the API and returns its id: what most records
    /// of a test belong to, since their branch must exist.
    ///
    /// # Panics
    ///
    /// As [`Self::create`].
    pub async fn create_branch(&self, token: &str, name: &str) -> String {
        let body = serde_json::json!({ "name": name, "location": "Forge" });
        self.create("/branches", token, body).await
    }

    /// The `main` role's database, seen through the test's own client.
    ///
    /// # Panics
    ///
    /// When the service was built without a look at its databases.
    pub fn main(&self) -> &Database {
        &self.databases().main
    }

    /// The `masteradmin` role's database, seen through the test's own client.
    ///
    /// # Panics
    ///
    /// When the service was built without a look at its databases.
    pub fn masteradmin(&self) -> &Database {
        &self.databases().masteradmin
    }

    /// Every document of both databases, keyed `main.collection` and
    /// `masteradmin.collection`.
    ///
    /// # Panics
    ///
    /// When the service was built without a look at its databases.
    pub async fn snapshot(&self) -> Snapshot {
        let (main, masteradmin) = tokio::join!(snapshot(self.main()), snapshot(self.masteradmin()));
        main.into_iter()
            .map(|(c, docs)| (format!("main.{c}"), docs))
            .chain(
                masteradmin
                    .into_iter()
                    .map(|(c, docs)| (format!("masteradmin.{c}"), docs)),
            )
            .collect()
    }

    fn databases(&self) -> &Databases {
        self.databases.as_ref().unwrap_or_else(|| {
            panic!(
                "this service was built without a look at its databases: build it with \
                 TestService::on_fresh_databases or TestService::looking_at"
            )
        })
    }

    /// Drops the databases the test looked at, if any, and closes every client. The service
    /// answers 503 afterwards.
    pub async fn finish(&self) {
        if let Some(databases) = &self.databases {
            // Best effort: a leftover database only costs disk space.
            let _ = databases.main.drop().await;
            let _ = databases.masteradmin.drop().await;
        }
        self.application.backend.shutdown().await;
        if let Some(databases) = &self.databases {
            databases.client.clone().shutdown().await;
        }
    }
}

/// The body of `GET /openapi.json`, which needs no token.
async fn published_document(router: &Router) -> Value {
    let request = request(Method::GET, app::http::openapi::PATH, None, None);
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// A request to `path` with a bearer `token`, if any, and a JSON `body` sent as it is, if any.
///
/// # Panics
///
/// When `path` or `token` cannot be part of a request.
pub fn request(
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    with_json_body(request, body)
}

/// The request of `builder` (other headers, a forged credential…) with a JSON `body` sent as
/// it is, if any.
///
/// # Panics
///
/// When `builder` holds an invalid part.
pub fn with_json_body(builder: request::Builder, body: Option<String>) -> Request<Body> {
    let mut builder = builder;
    let body = match body {
        Some(text) => {
            builder = builder.header(CONTENT_TYPE, "application/json");
            Body::from(text)
        }
        None => Body::empty(),
    };
    builder.body(body).expect("a valid request")
}

/// A master admin token for `subject`, signed with the service's [`SECRET`], issued two hours
/// ago for one hour: it expired an hour ago, and is refused for that alone.
pub fn expired_token(subject: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({
            "sub": subject,
            "role": "master_admin",
            "iat": seconds_since_epoch() - 7200,
            "exp": seconds_since_epoch() - 3600,
        }),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("an HS256 token")
}

/// A token of `role` for `subject`, valid but signed with a secret that is not the service's.
pub fn foreign_token(subject: &str, role: CallerRole) -> String {
    let secret = SecretString::from("another-service-secret-of-32-byte");
    JwtKeys::new(&secret, TokenPolicy::default())
        .expect("a secret of the minimum length")
        .issue(subject, role, TOKEN_TTL)
}

/// Now, in seconds since 1970, as a token's `exp` counts.
pub fn seconds_since_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// `text` cut to its first `max` characters, for a failure message.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text.to_owned(),
    }
}
