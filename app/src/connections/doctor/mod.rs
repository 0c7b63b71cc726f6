//! The connection doctor: what will work through a connection, bucket by bucket, learnt by
//! harmless read-only probes with fresh credentials before anyone meets a failure — and, for a
//! bucket whose CORS rule keeps the browser out, a one-click fix that merges Crossview's rule
//! into the bucket's own.

mod page;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
pub use page::{DoctorPage, ReportView};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::call;
use crate::error::AppError;

/// What a person does through a connection; each gets a verdict per bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Capability {
    Browse,
    Download,
    Upload,
    Preview,
    Share,
    Versions,
}

impl Capability {
    pub const ALL: [Capability; 6] = [
        Capability::Browse,
        Capability::Download,
        Capability::Upload,
        Capability::Preview,
        Capability::Share,
        Capability::Versions,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Capability::Browse => "Browse",
            Capability::Download => "Download",
            Capability::Upload => "Upload",
            Capability::Preview => "Preview",
            Capability::Share => "Share",
            Capability::Versions => "Versions",
        }
    }
}

/// One capability in one bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Works,
    /// AWS or the browser will refuse it; the reason, in a sentence.
    Fails(String),
    /// Not learnt (the role may not read what would tell, or nothing to try it on).
    Unknown(String),
    /// Does not apply here (a read-only connection's uploads, a bucket without versioning).
    Off(String),
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Works => "Works",
            Verdict::Fails(_) => "Fails",
            Verdict::Unknown(_) => "Unknown",
            Verdict::Off(_) => "Off",
        }
    }

    pub fn class(&self) -> &'static str {
        match self {
            Verdict::Works => "verified",
            Verdict::Fails(_) => "failed",
            Verdict::Unknown(_) => "pending",
            Verdict::Off(_) => "disabled",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Verdict::Works => "",
            Verdict::Fails(why) | Verdict::Unknown(why) | Verdict::Off(why) => why,
        }
    }

    /// Worse first: a capability that fails anywhere fails for the connection.
    fn rank(&self) -> u8 {
        match self {
            Verdict::Fails(_) => 3,
            Verdict::Unknown(_) => 2,
            Verdict::Works => 1,
            Verdict::Off(_) => 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    /// Something a person will see fail.
    Problem,
    /// Works today, but costs or surprises later.
    Advice,
}

/// The exact change that fixes a finding, in each form people make it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// The JSON to paste (a policy statement, a CORS or lifecycle configuration).
    pub json: String,
    /// The AWS CLI command that applies it.
    pub cli: String,
    /// The same change in CloudFormation or Terraform.
    pub iac: String,
    /// Crossview can apply it itself (the bucket's CORS rule), after showing the change.
    pub one_click: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub bucket: String,
    /// A stable name for the kind of finding (`cors_missing`, `kms_decrypt_denied`, …).
    pub code: String,
    pub severity: Severity,
    /// In one sentence: what the user will see without the fix.
    pub message: String,
    pub fix: Option<Fix>,
}

/// What the doctor learnt of one bucket (or a location in it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketReport {
    pub bucket: String,
    /// The location's prefix (`""`: the whole bucket).
    pub prefix: String,
    pub region: Option<String>,
    /// Plain facts for the table: encryption, versioning, Object Lock, public access block,
    /// lifecycle cleanup — each `(name, value)`.
    pub facts: Vec<(String, String)>,
    pub verdicts: Vec<(Capability, Verdict)>,
}

impl BucketReport {
    pub fn verdict(&self, capability: Capability) -> Option<&Verdict> {
        self.verdicts
            .iter()
            .find(|(c, _)| *c == capability)
            .map(|(_, v)| v)
    }
}

/// One run of the doctor on one connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// RFC 3339, UTC.
    pub checked_at: String,
    pub buckets: Vec<BucketReport>,
    /// The role sees more buckets than one run examines.
    pub more: bool,
    pub findings: Vec<Finding>,
    /// Why nothing could be examined (the role could not be assumed, no bucket to look at).
    pub stopped: Option<String>,
}

impl Report {
    /// Each capability's worst verdict over the buckets examined.
    pub fn overall(&self) -> Vec<(Capability, Verdict)> {
        Capability::ALL
            .into_iter()
            .map(|capability| {
                let worst = self
                    .buckets
                    .iter()
                    .filter_map(|b| b.verdict(capability))
                    .max_by_key(|v| v.rank())
                    .cloned()
                    .unwrap_or(Verdict::Unknown("no bucket was examined".into()));
                (capability, worst)
            })
            .collect()
    }

    pub fn problems(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Problem)
            .count()
    }

    /// In a few words, for the connections overview.
    pub fn status(&self) -> Health {
        match (&self.stopped, self.problems()) {
            (Some(_), _) => Health::Stopped,
            (None, 0) => Health::Healthy,
            (None, n) => Health::Problems(n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Health {
    Healthy,
    Problems(usize),
    Stopped,
}

impl Health {
    pub fn label(&self) -> String {
        match self {
            Health::Healthy => "No problems".into(),
            Health::Problems(1) => "1 problem".into(),
            Health::Problems(n) => format!("{n} problems"),
            Health::Stopped => "Could not check".into(),
        }
    }

    pub fn class(&self) -> &'static str {
        match self {
            Health::Healthy => "verified",
            Health::Problems(_) | Health::Stopped => "failed",
        }
    }
}

/// A connection's last doctor's run, in short (the admin overview's column).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkup {
    pub health: Health,
    pub checked_at: String,
}

/// What the CORS fix would change, shown before it is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsChange {
    pub bucket: String,
    /// The bucket's CORS configuration now (`[]`: none), and after the fix, as JSON.
    pub before: String,
    pub after: String,
    /// The bucket already admits Crossview: nothing to change.
    pub unchanged: bool,
}

/// The owner's last report for the connection; `None` before the first run.
#[server(endpoint = "doctor_report")]
pub async fn doctor_report(id: i64) -> Result<Option<Report>, AppError> {
    call::signed_in(async |cx| {
        crate::connections::ssr::get(cx.pool(), cx.user.id, id).await?;
        ssr::load(cx.pool(), id).await
    })
    .await
}

/// Runs the doctor on the owner's connection now, and stores the report.
#[server(endpoint = "doctor_check")]
pub async fn check_connection(id: i64) -> Result<(), AppError> {
    let page = format!("/connections/{id}/doctor");
    call::form(page.clone())
        .signed_in(async |cx| {
            let connection = crate::connections::ssr::get(cx.pool(), cx.user.id, id).await?;
            let origin = call::browser_origin(&cx.state.config);
            ssr::run(&cx.state, cx.user.id, &connection, &origin, true).await?;
            call::redirect(&format!("{page}?checked=1"));
            Ok(())
        })
        .await
}

/// What the CORS fix would make of the bucket's rules (read with fresh credentials).
#[server(endpoint = "doctor_cors_preview")]
pub async fn cors_preview(id: i64, bucket: String) -> Result<CorsChange, AppError> {
    call::signed_in(async |cx| {
        let origin = call::browser_origin(&cx.state.config);
        ssr::cors::preview(&cx.state, cx.user.id, id, &bucket, &origin).await
    })
    .await
}

/// Merges Crossview's rule into the bucket's CORS configuration (the owner's connection only,
/// read-write, the role allowing s3:PutBucketCORS); audited.
#[server(endpoint = "doctor_cors_fix")]
pub async fn fix_cors(id: i64, bucket: String) -> Result<(), AppError> {
    let page = format!("/connections/{id}/doctor");
    call::form(page.clone())
        .fresh()
        .signed_in(async |cx| {
            let origin = call::browser_origin(&cx.state.config);
            ssr::cors::apply(&cx.state, cx.user.id, id, &bucket, &origin).await?;
            let connection = crate::connections::ssr::get(cx.pool(), cx.user.id, id).await?;
            ssr::run(&cx.state, cx.user.id, &connection, &origin, false).await?;
            call::redirect(&format!("{page}?cors_fixed=1"));
            Ok(())
        })
        .await
}

/// Any connection's last report, for an administrator.
#[server(endpoint = "admin_doctor_report")]
pub async fn admin_doctor_report(id: i64) -> Result<Option<Report>, AppError> {
    call::admin(async |cx| ssr::load(cx.pool(), id).await).await
}

/// An administrator runs the doctor on one connection (`id`), or on every verified connection
/// (`id` absent), as themselves: each assumption is audited as theirs.
#[server(endpoint = "admin_doctor_check")]
pub async fn admin_check(id: Option<i64>) -> Result<(), AppError> {
    let page = match id {
        Some(id) => crate::location::admin_connection_href(id),
        None => "/admin/connections".to_owned(),
    };
    call::form(page.clone())
        .admin(async |cx| {
            let origin = call::browser_origin(&cx.state.config);
            let checked = ssr::admin_run(&cx.state, cx.user.id, id, &origin).await?;
            call::redirect(&format!("{page}?doctor={checked}"));
            Ok(())
        })
        .await
}
