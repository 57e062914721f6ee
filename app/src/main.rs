//! `app`: the back-office service. `serve` for HTTP, `lambda` for AWS Lambda, `health` to
//! check both databases. This file only wires; the library holds the logic.

use std::io::Write;
use std::process::ExitCode;

use app::backend::Application;
use app::config::{Cli, Command};
use app::{http, lambda, telemetry};
use clap::Parser;
use ports::ConnectionState;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env file is normal; variables may come from the environment alone.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(%error, "app stopped");
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let inside_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let command = cli.command.unwrap_or(if inside_lambda {
        Command::Lambda
    } else {
        Command::Serve
    });
    // The command is known first: whether memory is allowed depends on it.
    let application = Application::build(cli.settings.app_config(command)?).await?;
    if let app::backend::Backend::Memory(_) = application.backend {
        tracing::warn!("NO DATABASE CONFIGURED: running on the in-memory backend (set MONGO_URI to use MongoDB)");
    }
    let code: Result<ExitCode, Box<dyn std::error::Error>> = match command {
        Command::Serve => serve(&application, cli.settings.port)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Lambda => match lambda::run(&application).await {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(error) => Err(error),
        },
        Command::Health => Ok(health(&application).await),
    };
    application.backend.shutdown().await;
    code
}

async fn serve(application: &Application, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    let address = listener.local_addr()?;
    announce_demo(application, address.port());
    tracing::info!(%address, "serving HTTP");
    axum::serve(listener, http::router(application.state.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped accepting requests; closing database clients");
    Ok(())
}

fn announce_demo(application: &Application, port: u16) {
    if let Some(demo) = &application.demo {
        // A closed stdout must not take the server down with a panic, as println! would.
        let _ = writeln!(std::io::stdout(), "{}", demo.instructions(port));
    }
}

/// Ctrl-C or SIGTERM (what Lambda, ECS and Kubernetes send): stop accepting, finish what is
/// in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn health(application: &Application) -> ExitCode {
    let monitor = application.state.registry.monitor();
    let mut all_up = true;
    for role in monitor.roles() {
        let ping = tokio::time::timeout(application.state.ping_timeout, monitor.ping(role)).await;
        let state = monitor.state(role);
        match ping {
            Ok(Ok(latency)) if state == ConnectionState::Connected => {
                println!(
                    "{role:<12} {state:<13} ping {:.1} ms",
                    latency.as_secs_f64() * 1000.0
                );
            }
            Ok(Err(error)) => {
                all_up = false;
                println!("{role:<12} {state:<13} {error}");
            }
            _ => {
                all_up = false;
                println!("{role:<12} {state:<13} no answer in time");
            }
        }
    }
    if all_up {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
