//! Start-up configuration: command-line flags, each also read from an environment variable
//! (and from a `.env` file, loaded before parsing).

use std::net::IpAddr;
use std::time::Duration;

use adapters_mongo::{ConfigError, MongoSettings};
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::auth::{TokenPolicy, DEFAULT_MAX_TOKEN_TTL};
use crate::http::cors::{CorsConfig, InvalidOrigin};
use crate::http::idempotency::{IdempotencyConfig, DEFAULT_MAX_KEYS, DEFAULT_WINDOW};
use crate::http::serve::{
    ServeLimits, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_SHUTDOWN_GRACE,
};
use crate::mongo_options::{MongoOptions, PER_ROLE_HELP};
use crate::telemetry::LogFormat;

/// The back-office service.
#[derive(Debug, Parser)]
#[command(name = "app", version, about, after_long_help = PER_ROLE_HELP)]
pub struct Cli {
    /// What to run; without one, `lambda` inside AWS Lambda and `serve` elsewhere.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub settings: Settings,
}

/// The entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the HTTP API on `PORT`.
    Serve,
    /// Serve the same API to AWS Lambda through API Gateway.
    Lambda,
    /// Connect every role, print its state and ping latency, fail if any is down.
    Health,
    /// Read every document of every bound collection (MongoDB only) and report those that
    /// cannot be read and those today's rules would refuse; fail if any cannot be read.
    Check {
        /// Only the collections bound on this role.
        #[arg(long, value_parser = ports::Role::new)]
        role: Option<ports::Role>,
    },
    /// Compare the indexes of every bound collection (MongoDB only) with those the models
    /// declare (`diff`), or create the missing ones (`sync`, and drop the undeclared ones with
    /// `--drop-extra`); fail if anything still differs. See `app::indexes`.
    Indexes {
        /// Only the collections bound on this role.
        #[arg(long, value_parser = ports::Role::new, global = true)]
        role: Option<ports::Role>,
        /// What to do.
        #[command(subcommand)]
        mode: crate::indexes::IndexesMode,
    },
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Port of `app serve`.
    #[arg(long, env = "PORT", default_value_t = 3000, global = true)]
    pub port: u16,

    /// Address `app serve` listens on (`127.0.0.1`, `::1`, an interface's address). Unset: every
    /// interface, IPv6 and IPv4 alike (IPv4 only on a host without IPv6).
    #[arg(long, env = "BIND_ADDRESS", global = true)]
    pub bind_address: Option<IpAddr>,

    /// Port of the Prometheus metrics listener of `app serve` (`GET /metrics`); unset: no
    /// metrics are served (nor kept). Keep it reachable from the scraper's network only: it
    /// needs no credentials.
    #[arg(long, env = "METRICS_PORT", global = true)]
    pub metrics_port: Option<u16>,

    /// Address the metrics listener listens on; unset: every interface, as `BIND_ADDRESS`.
    #[arg(long, env = "METRICS_BIND_ADDRESS", global = true)]
    pub metrics_bind_address: Option<IpAddr>,

    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t, global = true)]
    pub log_format: LogFormat,

    /// Which storage to run on. Unset: MongoDB when `MONGO_URI` is set; otherwise memory for
    /// `serve` and `health`, and a start-up error for `lambda`, whose memory would be lost
    /// silently with every execution environment.
    #[arg(long, env = "APP_BACKEND", value_enum, global = true)]
    pub backend: Option<StorageChoice>,

    /// MongoDB URI of the `main` role, with the database as its path. Without it the service
    /// runs on the in-memory backend (see `--backend`).
    #[arg(long, env = "MONGO_URI", hide_env_values = true, global = true)]
    pub mongo_uri: Option<SecretString>,

    /// MongoDB URI of the `masteradmin` role; `MONGO_URI` when unset.
    #[arg(
        long,
        env = "MASTER_ADMIN_MONGO_URI",
        hide_env_values = true,
        global = true
    )]
    pub master_admin_mongo_uri: Option<SecretString>,

    /// HS256 secret that verifies callers' tokens: at least 32 bytes (`openssl rand -base64
    /// 48`). Required with `MONGO_URI`.
    #[arg(long, env = "AUTH_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<SecretString>,

    /// The `iss` every token must carry; unset or empty: not checked.
    #[arg(long, env = "AUTH_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// The `aud` every token must carry; unset or empty: not checked.
    #[arg(long, env = "AUTH_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,

    /// Longest accepted token lifetime (`exp - iat`) in seconds, so that a leaked token
    /// cannot serve for long; a token without `iat` is refused.
    #[arg(
        long,
        env = "AUTH_MAX_TOKEN_TTL",
        default_value_t = DEFAULT_MAX_TOKEN_TTL.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub max_token_ttl: u64,

    /// Extra bindings of models on more roles, `models@role` separated by commas (e.g.
    /// `admins@main`).
    #[arg(long, env = "EXTRA_BINDINGS", default_value = "", global = true)]
    pub bindings: String,

    /// Milliseconds a request may take before it is answered 503.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT_MS",
        default_value_t = millis(DEFAULT_REQUEST_TIMEOUT),
        global = true
    )]
    pub request_timeout_ms: u64,

    /// Milliseconds a health check waits for each database's ping.
    #[arg(
        long,
        env = "PING_TIMEOUT_MS",
        default_value_t = millis(DEFAULT_PING_TIMEOUT),
        global = true
    )]
    pub ping_timeout_ms: u64,

    /// Milliseconds a client of `app serve` has to send a request's headers, counted from the
    /// connection's start or the end of the previous answer: a slow or idle client does not
    /// hold a socket longer.
    #[arg(
        long,
        env = "HEADER_READ_TIMEOUT_MS",
        default_value_t = millis(DEFAULT_HEADER_READ_TIMEOUT),
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub header_read_timeout_ms: u64,

    /// Milliseconds a read or a write on a connection of `app serve` may wait before the
    /// connection is closed (a body that stops arriving, a client that stops reading). Keep it
    /// above `REQUEST_TIMEOUT_MS`.
    #[arg(
        long,
        env = "IDLE_TIMEOUT_MS",
        default_value_t = millis(DEFAULT_IDLE_TIMEOUT),
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub idle_timeout_ms: u64,

    /// Connections `app serve` serves at once; a further one is closed on accept, so that no
    /// number of clients can exhaust the process.
    #[arg(
        long,
        env = "MAX_CONNECTIONS",
        default_value_t = DEFAULT_MAX_CONNECTIONS as u32,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        global = true
    )]
    pub max_connections: u32,

    /// Milliseconds `app serve` lets requests in flight finish after SIGTERM or Ctrl-C before
    /// closing their connections.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_MS",
        default_value_t = millis(DEFAULT_SHUTDOWN_GRACE),
        global = true
    )]
    pub shutdown_grace_ms: u64,

    /// Seconds a `POST` answer is replayed to a retry with the same `Idempotency-Key`.
    #[arg(
        long,
        env = "IDEMPOTENCY_WINDOW_S",
        default_value_t = DEFAULT_WINDOW.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub idempotency_window_s: u64,

    /// Answers to `Idempotency-Key` requests each caller keeps at most on the in-memory
    /// backend; the caller's oldest is forgotten first. (MongoDB keeps every answer for its
    /// window.)
    #[arg(
        long,
        env = "IDEMPOTENCY_MAX_KEYS",
        default_value_t = DEFAULT_MAX_KEYS as u64,
        value_parser = clap::value_parser!(u64).range(1..=10_000_000),
        global = true
    )]
    pub idempotency_max_keys: u64,

    /// Milliseconds an `Idempotency-Key` claim holds its key when its request never finishes
    /// (its instance died): at least `REQUEST_TIMEOUT_MS`; unset, ten seconds more than it.
    #[arg(long, env = "IDEMPOTENCY_LEASE_MS", global = true)]
    pub idempotency_lease_ms: Option<u64>,

    /// Origins browsers may call the API from, separated by commas
    /// (`https://a.example,https://b.example`); unset or empty: no CORS headers at all.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", global = true)]
    pub cors_allowed_origins: Option<String>,
    /// The other MongoDB settings with a fixed name (last: their help heading holds for
    /// every flag after them).
    #[command(flatten)]
    pub mongo: MongoOptions,
}

/// How long a request may take unless `REQUEST_TIMEOUT_MS` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a health check waits for a ping unless `PING_TIMEOUT_MS` says otherwise.
pub const DEFAULT_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// A default duration as the whole milliseconds its setting is given in.
const fn millis(duration: Duration) -> u64 {
    duration.as_secs() * 1000 + duration.subsec_millis() as u64
}

/// The storage asked for with `--backend` / `APP_BACKEND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageChoice {
    /// In memory, lost on exit: the demo, or a test deployment on purpose.
    Memory,
    /// MongoDB at `MONGO_URI`.
    Mongo,
}

/// Why the settings cannot make a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A MongoDB setting is wrong.
    #[error(transparent)]
    Mongo(#[from] ConfigError),
    /// `app lambda` with no `MONGO_URI` and no explicit memory backend.
    #[error(
        "MONGO_URI is not set: `app lambda` does not run in memory unless asked to, since \
         its data would be lost with every execution environment. Set MONGO_URI, or pass \
         --backend memory (APP_BACKEND=memory) to run in memory on purpose"
    )]
    LambdaNeedsMongoUri,
    /// `--backend mongo` with no `MONGO_URI`.
    #[error("--backend mongo (APP_BACKEND=mongo) needs MONGO_URI, which is not set")]
    MongoNeedsUri,
    /// `--backend memory` while `MONGO_URI` is set: one of the two is a mistake.
    #[error(
        "--backend memory (APP_BACKEND=memory) and MONGO_URI are both set: unset MONGO_URI \
         to run in memory, or choose --backend mongo"
    )]
    MemoryWithMongoUri,
    /// `CORS_ALLOWED_ORIGINS` names something that is not an origin.
    #[error(transparent)]
    Cors(#[from] InvalidOrigin),
}

/// Which storage backs the repositories.
#[derive(Debug, Clone)]
pub enum StorageSettings {
    /// Everything in memory, lost on exit.
    Memory,
    /// MongoDB, one database per role.
    Mongo(Box<MongoSettings>),
}

/// Everything [`crate::service::Application::build`] needs; built from [`Settings`] or in code.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The storage.
    pub backend: StorageSettings,
    /// The token secret; `None` only on the in-memory backend, which then makes one up.
    pub jwt_secret: Option<SecretString>,
    /// What a token must show besides its signature.
    pub token_policy: TokenPolicy,
    /// Extra bindings, `models@role` separated by commas, over the service's own.
    pub bindings: String,
    /// See [`Settings::request_timeout_ms`].
    pub request_timeout: Duration,
    /// See [`Settings::ping_timeout_ms`].
    pub ping_timeout: Duration,
    /// How long and how many `Idempotency-Key` answers are kept (`IDEMPOTENCY_WINDOW_S`,
    /// `IDEMPOTENCY_MAX_KEYS`); `IdempotencyConfig::default()` in code.
    pub idempotency: IdempotencyConfig,
    /// The origins allowed by CORS (`CORS_ALLOWED_ORIGINS`); `CorsConfig::default()`, none,
    /// in code.
    pub cors: CorsConfig,
}

impl AppConfig {
    /// The documented defaults on `backend`, with no token secret (so the in-memory backend
    /// makes one up and runs as a demo). A service or a test changes only what it needs, so
    /// that a new setting is added here and nowhere else:
    ///
    /// ```
    /// use app::config::{AppConfig, StorageSettings};
    /// use std::time::Duration;
    ///
    /// let config = AppConfig {
    ///     request_timeout: Duration::from_secs(5),
    ///     ..AppConfig::new(StorageSettings::Memory).with_jwt_secret("a-secret-of-at-least-32-bytes!!!")
    /// };
    /// assert_eq!(config.ping_timeout, app::config::DEFAULT_PING_TIMEOUT);
    /// ```
    pub fn new(backend: StorageSettings) -> Self {
        Self {
            backend,
            jwt_secret: None,
            token_policy: TokenPolicy::default(),
            bindings: String::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            ping_timeout: DEFAULT_PING_TIMEOUT,
            idempotency: IdempotencyConfig::default(),
            cors: CorsConfig::default(),
        }
    }

    /// The same configuration with the database clients watching their commands: for a
    /// service that serves metrics, whose `mongodb_commands_*` series come from those events
    /// ([`MongoSettings::with_command_monitoring`]). Nothing changes in memory.
    pub fn with_command_metrics(self) -> Self {
        let backend = match self.backend {
            StorageSettings::Mongo(settings) => {
                StorageSettings::Mongo(Box::new(settings.with_command_monitoring(true)))
            }
            memory => memory,
        };
        Self { backend, ..self }
    }

    /// The same configuration, verifying tokens with `secret`.
    pub fn with_jwt_secret(self, secret: impl Into<SecretString>) -> Self {
        Self {
            jwt_secret: Some(secret.into()),
            ..self
        }
    }
}

impl Settings {
    /// The configuration `command` runs with, with the Mongo settings read and validated.
    ///
    /// # Errors
    /// A backend choice that [`Settings::storage_choice`] refuses, a malformed URI (named,
    /// password redacted), an invalid Mongo option, or a `CORS_ALLOWED_ORIGINS` entry that is
    /// not an origin.
    pub fn app_config(&self, command: Command) -> Result<AppConfig, SettingsError> {
        let backend = match self.storage_choice(command)? {
            StorageChoice::Memory => StorageSettings::Memory,
            StorageChoice::Mongo => StorageSettings::Mongo(Box::new(self.mongo_settings()?)),
        };
        Ok(AppConfig {
            jwt_secret: self.jwt_secret.clone(),
            token_policy: TokenPolicy {
                issuer: not_blank(self.jwt_issuer.as_deref()),
                audience: not_blank(self.jwt_audience.as_deref()),
                max_ttl: Duration::from_secs(self.max_token_ttl),
                ..TokenPolicy::default()
            },
            bindings: self.bindings.clone(),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            ping_timeout: Duration::from_millis(self.ping_timeout_ms),
            idempotency: IdempotencyConfig {
                window: Duration::from_secs(self.idempotency_window_s),
                max_keys: usize::try_from(self.idempotency_max_keys).unwrap_or(usize::MAX),
                lease: self.idempotency_lease_ms.map(Duration::from_millis),
            },
            cors: CorsConfig::parse(self.cors_allowed_origins.as_deref().unwrap_or(""))?,
            ..AppConfig::new(backend)
        })
    }

    /// The limits `app serve` holds its clients to.
    pub fn serve_limits(&self) -> ServeLimits {
        ServeLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            max_connections: self.max_connections as usize,
            shutdown_grace: Duration::from_millis(self.shutdown_grace_ms),
        }
    }

    /// The storage `command` runs on: the explicit choice if any, checked against `MONGO_URI`;
    /// otherwise MongoDB when `MONGO_URI` is set, memory when it is not, except for `lambda`,
    /// which is never in memory by default.
    ///
    /// # Errors
    /// See [`SettingsError`].
    pub fn storage_choice(&self, command: Command) -> Result<StorageChoice, SettingsError> {
        let has_uri = self.mongo_uri.is_some();
        match (self.backend, has_uri) {
            (Some(StorageChoice::Memory), true) => Err(SettingsError::MemoryWithMongoUri),
            (Some(StorageChoice::Mongo), false) => Err(SettingsError::MongoNeedsUri),
            (Some(kind), _) => Ok(kind),
            (None, true) => Ok(StorageChoice::Mongo),
            (None, false) if command == Command::Lambda => Err(SettingsError::LambdaNeedsMongoUri),
            (None, false) => Ok(StorageChoice::Memory),
        }
    }

    /// The MongoDB settings: URIs and fixed-name options as clap read them (flags or their
    /// variables), typed; each further role's URI and the per-role options from the
    /// environment.
    fn mongo_settings(&self) -> Result<MongoSettings, ConfigError> {
        use secrecy::ExposeSecret;
        let exposed =
            |uri: &Option<SecretString>| uri.as_ref().map(|s| s.expose_secret().to_owned());
        let main = exposed(&self.mongo_uri).ok_or(ConfigError::Missing {
            variable: adapters_mongo::MONGO_URI.to_owned(),
            role: ports::Role::MAIN,
        })?;
        let masteradmin =
            exposed(&self.master_admin_mongo_uri).filter(|uri| !uri.trim().is_empty());
        MongoSettings::configured(main, masteradmin, &self.mongo.global())
    }
}

/// `value` unless it is empty or blank: an `AUTH_JWT_ISSUER=` line in a deployment template
/// means "not checked", not "an empty issuer".
fn not_blank(value: Option<&str>) -> Option<String> {
    value
        .filter(|text| !text.trim().is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings with only the backend choice and `MONGO_URI` set, whatever the environment.
    fn settings(backend: Option<StorageChoice>, mongo_uri: Option<&str>) -> Settings {
        let mut settings = Cli::try_parse_from(["app"]).unwrap().settings;
        settings.backend = backend;
        settings.mongo_uri = mongo_uri.map(SecretString::from);
        settings
    }

    #[test]
    fn the_backend_follows_the_explicit_choice_then_mongo_uri_and_lambda_is_never_memory_by_default(
    ) {
        use Command::{Health, Lambda, Serve};
        use SettingsError::{LambdaNeedsMongoUri, MemoryWithMongoUri, MongoNeedsUri};
        use StorageChoice::{Memory, Mongo};
        let uri = Some("mongodb://127.0.0.1:1/backoffice");
        let cases = [
            (None, None, Serve, Ok(Memory)),
            (None, None, Health, Ok(Memory)),
            (None, None, Lambda, Err(LambdaNeedsMongoUri)),
            (None, uri, Lambda, Ok(Mongo)),
            (None, uri, Serve, Ok(Mongo)),
            (Some(Memory), None, Lambda, Ok(Memory)),
            (Some(Memory), None, Serve, Ok(Memory)),
            (Some(Memory), uri, Lambda, Err(MemoryWithMongoUri)),
            (Some(Mongo), None, Serve, Err(MongoNeedsUri)),
            (Some(Mongo), uri, Lambda, Ok(Mongo)),
        ];
        for (choice, mongo_uri, command, expected) in cases {
            let kind = settings(choice, mongo_uri).storage_choice(command);
            assert_eq!(kind, expected, "{choice:?} {mongo_uri:?} {command:?}");
        }
    }

    #[test]
    fn every_refused_backend_choice_names_mongo_uri() {
        for error in [
            SettingsError::LambdaNeedsMongoUri,
            SettingsError::MongoNeedsUri,
            SettingsError::MemoryWithMongoUri,
        ] {
            assert!(error.to_string().contains("MONGO_URI"), "{error}");
        }
    }

    #[test]
    fn the_serve_limits_default_to_the_documented_values_and_come_from_the_flags() {
        assert_eq!(settings(None, None).serve_limits(), ServeLimits::default());
        let flags = [
            "app",
            "--header-read-timeout-ms",
            "1500",
            "--idle-timeout-ms",
            "9000",
            "--max-connections",
            "7",
            "--shutdown-grace-ms",
            "0",
        ];
        let limits = Cli::try_parse_from(flags).unwrap().settings.serve_limits();
        assert_eq!(
            limits,
            ServeLimits {
                header_read_timeout: Duration::from_millis(1500),
                idle_timeout: Duration::from_secs(9),
                max_connections: 7,
                shutdown_grace: Duration::ZERO,
            }
        );
        for refused in [
            ["app", "--max-connections", "0"],
            ["app", "--header-read-timeout-ms", "0"],
        ] {
            assert!(Cli::try_parse_from(refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn the_token_policy_comes_from_the_settings() {
        let mut settings = settings(None, None);
        settings.jwt_issuer = Some("https://login.example".into());
        settings.jwt_audience = Some("back-office".into());
        settings.max_token_ttl = 600;
        let policy = settings.app_config(Command::Serve).unwrap().token_policy;
        assert_eq!(
            policy,
            TokenPolicy {
                issuer: Some("https://login.example".into()),
                audience: Some("back-office".into()),
                max_ttl: Duration::from_secs(600),
                ..TokenPolicy::default()
            }
        );
        settings.jwt_issuer = Some(String::new());
        settings.jwt_audience = Some(" ".into());
        let policy = settings.app_config(Command::Serve).unwrap().token_policy;
        assert_eq!((policy.issuer, policy.audience), (None, None));
    }
}
