//! `billing`: serves `/branches` (on `main`) and `/invoices` (on `billing`) on `PORT`.
//!
//! With `MONGO_URI` set it needs `MONGO_URI_BILLING` and `AUTH_JWT_SECRET`; without, it runs
//! in memory with a made-up secret.

use std::process::ExitCode;

use adapters_mongo::{GlobalOptions, MongoSettings, MASTER_ADMIN_MONGO_URI, MONGO_URI};
use app::config::{AppConfig, StorageSettings};
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
    let backend = match env(MONGO_URI) {
        None => StorageSettings::Memory,
        Some(main) => {
            // The environment's options, with the billing role always declared: its URI
            // (`MONGO_URI_BILLING`) is then required, never a fallback.
            let mut options = GlobalOptions::from_env()?;
            if !options.roles.contains(&billing::BILLING) {
                options.roles.push(billing::BILLING);
            }
            let masteradmin = env(MASTER_ADMIN_MONGO_URI);
            StorageSettings::Mongo(Box::new(MongoSettings::configured(
                main,
                masteradmin,
                &options,
            )?))
        }
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
