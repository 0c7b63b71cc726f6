use std::{net::SocketAddr, process::ExitCode};

use app::config::Database;
use server::start;

#[tokio::main]
async fn main() -> ExitCode {
    // A .env file is a development convenience; real deployments set the environment.
    let _ = dotenvy::dotenv();
    start::logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("healthcheck") {
        return healthcheck().await;
    }
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

/// `server migrate`, `server admin …` or `server audit …`: an operator's command, with
/// `DATABASE_URL` (and `DATABASE_URL_DIRECT` behind a pooler, `MIGRATION_DATABASE_URL` where
/// another role owns the schema).
async fn operator(args: &[String]) -> ExitCode {
    let done = async {
        let db = Database::from_env().map_err(|err| err.to_string())?;
        let serving = start::pool(&db).await?;
        if args == ["migrate"] {
            start::migrate_as_owner(&serving, &db).await?;
            return Ok(Ok(
                "the schema is current, and DATABASE_URL's role has what it needs to serve"
                    .to_owned(),
            ));
        }
        start::migrate(&serving, &db).await?;
        Ok::<_, String>(server::operator::run(&start::owner_pool(&db, &serving).await?, args).await)
    };
    match done.await {
        Ok(Ok(done)) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Ok(Err(why)) => {
            eprintln!("{why}");
            ExitCode::from(2)
        }
        Err(cannot) => {
            eprintln!("{cannot}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let state = start::state().await?;
    let addr = state.leptos_options.site_addr;
    tokio::spawn(server::prune_sessions(state.pool.clone()));
    if let Some(digest) = state.config.audit_digest.clone() {
        tokio::spawn(server::write_digests(state.pool.clone(), digest));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Crossview is listening on http://{addr}");
    let timeouts = state.config.timeouts;
    server::serve::serve(listener, server::router(state), timeouts, shutdown_signal()).await;
    tracing::info!("Crossview stopped");
    Ok(())
}

/// `server healthcheck`: asks the running server's `/healthz` (at `LEPTOS_SITE_ADDR`, on
/// loopback when it listens on every address); exit 0 if it answers 200. A container's health
/// check, in an image with no shell and no curl.
async fn healthcheck() -> ExitCode {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let Ok(mut addr) = addr.parse::<SocketAddr>() else {
        eprintln!("LEPTOS_SITE_ADDR={addr:?} is not an address");
        return ExitCode::FAILURE;
    };
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(head.ends_with(b" 200"))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), probe).await {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        outcome => {
            eprintln!("{addr}/healthz: {outcome:?}");
            ExitCode::FAILURE
        }
    }
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
