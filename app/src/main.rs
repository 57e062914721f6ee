//! `app`: the back-office service. `serve` for HTTP, `lambda` for AWS Lambda, `health` to
//! check both databases. This file only wires; the library holds the logic.

use std::io::Write;
use std::process::ExitCode;

use app::config::{Cli, Command, Settings};
use app::service::Application;
use app::{http, lambda, telemetry};
use clap::Parser;
use metrics_exporter_prometheus::PrometheusHandle;
use ports::ConnectionState;

/// mimalloc rather than the system allocator: a request allocates and frees many small
/// buffers (headers, BSON, JSON, log fields), and glibc's malloc took about a tenth of the
/// service's CPU under load (docs/benchmarks.md). The library crates leave the choice to
/// the binary that embeds them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A missing .env file is normal; variables may come from the environment alone.
    let _ = dotenvy::dotenv();
    app::mongo_options::forget_blank_variables();
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
    let inside_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let command = cli.command.unwrap_or(if inside_lambda {
        Command::Lambda
    } else {
        Command::Serve
    });
    let outcome = match runtime(command) {
        Ok(runtime) => runtime.block_on(run(cli, command)),
        Err(error) => Err(error.into()),
    };
    match outcome {
        Ok(code) => code,
        // Printed once, as a plain line: it is what a person starting the service reads.
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The runtime of `command`. Lambda hands the process one invocation at a time, so one thread
/// does all of it (the runtime client, the handler, the driver's connections) with no hand-off
/// between threads; everything else serves requests concurrently on every core.
fn runtime(command: Command) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match command {
        Command::Lambda => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build()
}

async fn run(cli: Cli, command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    // Before the application: the database clients resolve their metric handles when created.
    let metrics = match (command, cli.settings.metrics_port) {
        (Command::Serve, Some(port)) => Some((port, http::metrics::install()?)),
        _ => None,
    };
    let lambda_metrics = match command {
        Command::Lambda => Some(lambda::install_metrics()?),
        _ => None,
    };
    // The command is known first: whether memory is allowed depends on it.
    let mut config = cli.settings.app_config(command)?;
    if metrics.is_some() || lambda_metrics.is_some() {
        config = config.with_command_metrics();
    }
    let application = Application::build(config).await?;
    if let app::service::Backend::Memory(_) = application.backend {
        tracing::warn!("NO DATABASE CONFIGURED: running on the in-memory backend (set MONGO_URI to use MongoDB)");
    }
    let code: Result<ExitCode, Box<dyn std::error::Error>> = match command {
        Command::Serve => serve(&application, &cli.settings, metrics)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Lambda => match lambda::run(&application, lambda_metrics).await {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(error) => Err(error),
        },
        Command::Health => Ok(health(&application).await),
        Command::Check { role } => app::check::run(&application.state.registry, role)
            .await
            .map_err(Into::into),
        Command::Indexes { role, mode } => {
            app::indexes::run(&application.state.registry, role, mode)
                .await
                .map_err(Into::into)
        }
    };
    application.backend.shutdown().await;
    code
}

async fn serve(
    application: &Application,
    settings: &Settings,
    metrics: Option<(u16, PrometheusHandle)>,
) -> Result<(), Box<dyn std::error::Error>> {
    let limits = settings.serve_limits();
    if settings.idle_timeout_ms <= settings.request_timeout_ms {
        tracing::warn!(
            idle_timeout_ms = settings.idle_timeout_ms,
            request_timeout_ms = settings.request_timeout_ms,
            "IDLE_TIMEOUT_MS is not above REQUEST_TIMEOUT_MS: a slow request may lose its connection before its answer"
        );
    }
    let listener = http::serve::bind(settings.bind_address, settings.port).await?;
    let address = listener.local_addr()?;
    announce_demo(application, address.port());
    tracing::info!(%address, ?limits, "serving HTTP");
    if let Some((port, handle)) = metrics {
        let listener = http::serve::bind(settings.metrics_bind_address, port).await?;
        tracing::info!(address = %listener.local_addr()?, "serving metrics on GET /metrics");
        // Stops on the same signal as the API; its requests are short, so it needs no wait.
        tokio::spawn(http::serve(
            listener,
            http::metrics::router(handle),
            limits,
            shutdown_signal(),
        ));
    }
    let router = http::router(application.state.clone());
    http::serve(listener, router, limits, shutdown_signal()).await;
    tracing::info!("stopped serving; closing database clients");
    Ok(())
}

fn announce_demo(application: &Application, port: u16) {
    if let Some(demo) = &application.demo {
        // A closed stdout must not take the server down with a panic, as println! would.
        let _ = writeln!(std::io::stdout(), "{}", demo.instructions(port));
    }
}

/// Ctrl-C or SIGTERM (what Lambda, ECS and Kubernetes send): stop accepting, finish what is
/// in flight within `SHUTDOWN_GRACE_MS`.
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
