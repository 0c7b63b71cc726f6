//! Connections: an AWS account reached through a role ARN and an ExternalId that Crossview
//! generates. Only those two (and plain metadata) are stored; verification proves the trust,
//! and every later use assumes the role afresh.

mod arn;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
pub use pages::{ConnectionPage, ConnectionsPage, NewConnectionPage};
use serde::{Deserialize, Serialize};

pub use self::arn::{parse_role_arn, valid_external_id, RoleArn};
use crate::error::{AppError, AwsProblem};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Pending,
    Verified,
    Failed,
    Disabled,
}

impl Connection {
    #[cfg(feature = "ssr")]
    pub fn endpoints(&self) -> crate::aws::Endpoints<'_> {
        crate::aws::Endpoints {
            s3: self.s3_endpoint.as_deref(),
            sts: self.sts_endpoint.as_deref(),
        }
    }
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::Verified => "Verified",
            Status::Failed => "Failed",
            Status::Disabled => "Disabled",
        }
    }
}

/// A connection as its owner sees it. The ExternalId is not a secret: the owner puts it in the
/// role's trust policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: i64,
    pub name: String,
    pub role_arn: Option<String>,
    pub external_id: String,
    pub account_id: Option<String>,
    pub status: Status,
    pub trust_warning: bool,
    pub last_error: Option<AwsProblem>,
    /// RFC 3339, UTC.
    pub last_verified_at: Option<String>,
    pub created_at: String,
    /// An S3-compatible store's endpoints; `None` for AWS with its regional endpoints.
    pub s3_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
}

/// Everything the user needs to create the role on their side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupGuide {
    pub principal_arn: String,
    pub trust_policy: String,
    pub read_only_policy: String,
    pub read_write_policy: String,
    pub cloudformation_template: String,
    pub quick_create_url: Option<String>,
    pub cli_commands: String,
}

#[server(endpoint = "connections")]
pub async fn list_connections() -> Result<Vec<Connection>, AppError> {
    crate::forms::ssr::with_status(
        async {
            let user = crate::auth::ssr::require_user().await?;
            ssr::list(&crate::state::AppState::current().pool, user.id).await
        }
        .await,
    )
}

#[server(endpoint = "connection")]
pub async fn get_connection(id: i64) -> Result<Connection, AppError> {
    crate::forms::ssr::with_status(
        async {
            let user = crate::auth::ssr::require_user().await?;
            ssr::get(&crate::state::AppState::current().pool, user.id, id).await
        }
        .await,
    )
}

#[server(endpoint = "connection_guide")]
pub async fn connection_guide(id: i64) -> Result<SetupGuide, AppError> {
    crate::forms::ssr::with_status(
        async {
            let user = crate::auth::ssr::require_user().await?;
            let state = crate::state::AppState::current();
            let connection = ssr::get(&state.pool, user.id, id).await?;
            let principal = state
                .aws
                .own_principal_arn()
                .await
                .map_err(|f| AppError::Aws(f.problem))?;
            Ok(ssr::guide::build(
                &principal,
                &connection.external_id,
                state.config.cloudformation_template_url.as_deref(),
            ))
        }
        .await,
    )
}

/// What this deployment lets users choose for themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    pub custom_external_id: bool,
    pub custom_endpoints: bool,
}

#[server(endpoint = "connection_options")]
pub async fn connection_options() -> Result<Options, AppError> {
    crate::forms::ssr::with_status(
        async {
            crate::auth::ssr::require_user().await?;
            let config = &crate::state::AppState::current().config;
            Ok(Options {
                custom_external_id: config.allow_custom_external_id,
                custom_endpoints: config.allow_custom_endpoints,
            })
        }
        .await,
    )
}

#[server(endpoint = "connection_create")]
pub async fn create_connection(name: String, external_id: String) -> Result<i64, AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        let state = crate::state::AppState::current();
        let custom = Some(external_id.trim()).filter(|id| !id.is_empty());
        let id = ssr::create(&state.pool, &state.config, user.id, &name, custom).await?;
        leptos_axum::redirect(&format!("/connections/{id}"));
        Ok(id)
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(result, "/connections/new", &[("name", &name)])
}

/// Stores the role's ARN and verifies the connection straight away.
#[server(endpoint = "connection_role")]
pub async fn save_role_arn(id: i64, role_arn: String) -> Result<Connection, AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        let state = crate::state::AppState::current();
        let arn = parse_role_arn(&role_arn)?;
        ssr::set_role(&state.pool, user.id, id, &arn).await?;
        let connection = ssr::verify::verify(&state, user.id, id).await?;
        leptos_axum::redirect(&format!("/connections/{id}"));
        Ok(connection)
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(
        result,
        &format!("/connections/{id}"),
        &[("role_arn", &role_arn)],
    )
}

#[server(endpoint = "connection_verify")]
pub async fn verify_connection(id: i64) -> Result<Connection, AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        let connection =
            ssr::verify::verify(&crate::state::AppState::current(), user.id, id).await?;
        leptos_axum::redirect(&format!("/connections/{id}"));
        Ok(connection)
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(result, &format!("/connections/{id}"), &[])
}

/// Points the connection at an S3-compatible store's endpoints (both empty: AWS). The
/// connection is pending until verified again against the new STS endpoint.
#[server(endpoint = "connection_endpoints")]
pub async fn set_connection_endpoints(
    id: i64,
    s3_endpoint: String,
    sts_endpoint: String,
) -> Result<(), AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        let state = crate::state::AppState::current();
        if !state.config.allow_custom_endpoints {
            return Err(AppError::Forbidden);
        }
        let s3 = ssr::endpoint::parse(&s3_endpoint)?;
        let sts = ssr::endpoint::parse(&sts_endpoint)?;
        ssr::set_endpoints(&state.pool, user.id, id, s3.as_deref(), sts.as_deref()).await?;
        leptos_axum::redirect(&format!("/connections/{id}"));
        Ok(())
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(
        result,
        &format!("/connections/{id}"),
        &[
            ("s3_endpoint", &s3_endpoint),
            ("sts_endpoint", &sts_endpoint),
        ],
    )
}

#[server(endpoint = "connection_rename")]
pub async fn rename_connection(id: i64, name: String) -> Result<(), AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        ssr::rename(&crate::state::AppState::current().pool, user.id, id, &name).await?;
        leptos_axum::redirect(&format!("/connections/{id}"));
        Ok(())
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(result, &format!("/connections/{id}"), &[])
}

#[server(endpoint = "connection_delete")]
pub async fn delete_connection(id: i64) -> Result<(), AppError> {
    let result = async {
        let user = crate::auth::ssr::require_user().await?;
        ssr::delete(&crate::state::AppState::current().pool, user.id, id).await?;
        leptos_axum::redirect("/");
        Ok(())
    }
    .await;
    crate::forms::ssr::back_to_form_on_error(result, &format!("/connections/{id}"), &[])
}
