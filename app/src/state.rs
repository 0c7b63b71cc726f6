//! The one server state, shared by axum handlers and server functions.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::{aws::AwsGateway, config::Config};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub aws: AwsGateway,
    pub config: Arc<Config>,
}

impl AppState {
    /// The state inside a server function or a page render.
    pub fn current() -> Self {
        leptos::prelude::expect_context::<AppState>()
    }
}
