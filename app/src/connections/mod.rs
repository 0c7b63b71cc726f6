//! Connections: an AWS account reached through a role ARN and an ExternalId that Crossview
//! generates. Only those two (and plain metadata) are stored; verification proves the trust,
//! and every later use assumes the role afresh.

mod arn;
mod bulk;
pub mod doctor;
mod pages;
mod rotation;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use bulk::{BulkGuide, BulkPage, BulkRow};
use leptos::prelude::*;
pub use pages::{ConnectionPage, ConnectionsPage, NewConnectionPage};
pub use rotation::{
    cancel_rotation, finish_rotation, rotation_state, start_rotation, Rotation, RotationSection,
};
use serde::{Deserialize, Serialize};

pub use self::arn::{parse_role_arn, valid_external_id, RoleArn};
use crate::error::{AppError, AwsProblem};
#[cfg(feature = "ssr")]
use crate::{aws::endpoint, call};

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
    /// From the name stored in the database (`pending`, `verified`, …).
    pub fn from_stored(name: &str) -> Self {
        match name {
            "verified" => Status::Verified,
            "failed" => Status::Failed,
            "disabled" => Status::Disabled,
            _ => Status::Pending,
        }
    }

    /// The badge's CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Verified => "verified",
            Status::Failed => "failed",
            Status::Disabled => "disabled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "Pending",
            Status::Verified => "Verified",
            Status::Failed => "Failed",
            Status::Disabled => "Disabled by an administrator",
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
    /// The owner chose read-only access: Crossview sends no change to AWS through it.
    pub read_only: bool,
    /// Where the last check found the role may write.
    pub writes: WriteAccess,
}

/// What the last connection check learned of where the role may write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteAccess {
    /// Places (buckets, or locations) where S3 would take a write.
    pub allowed: i64,
    /// `bucket/` or `bucket/prefix` where S3 refuses the role's writes.
    pub refused: Vec<String>,
}

impl WriteAccess {
    /// In a sentence, for the connection's page; the places refused follow it.
    pub fn summary(&self) -> String {
        match (self.allowed, self.refused.is_empty()) {
            (0, true) => "Not known: no check has probed it yet".to_owned(),
            (1, true) => "Everywhere the check probed (1 place)".to_owned(),
            (n, true) => format!("Everywhere the check probed ({n} places)"),
            (0, false) => "Nowhere: AWS refuses writes in ".to_owned(),
            (1, false) => "In 1 place; AWS refuses writes in ".to_owned(),
            (n, false) => format!("In {n} places; AWS refuses writes in "),
        }
    }
}

/// A running verification, as its page shows it while it waits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyProgress {
    /// `assume`, `propagating`, `account`, `wrong_external_id`, `without_external_id` or
    /// `writes`.
    pub step: String,
    /// Seconds since it started.
    pub elapsed_secs: u64,
    /// The longest it waits for a new role to propagate (`VERIFY_PROPAGATION_SECS`).
    pub wait_secs: u64,
}

/// Where the owner's running verification of `id` is; `None` when none runs.
#[server(endpoint = "connection_verify_progress")]
pub async fn verification_progress(id: i64) -> Result<Option<VerifyProgress>, AppError> {
    call::signed_in(async |cx| ssr::verify::progress(&cx.state, cx.user.id, id).await).await
}

/// Everything the user needs to create the role on their side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupGuide {
    pub principal_arn: String,
    pub trust_policy: String,
    pub read_only_policy: String,
    pub read_write_policy: String,
    pub cloudformation_template: String,
    /// A call of Crossview's Terraform module with this connection's values.
    pub terraform: String,
    pub quick_create_url: Option<String>,
    pub cli_commands: String,
}

/// The role name the instructions suggest.
pub const DEFAULT_ROLE_NAME: &str = "crossview-access";

/// How long an ExternalId Crossview generated waits for a first verification before it is
/// replaced by a new one (the old one is retired).
pub const UNVERIFIED_EXTERNAL_ID_HOURS: i32 = 48;

#[server(endpoint = "connections")]
pub async fn list_connections() -> Result<Vec<Connection>, AppError> {
    call::signed_in(async |cx| ssr::list(cx.pool(), cx.user.id).await).await
}

#[server(endpoint = "connection")]
pub async fn get_connection(id: i64) -> Result<Connection, AppError> {
    call::signed_in(async |cx| ssr::get(cx.pool(), cx.user.id, id).await).await
}

#[server(endpoint = "connection_guide")]
pub async fn connection_guide(id: i64) -> Result<SetupGuide, AppError> {
    call::signed_in(async |cx| {
        let connection = ssr::get(cx.pool(), cx.user.id, id).await?;
        let principal = ssr::principal(&cx.state).await?;
        Ok(ssr::guide::build(
            &principal,
            &connection.external_id,
            cx.state.config.cloudformation_template_url.as_deref(),
            !connection.read_only,
        ))
    })
    .await
}

/// What this deployment lets users choose for themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    pub custom_external_id: bool,
    pub custom_endpoints: bool,
}

#[server(endpoint = "connection_options")]
pub async fn connection_options() -> Result<Options, AppError> {
    call::signed_in(async |cx| {
        Ok(Options {
            custom_external_id: cx.state.config.allow_custom_external_id,
            custom_endpoints: cx.state.config.allow_custom_endpoints,
        })
    })
    .await
}

#[server(endpoint = "connection_create")]
pub async fn create_connection(
    name: String,
    external_id: String,
    access: Option<String>,
) -> Result<i64, AppError> {
    call::form("/connections/new")
        .keep("name", &name)
        .fresh()
        .signed_in(async |cx| {
            let custom = Some(external_id.trim()).filter(|id| !id.is_empty());
            let read_only = read_only(access.as_deref())?;
            let id = ssr::create(
                cx.pool(),
                &cx.state.config,
                cx.user.id,
                (&name, read_only),
                custom,
            )
            .await?;
            call::redirect(&format!("/connections/{id}"));
            Ok(id)
        })
        .await
}

/// Stores the role's ARN and verifies the connection straight away.
#[server(endpoint = "connection_role")]
pub async fn save_role_arn(id: i64, role_arn: String) -> Result<Connection, AppError> {
    call::form(format!("/connections/{id}"))
        .keep("role_arn", &role_arn)
        .fresh()
        .signed_in(async |cx| {
            let arn = parse_role_arn(&role_arn)?;
            ssr::set_role(cx.pool(), cx.user.id, id, &arn).await?;
            let connection = ssr::verify::verify(&cx.state, cx.user.id, id).await?;
            doctor::ssr::after_verification(&cx.state, cx.user.id, &connection).await;
            call::redirect(&format!("/connections/{id}?notice=checked"));
            Ok(connection)
        })
        .await
}

#[server(endpoint = "connection_verify")]
pub async fn verify_connection(id: i64) -> Result<Connection, AppError> {
    call::form(format!("/connections/{id}"))
        .signed_in(async |cx| {
            let connection = ssr::verify::verify(&cx.state, cx.user.id, id).await?;
            doctor::ssr::after_verification(&cx.state, cx.user.id, &connection).await;
            call::redirect(&format!("/connections/{id}?notice=checked"));
            Ok(connection)
        })
        .await
}

/// Points the connection at an S3-compatible store's endpoints (both empty: AWS). The
/// connection is pending until verified again against the new STS endpoint.
#[server(endpoint = "connection_endpoints")]
pub async fn set_connection_endpoints(
    id: i64,
    s3_endpoint: String,
    sts_endpoint: String,
) -> Result<(), AppError> {
    call::form(format!("/connections/{id}"))
        .keep("s3_endpoint", &s3_endpoint)
        .keep("sts_endpoint", &sts_endpoint)
        .fresh()
        .signed_in(async |cx| {
            let config = &cx.state.config;
            if !config.allow_custom_endpoints {
                return Err(AppError::Forbidden);
            }
            let s3 = endpoint::parse(&s3_endpoint, config.development)?;
            let sts = endpoint::parse(&sts_endpoint, config.development)?;
            for origin in s3.iter().chain(&sts) {
                endpoint::allowed(config, origin).await?;
            }
            ssr::set_endpoints(cx.pool(), cx.user.id, id, s3.as_deref(), sts.as_deref()).await?;
            call::redirect(&format!("/connections/{id}?notice=endpoints"));
            Ok(())
        })
        .await
}

/// `read-only` or `read-write` (the default, as before the choice existed).
#[cfg(feature = "ssr")]
fn read_only(access: Option<&str>) -> Result<bool, AppError> {
    match access {
        Some("read-only") => Ok(true),
        None | Some("read-write") => Ok(false),
        Some(_) => Err(AppError::Request(
            "access is read-only or read-write".into(),
        )),
    }
}

/// What Crossview may do through the connection: `read-only` or `read-write`.
#[server(endpoint = "connection_access")]
pub async fn set_connection_access(id: i64, access: String) -> Result<(), AppError> {
    call::form(format!("/connections/{id}"))
        .signed_in(async |cx| {
            let read_only = read_only(Some(&access))?;
            ssr::set_access(cx.pool(), cx.user.id, id, read_only).await?;
            call::redirect(&format!("/connections/{id}?notice=access"));
            Ok(())
        })
        .await
}

#[server(endpoint = "connection_rename")]
pub async fn rename_connection(id: i64, name: String) -> Result<(), AppError> {
    call::form(format!("/connections/{id}"))
        .signed_in(async |cx| {
            ssr::rename(cx.pool(), cx.user.id, id, &name).await?;
            call::redirect(&format!("/connections/{id}?notice=renamed"));
            Ok(())
        })
        .await
}

#[server(endpoint = "connection_delete")]
pub async fn delete_connection(id: i64) -> Result<(), AppError> {
    call::form(format!("/connections/{id}"))
        .fresh()
        .signed_in(async |cx| {
            ssr::delete(cx.pool(), cx.user.id, id).await?;
            call::redirect("/");
            Ok(())
        })
        .await
}

/// An administrator disables a connection for everyone (its owner sees "disabled by an
/// administrator"), or enables it again as it was.
#[server(endpoint = "admin_set_connection_disabled")]
pub async fn set_connection_disabled(id: i64, disabled: bool) -> Result<(), AppError> {
    let page = crate::location::admin_connection_href(id);
    call::form(page.clone())
        .admin(async |cx| {
            ssr::admin::set_disabled(&cx.state, cx.user.id, id, disabled).await?;
            call::redirect(&page);
            Ok(())
        })
        .await
}

/// An administrator deletes anyone's connection; its owner is told.
#[server(endpoint = "admin_delete_connection")]
pub async fn admin_delete_connection(id: i64) -> Result<(), AppError> {
    call::form(crate::location::admin_connection_href(id))
        .admin(async |cx| {
            ssr::admin::delete(&cx.state, cx.user.id, id).await?;
            call::redirect("/admin/connections?deleted=1");
            Ok(())
        })
        .await
}

/// An administrator runs the owner's verification again, as themselves; the result is stored
/// on the connection and audited.
#[server(endpoint = "admin_recheck_connection")]
pub async fn recheck_connection(id: i64) -> Result<(), AppError> {
    let page = crate::location::admin_connection_href(id);
    call::form(page.clone())
        .admin(async |cx| {
            ssr::admin::recheck(&cx.state, cx.user.id, id).await?;
            call::redirect(&format!("{page}?rechecked=1"));
            Ok(())
        })
        .await
}
