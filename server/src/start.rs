//! Start-up, shared by every way Crossview runs (the binary, a container, a Vercel Function):
//! configuration from the environment, the pool, the schema, the state. Nothing here waits for
//! AWS (Crossview's own principal is resolved on first use), and a current schema costs one
//! query, so a new instance answers within milliseconds.

use std::sync::Arc;

use app::{
    aws::AwsGateway,
    config::{Config, Database, ExposeSecret, SecretString},
    db::MIGRATOR,
    state::AppState,
};
use leptos::config::get_configuration;
use sqlx::{postgres::PgPoolOptions, Connection, PgConnection, PgPool};
use tracing_subscriber::EnvFilter;

/// Logs to standard output, filtered by `RUST_LOG` (default `info`): readable lines, or one JSON
/// object per line with `LOG_FORMAT=json` (what log platforms ingest).
pub fn logging() {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal: a pipe or a log file gets plain text.
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    match std::env::var("LOG_FORMAT").as_deref() {
        // The event's own fields only: the spans of the libraries underneath add nothing here.
        Ok("json") => lines
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
        Ok("text") | Err(_) => lines.init(),
        Ok(other) => {
            lines.init();
            tracing::warn!("LOG_FORMAT={other:?} is neither json nor text: logging text");
        }
    }
}

/// Everything a serving process needs, ready to serve: the schema is current when this returns.
pub async fn state() -> Result<AppState, String> {
    state_with_defaults(&[]).await
}

/// [`state`], with `defaults` for variables the environment leaves unset (an entry's own
/// defaults: the Vercel Function trusts its edge's `X-Forwarded-For`).
pub async fn state_with_defaults(defaults: &[(&str, &str)]) -> Result<AppState, String> {
    let config = Config::from_lookup(|key| {
        std::env::var(key).ok().or_else(|| {
            let (_, value) = defaults.iter().find(|(name, _)| *name == key)?;
            Some((*value).to_owned())
        })
    })
    .map_err(|err| err.to_string())?;
    if let Some(mail) = &config.mail {
        app::mail::check(mail)?;
    }
    let mut leptos_options = get_configuration(None)
        .map_err(|err| format!("leptos configuration: {err}"))?
        .leptos_options;
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos_options.hash_files = crate::assets::hashed_beside_exe(&leptos_options);
    }
    let pool = pool(&config.database).await?;
    migrate(&pool, &config.database).await?;
    let aws = AwsGateway::from_env(&config).await;
    Ok(AppState::new(leptos_options, pool, aws, Arc::new(config)))
}

/// The pool on `DATABASE_URL` (direct, or a transaction-mode pooler that keeps prepared
/// statements: sqlx prepares named ones and reuses them).
pub async fn pool(db: &Database) -> Result<PgPool, String> {
    pool_at(db, &db.url).await
}

/// A pool as the schema's owner (`MIGRATION_DATABASE_URL`), for the operator's commands that
/// change the audit trail's tables (archiving); `serving` itself when no owner is named.
pub async fn owner_pool(db: &Database, serving: &PgPool) -> Result<PgPool, String> {
    match &db.migration_url {
        Some(url) => pool_at(db, url).await,
        None => Ok(serving.clone()),
    }
}

async fn pool_at(db: &Database, url: &SecretString) -> Result<PgPool, String> {
    PgPoolOptions::new()
        .max_connections(db.max_connections)
        .acquire_timeout(db.acquire_timeout)
        // sqlx pings every connection when it is returned; a second ping before each use would
        // put one more round trip in front of every query of a page. A connection that died
        // meanwhile (Postgres restarted) fails its query once, is closed, and is replaced.
        .test_before_acquire(false)
        .connect(url.expose_secret())
        .await
        .map_err(|err| format!("cannot connect to Postgres: {err}"))
}

/// What start-up did to the schema.
#[derive(Debug, PartialEq, Eq)]
pub enum Schema {
    /// Every migration of this build was already applied: one query, no lock.
    Current,
    /// This process applied migrations, or waited while another did.
    Migrated,
}

/// Brings the schema up to this build's. A current schema is seen with one read over the pool
/// (partitions that are merely due are added over it too); otherwise [`migrate_as_owner`].
pub async fn migrate(pool: &PgPool, db: &Database) -> Result<Schema, String> {
    if is_current(pool).await {
        return Ok(Schema::Current);
    }
    // Next months' audit partitions are the one thing that falls due with time alone: the
    // serving role adds them through the owner's function, without the owner's URL.
    if sqlx::query("select audit_ensure_partitions()")
        .execute(pool)
        .await
        .is_ok()
        && is_current(pool).await
    {
        return Ok(Schema::Current);
    }
    migrate_as_owner(pool, db).await?;
    Ok(Schema::Migrated)
}

/// Runs the migrations as the schema's owner, on one direct connection (`MIGRATION_DATABASE_URL`,
/// else `DATABASE_URL_DIRECT`, else `DATABASE_URL`), under sqlx's session advisory lock: of
/// instances starting together exactly one applies them and the others wait for it, then find
/// nothing left to do. Then the serving role (`pool`'s, if another) gets its grants again.
pub async fn migrate_as_owner(pool: &PgPool, db: &Database) -> Result<(), String> {
    let url = db
        .migration_url
        .as_ref()
        .or(db.direct_url.as_ref())
        .unwrap_or(&db.url);
    let mut owner = PgConnection::connect(url.expose_secret())
        .await
        .map_err(|err| format!("cannot connect to Postgres for migrations: {err}"))?;
    MIGRATOR.run(&mut owner).await.map_err(|err| {
        let hint = match db.migration_url {
            None => {
                " (if DATABASE_URL's role only serves, run `server migrate` with \
                     MIGRATION_DATABASE_URL set to the role that owns the schema)"
            }
            Some(_) => "",
        };
        format!("migrations failed: {err}{hint}")
    })?;
    // The audit trail's partitions for this month and the next two (appends create them too).
    sqlx::query("select audit_ensure_partitions()")
        .execute(&mut owner)
        .await
        .map_err(|err| format!("audit partitions: {err}"))?;
    let serving: String = sqlx::query_scalar("select current_user::text")
        .fetch_one(pool)
        .await
        .map_err(|err| format!("cannot connect to Postgres: {err}"))?;
    sqlx::query("select crossview_grant_serving($1)")
        .bind(&serving)
        .execute(&mut owner)
        .await
        .map_err(|err| format!("granting {serving} what serving needs: {err}"))?;
    let _ = owner.close().await;
    Ok(())
}

/// Whether every migration this build carries is applied with the same checksum, and the audit
/// trail has its partitions for the month after this one. Any error (no migrations table yet)
/// means "no": the locked path decides.
pub async fn is_current(pool: &PgPool) -> bool {
    let applied: Vec<(i64, Vec<u8>, bool)> = match sqlx::query_as(
        "select version, checksum,
                (select partitions_until > now() + interval '1 month' from audit_settings)
         from _sqlx_migrations where success",
    )
    .fetch_all(pool)
    .await
    {
        Ok(rows) => rows,
        Err(_) => return false,
    };
    let partitioned = applied.iter().all(|(_, _, ahead)| *ahead);
    partitioned
        && MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .all(|m| {
                applied
                    .iter()
                    .any(|(v, sum, _)| *v == m.version && *sum == *m.checksum)
            })
}
