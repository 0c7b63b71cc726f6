//! The one server state, shared by axum handlers and server functions.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::{aws::AwsGateway, config::Config, db::Db};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    /// The same pool, with the connections kept for the statements every page makes.
    pub db: Db,
    pub aws: AwsGateway,
    pub config: Arc<Config>,
}

impl AppState {
    pub fn new(
        leptos_options: LeptosOptions,
        pool: PgPool,
        aws: AwsGateway,
        config: Arc<Config>,
    ) -> Self {
        AppState {
            leptos_options,
            db: Db::new(pool.clone()),
            pool,
            aws,
            config,
        }
    }

    /// The state inside a server function or a page render.
    pub fn current() -> Self {
        leptos::prelude::expect_context::<AppState>()
    }
}
