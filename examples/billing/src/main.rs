//! `billing`: serves `/branches` (on `main`) and `/invoices` (on `billing`) on `PORT`.
//!
//! With `MONGO_URI` set it needs `MONGO_URI_BILLING` and `AUTH_JWT_SECRET`; without, it runs
//! in memory with a made-up secret.

use std::process::ExitCode;

use adapters_mongo::{MongoSettings, MONGO_ROLES};
use app::config::{AppConfig, BackendConfig};
use app::service::Application;
use secrecy::SecretString;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok();
    let backend = match env("MONGO_URI") {
        None => BackendConfig::Memory,
        // The billing role is always declared, so its URI is required, never a fallback.
        Some(_) => BackendConfig::Mongo(Box::new(MongoSettings::from_lookup(|name| {
            if name == MONGO_ROLES {
                Some(billing::BILLING.to_string())
            } else {
                env(name)
            }
        })?)),
    };
    // The documented defaults: no issuer or audience checked, tokens of up to 24 hours.
    let config = AppConfig {
        jwt_secret: env("AUTH_JWT_SECRET").map(SecretString::from),
        ..AppConfig::new(backend)
    };
    let application = Application::build_service(config, billing::service()).await?;
    let port = env("PORT").and_then(|p| p.parse().ok()).unwrap_or(3001_u16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("billing on http://{}", listener.local_addr()?);
    axum::serve(listener, app::http::router(application.state.clone())).await?;
    application.backend.shutdown().await;
    Ok(())
}
