//! A user's connection, used for one request: the owner and verified checks, one fresh
//! AssumeRole narrowed to what the request does, audited whatever its outcome. Every request
//! that touches AWS goes through [`assume_for`]; every one about a single key through a
//! [`Target`] (which `call::for_key` gives a server function).

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::json;

use super::{bucket, endpoint, region, s3_failure, Assumed, Endpoints, RoleTarget, Scope};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    error::AppError,
    iam::Action,
    location::{folder_of, name_in},
    state::AppState,
    telemetry::{metrics, RequestFacts},
    url::encode_component,
};

/// `crossview-user-<id>`: what the customer's CloudTrail shows as the session.
pub fn session_name(user_id: i64) -> String {
    format!("crossview-user-{user_id}")
}

/// A user's verified connection, as a request uses it: which role, under which ExternalId.
/// The ExternalId is an identifier, not a secret; nothing AWS issued is here.
#[derive(Debug)]
pub struct Role {
    pub connection: i64,
    /// The connection's name, as pages show it.
    pub name: String,
    arn: String,
    external_id: String,
    s3_endpoint: Option<String>,
    sts_endpoint: Option<String>,
}

impl Role {
    /// One of `owner`'s connections, verified; anyone else's is `NotFound`, like a missing one.
    /// A disabled owner's connections, and connections an administrator disabled, are refused
    /// here, whoever asks (share links included): nothing of theirs reaches AWS.
    async fn load(state: &AppState, owner: i64, id: i64) -> Result<Role, AppError> {
        let row = sqlx::query!(
            r#"select c.name, c.role_arn, c.external_id, c.status, c.s3_endpoint, c.sts_endpoint,
                    u.disabled as owner_disabled, c.disabled_at is not null as "disabled!"
             from connections c join users u on u.id = c.owner_id
             where c.id = $1 and c.owner_id = $2"#,
            id,
            owner
        )
        .fetch_optional(&state.pool)
        .await?
        .ok_or(AppError::NotFound)?;
        if row.owner_disabled {
            return Err(AppError::AccountDisabled);
        }
        if row.disabled {
            return Err(AppError::ConnectionDisabled);
        }
        match (row.status.as_str(), row.role_arn) {
            ("verified", Some(arn)) => Ok(Role {
                connection: id,
                name: row.name,
                arn,
                external_id: row.external_id,
                s3_endpoint: row.s3_endpoint,
                sts_endpoint: row.sts_endpoint,
            }),
            _ => Err(AppError::ConnectionNotVerified),
        }
    }

    /// `arn:<the role's partition>:s3:::<bucket>`.
    pub fn bucket_arn(&self, bucket: &str) -> String {
        bucket::bucket_arn(bucket::partition(&self.arn), bucket)
    }

    pub fn object_arn(&self, bucket: &str, key: &str) -> String {
        format!("{}/{key}", self.bucket_arn(bucket))
    }
}

/// One AssumeRole, audited whatever its outcome. Every assumption in Crossview goes through here.
pub async fn assume_audited(
    state: &AppState,
    actor: i64,
    connection: i64,
    target: RoleTarget<'_>,
    scope: &Scope,
    action: Activity,
) -> Result<Assumed, AppError> {
    // A custom endpoint is checked again on every use: the operator's list may have changed,
    // and a host name may resolve elsewhere than when it was saved.
    for origin in [target.endpoints.s3, target.endpoints.sts]
        .into_iter()
        .flatten()
    {
        endpoint::allowed(&state.config, origin).await?;
    }
    let result = state.aws.assume(target, scope).await;
    let (outcome, request_id) = match &result {
        Ok(assumed) => (Outcome::Ok, assumed.request_id.clone()),
        Err(failure) => (
            Outcome::Error(failure.problem.code().to_owned()),
            failure.request_id.clone(),
        ),
    };
    metrics::assumption(outcome.name());
    if let Some(facts) = RequestFacts::current() {
        facts.update(|f| f.connection_id = Some(connection));
        if let Some(id) = &request_id {
            facts.add_aws_request_id(id);
        }
    }
    let event = Event {
        actor_id: Some(actor),
        connection_id: Some(connection),
        bucket: scope.bucket(),
        key: scope.key(),
        aws_request_id: request_id.as_deref(),
        detail: Some(json!({ "with_external_id": target.external_id.is_some() })),
        ..Event::new(action, outcome)
    };
    record(&state.pool, event).await?;
    result.map_err(|failure| AppError::Aws(failure.problem))
}

/// The entry point for every request that uses a connection: owner check, verified check, and a
/// fresh assumption narrowed to `scope`. The credentials live as long as the request.
pub async fn assume_for(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    scope: &Scope,
) -> Result<(Role, Assumed), AppError> {
    let role = Role::load(state, user_id, connection_id).await?;
    let name = session_name(user_id);
    let target = RoleTarget {
        role_arn: &role.arn,
        external_id: Some(&role.external_id),
        session_name: &name,
        endpoints: Endpoints {
            s3: role.s3_endpoint.as_deref(),
            sts: role.sts_endpoint.as_deref(),
        },
    };
    let assumed =
        assume_audited(state, user_id, connection_id, target, scope, scope.action()).await?;
    Ok((role, assumed))
}

/// One object of one of the user's connections, checked for shape before AWS is asked.
pub struct Target<'a> {
    pub state: &'a AppState,
    pub user: i64,
    pub connection: i64,
    pub bucket: &'a str,
    pub key: &'a str,
}

impl<'a> Target<'a> {
    pub fn new(
        state: &'a AppState,
        user: i64,
        connection: i64,
        bucket: &'a str,
        key: &'a str,
    ) -> Result<Self, AppError> {
        if !bucket::plausible_bucket_name(bucket) {
            return Err(AppError::BucketNameInvalid);
        }
        if key.is_empty() || key.len() > 1024 {
            return Err(AppError::KeyInvalid);
        }
        Ok(Target {
            state,
            user,
            connection,
            bucket,
            key,
        })
    }

    /// Assumes the role for `actions` on this key only.
    pub async fn assume(
        &self,
        actions: Vec<Action>,
        purpose: Activity,
    ) -> Result<(Role, Assumed), AppError> {
        let scope = Scope::Object {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            actions,
            purpose,
        };
        assume_for(self.state, self.user, self.connection, &scope).await
    }

    /// Assumes the role for listing this key's versions and `actions` on it.
    pub async fn assume_versions(
        &self,
        actions: Vec<Action>,
        purpose: Activity,
    ) -> Result<(Role, Assumed), AppError> {
        let scope = Scope::Versions {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            actions,
            purpose,
        };
        assume_for(self.state, self.user, self.connection, &scope).await
    }

    /// Assumes the role for presigning `action` on this key, for a session that outlives the URL.
    pub async fn assume_to_sign(
        &self,
        action: Action,
        purpose: Activity,
    ) -> Result<(Role, Assumed), AppError> {
        let scope = Scope::Presign {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            action,
            url_seconds: self.state.config.presign_seconds,
            purpose,
        };
        assume_for(self.state, self.user, self.connection, &scope).await
    }

    pub fn arn(&self, role: &Role) -> String {
        role.object_arn(self.bucket, self.key)
    }

    /// How long a presigned URL lives (the deployment's `PRESIGN_SECONDS`).
    pub fn expires(&self) -> Result<PresigningConfig, AppError> {
        let seconds = self.state.config.presign_seconds.into();
        PresigningConfig::expires_in(Duration::from_secs(seconds)).map_err(AppError::internal)
    }

    /// What the server itself did to the object (beyond the assumption), in the audit log.
    pub async fn audit<T>(
        &self,
        action: Activity,
        result: &Result<T, AppError>,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let event = Event {
            actor_id: Some(self.user),
            connection_id: Some(self.connection),
            bucket: Some(self.bucket),
            key: Some(self.key),
            detail: Some(detail),
            ..Event::new(action, Outcome::of(result))
        };
        record(&self.state.pool, event).await
    }

    /// A presigned GET that saves under the key's own name (`version`: an older one). A
    /// HeadObject first proves that the role may read it and that it exists, so a refusal is
    /// explained on Crossview's page, not by S3's XML in the browser. The assumed session lasts
    /// at least as long as the URL. Downloads and share links both end here.
    pub async fn download_url(&self, version: Option<&str>) -> Result<String, AppError> {
        // An old version is another permission.
        let action = match version {
            Some(_) => Action::GetObjectVersion,
            None => Action::GetObject,
        };
        let (role, assumed) = self.assume_to_sign(action, Activity::Download).await?;
        let arn = self.arn(&role);
        let (bucket, key) = (self.bucket, self.key);
        let version = version.map(str::to_owned);
        let (_, s3) =
            region::in_bucket_region(self.state, &assumed, bucket, (action, &arn), |s3| {
                let version = version.clone();
                async move {
                    s3.head_object()
                        .bucket(bucket)
                        .key(key)
                        .set_version_id(version)
                        .send()
                        .await
                }
            })
            .await?;
        let presigned = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version)
            .response_content_disposition(attachment(name_in(key, folder_of(key))))
            .presigned(self.expires()?)
            .await
            .map_err(|err| s3_failure(err, Action::GetObject, &arn))?;
        Ok(presigned.uri().to_owned())
    }
}

/// `Content-Disposition` that saves the file under its own name: a plain ASCII `filename` for
/// old clients and the exact name, UTF-8 and percent-encoded, in `filename*` (RFC 6266).
pub fn attachment(file_name: &str) -> String {
    let file_name = match file_name.trim_end_matches('/') {
        "" => "download",
        name => name,
    };
    let ascii: String = file_name
        .chars()
        .map(|c| match c {
            ' ' => ' ',
            '"' | '\\' | '%' => '_',
            c if c.is_ascii_graphic() => c,
            _ => '_',
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode_component(file_name)
    )
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn files_keep_their_own_names() {
        assert_eq!(
            attachment("report.csv"),
            "attachment; filename=\"report.csv\"; filename*=UTF-8''report.csv"
        );
        assert_eq!(
            attachment("ünï \"x\" 100%.txt"),
            "attachment; filename=\"_n_ _x_ 100_.txt\"; filename*=UTF-8''%C3%BCn%C3%AF%20%22x%22%20100%25.txt"
        );
        assert!(attachment("").contains("filename=\"download\""));
    }
}
