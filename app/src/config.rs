//! Start-up configuration: command-line flags, each also read from an environment variable
//! (and from a `.env` file, loaded before parsing).

use std::time::Duration;

use adapters_mongo::{ConfigError, MongoSettings};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::telemetry::LogFormat;

/// The back-office service.
#[derive(Debug, Parser)]
#[command(name = "app", version, about)]
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
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Port of `app serve`.
    #[arg(long, env = "PORT", default_value_t = 3000, global = true)]
    pub port: u16,

    /// `text` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t, global = true)]
    pub log_format: LogFormat,

    /// MongoDB URI of the `main` role, with the database as its path. Without it the service
    /// runs on the in-memory backend.
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

    /// HS256 secret that verifies callers' tokens. Required with `MONGO_URI`.
    #[arg(long, env = "AUTH_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<SecretString>,

    /// Extra bindings of models on more roles, `models@role` separated by commas (e.g.
    /// `admins@main`).
    #[arg(long, env = "EXTRA_BINDINGS", default_value = "", global = true)]
    pub bindings: String,

    /// Milliseconds a request may take before it is answered 503.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub request_timeout_ms: u64,

    /// Milliseconds a health check waits for each database's ping.
    #[arg(long, env = "PING_TIMEOUT_MS", default_value_t = 2_000, global = true)]
    pub ping_timeout_ms: u64,
}

/// Which storage backs the repositories.
#[derive(Debug, Clone)]
pub enum BackendConfig {
    /// Everything in memory, lost on exit.
    Memory,
    /// MongoDB, one database per role.
    Mongo(Box<MongoSettings>),
}

/// Everything [`crate::backend::Application::build`] needs; built from [`Settings`] or in code.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The storage.
    pub backend: BackendConfig,
    /// The token secret; `None` only on the in-memory backend, which then makes one up.
    pub jwt_secret: Option<SecretString>,
    /// Extra bindings, `models@role` separated by commas, over the service's own.
    pub bindings: String,
    /// See [`Settings::request_timeout_ms`].
    pub request_timeout: Duration,
    /// See [`Settings::ping_timeout_ms`].
    pub ping_timeout: Duration,
}

impl Settings {
    /// The application configuration, with the Mongo settings read and validated.
    ///
    /// # Errors
    /// A malformed URI (named, password redacted) or an invalid Mongo option.
    pub fn app_config(&self) -> Result<AppConfig, ConfigError> {
        let backend = match &self.mongo_uri {
            None => BackendConfig::Memory,
            Some(_) => BackendConfig::Mongo(Box::new(MongoSettings::from_lookup(|name| {
                self.lookup(name)
            })?)),
        };
        Ok(AppConfig {
            backend,
            jwt_secret: self.jwt_secret.clone(),
            bindings: self.bindings.clone(),
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            ping_timeout: Duration::from_millis(self.ping_timeout_ms),
        })
    }

    // The URIs may come from flags; the other Mongo options only from the environment.
    fn lookup(&self, name: &str) -> Option<String> {
        use secrecy::ExposeSecret;
        let exposed =
            |uri: &Option<SecretString>| uri.as_ref().map(|s| s.expose_secret().to_owned());
        match name {
            "MONGO_URI" => exposed(&self.mongo_uri),
            "MASTER_ADMIN_MONGO_URI" => exposed(&self.master_admin_mongo_uri),
            other => std::env::var(other).ok(),
        }
    }
}
