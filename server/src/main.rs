use std::{net::SocketAddr, process::ExitCode, sync::Arc};

use app::{
    aws::AwsGateway,
    config::{Config, ExposeSecret},
    db::MIGRATOR,
    state::AppState,
};
use leptos::config::get_configuration;
use sqlx::postgres::PgPoolOptions;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file is a development convenience; real deployments set the environment.
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        return operator(&args).await;
    }
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("crossview cannot start: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `server admin …` or `server audit …`: an operator's command, with only `DATABASE_URL`.
async fn operator(args: &[String]) -> ExitCode {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("DATABASE_URL is not set");
        return ExitCode::FAILURE;
    };
    let pool = match PgPoolOptions::new().max_connections(1).connect(&url).await {
        Ok(pool) => pool,
        Err(err) => {
            eprintln!("cannot connect to Postgres: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = MIGRATOR.run(&pool).await {
        eprintln!("migrations failed: {err}");
        return ExitCode::FAILURE;
    }
    match server::operator::run(&pool, args).await {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("{why}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let leptos_options = get_configuration(None)?.leptos_options;
    let addr = leptos_options.site_addr;

    let pool = PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(config.db_acquire_timeout)
        .connect(config.database_url.expose_secret())
        .await
        .map_err(|err| format!("cannot connect to Postgres: {err}"))?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|err| format!("migrations failed: {err}"))?;
    // The audit trail's partitions for this month and the next two (appends create them too).
    sqlx::query("select audit_ensure_partitions()")
        .execute(&pool)
        .await?;
    tokio::spawn(server::prune_sessions(pool.clone()));

    let aws = AwsGateway::from_env(&config).await;
    let state = AppState {
        leptos_options,
        pool,
        aws,
        config: Arc::new(config),
    };

    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Crossview is listening on http://{addr}");
    axum::serve(
        listener,
        server::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("Crossview stopped");
    Ok(())
}

/// SIGTERM (how platforms stop a server) or Ctrl-C: stop accepting, finish in-flight requests.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
