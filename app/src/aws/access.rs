//! A user's connection, used for one request: the owner and verified checks, one fresh
//! AssumeRole narrowed to what the request does, audited whatever its outcome. Every request
//! that touches AWS goes through [`assume_for`]; every one about a single key through a
//! [`Target`] (which `call::for_key` gives a server function).

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use serde_json::json;

use super::{
    bucket, endpoint, region, s3_failure, scope::MAX_KEY_BYTES, Assumed, Endpoints, RoleTarget,
    Scope,
};
use crate::{
    audit::{
        ssr::{record, record_counting, Event},
        Activity, Outcome,
    },
    error::AppError,
    iam::{Action, Reach, ReadOnly, Via},
    limits,
    location::{folder_of, name_in},
    state::AppState,
    telemetry::{metrics, RequestFacts},
    url::encode_component,
};

/// In a location's prefix, the acting user's id.
pub const USER_PLACEHOLDER: &str = "{user}";
/// The longest a presigned URL made for a share link or a grantee lives: 5 minutes.
pub const SHARED_URL_SECONDS: u32 = 300;

/// `crossview-user-<id>`: what the customer's CloudTrail shows as the session.
pub fn session_name(user_id: i64) -> String {
    format!("crossview-user-{user_id}")
}

/// A user's verified connection, as a request uses it: which role, under which ExternalId, and
/// where the user may act with it. The ExternalId is an identifier, not a secret; nothing AWS
/// issued is here.
#[derive(Debug)]
pub struct Role {
    pub connection: i64,
    /// The connection's name, as pages show it.
    pub name: String,
    pub owner: i64,
    arn: String,
    external_id: String,
    s3_endpoint: Option<String>,
    sts_endpoint: Option<String>,
    /// The locations the user may act in: `None` for the owner of an unrestricted connection;
    /// for a grantee, what their live grants give (never empty).
    pub reach: Option<Vec<Reach>>,
    /// The one location the request was fenced to, once assumed.
    pub within: Option<Reach>,
    /// The owner chose read-only access: no change is sent to AWS, whatever the role allows.
    pub read_only: bool,
    /// `(bucket, prefix)` where the last connection check found AWS refuses the role's writes.
    write_refused: Vec<(String, String)>,
    /// The assumptions the user spent in this minute and the one before, as the role was read:
    /// compared with their allowance before AWS is asked.
    spent: i32,
}

impl Role {
    /// A connection as `user` may use it: their own, or one of whose locations a live grant
    /// gives them. Anything else is `NotFound`, like a missing one (a revoked or lapsed grant
    /// too, from the next request on). A disabled owner's connections, and connections an
    /// administrator disabled, are refused here, whoever asks (share links included): nothing
    /// of theirs reaches AWS.
    pub async fn load(state: &AppState, user: i64, id: i64) -> Result<Role, AppError> {
        // One round trip: the connection on every row, with each of its locations (if any), the
        // user's live grant of it (if any) and the user's assumptions spent, on a kept
        // connection (every page makes this statement).
        let allowance = limits::assumptions_user(state.config.assumptions_per_user_per_minute);
        let mut db = state.db.lease().await?;
        let rows = sqlx::query!(
            r#"select c.owner_id, c.name, c.role_arn, c.external_id, c.status, c.s3_endpoint,
                    c.sts_endpoint, c.read_only, u.disabled as owner_disabled,
                    array(select w.bucket || '/' || w.prefix from write_checks w
                          where w.connection_id = c.id and not w.writable) as "write_refused!",
                    c.disabled_at is not null as "disabled!",
                    attempts_spent($3, $2::int8::text, $4) as "spent!",
                    l.bucket as "bucket?", l.prefix as "prefix?",
                    l.writable as "location_writable?",
                    g.id as "grant?", g.writable as "grant_writable?"
             from connections c join users u on u.id = c.owner_id
             left join locations l on l.connection_id = c.id
             left join grants g on g.location_id = l.id and g.grantee_id = $2
                 and grant_live(g.revoked_at, g.expires_at)
             where c.id = $1
             order by l.bucket, l.prefix"#,
            id,
            user,
            allowance.kind(),
            allowance.window_secs(),
        )
        .fetch_all(&mut *db)
        .await?;
        db.done();
        let mut rows = rows.into_iter();
        let mut row = rows.next().ok_or(AppError::NotFound)?;
        let write_refused = std::mem::take(&mut row.write_refused)
            .into_iter()
            .filter_map(|place| {
                let (bucket, prefix) = place.split_once('/')?;
                Some((bucket.to_owned(), prefix.to_owned()))
            })
            .collect();
        let owner = row.owner_id == user;
        let user_id = user.to_string();
        // The owner reaches every location, a grantee those of their live grants, each
        // read-write only where both the location and the grant are.
        let reach: Vec<Reach> = std::iter::once(&row)
            .chain(rows.as_slice())
            .filter(|r| owner || r.grant.is_some())
            .filter_map(|r| {
                Some(Reach {
                    bucket: r.bucket.clone()?,
                    prefix: r.prefix.as_deref()?.replace(USER_PLACEHOLDER, &user_id),
                    writable: r.location_writable?
                        && r.grant_writable.unwrap_or(true)
                        && !r.read_only,
                    via: r.grant.filter(|_| !owner).map(|grant| Via {
                        grant,
                        grantor: r.owner_id,
                    }),
                })
            })
            .collect();
        if !owner && reach.is_empty() {
            return Err(AppError::NotFound);
        }
        match (row.owner_disabled, owner) {
            (true, true) => return Err(AppError::AccountDisabled),
            (true, false) => return Err(AppError::ConnectionDisabled),
            _ => {}
        }
        if row.disabled {
            return Err(AppError::ConnectionDisabled);
        }
        match (row.status.as_str(), row.role_arn) {
            ("verified", Some(arn)) => Ok(Role {
                connection: id,
                name: row.name,
                owner: row.owner_id,
                arn,
                external_id: row.external_id,
                s3_endpoint: row.s3_endpoint,
                sts_endpoint: row.sts_endpoint,
                // An owner's connection without locations reaches whatever the role reaches.
                reach: (!reach.is_empty()).then_some(reach),
                within: None,
                read_only: row.read_only,
                write_refused,
                spent: row.spent,
            }),
            _ => Err(AppError::ConnectionNotVerified),
        }
    }

    /// Why nothing may be changed at `key` (or under a prefix) of `bucket` through this role, if
    /// so: the owner's choice, or what the last connection check learned. Only the choice is
    /// enforced before AWS; a learned refusal may be stale, and AWS says the last word.
    pub fn read_only_at(&self, bucket: &str, key: &str) -> Option<ReadOnly> {
        if self.read_only {
            return Some(ReadOnly::Chosen);
        }
        self.write_refused
            .iter()
            .any(|(b, prefix)| b == bucket && key.starts_with(prefix.as_str()))
            .then_some(ReadOnly::Learned)
    }

    /// What the audit trail adds to `detail` for an action done through this role: the location
    /// it stayed in and, for a grantee, the grant and its grantor.
    pub fn stamp(&self, detail: serde_json::Value) -> serde_json::Value {
        fenced(detail, self.within.as_ref())
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
    counter: Option<limits::Counter<'_>>,
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
        detail: Some(fenced(
            json!({ "with_external_id": target.external_id.is_some() }),
            target.location,
        )),
        ..Event::new(action, outcome)
    };
    // Every request that touches AWS makes this statement: on a kept connection, with the
    // attempt it spends counted in it.
    let mut db = state.db.lease().await?;
    match counter {
        Some(counter) => record_counting(&mut *db, event, counter).await?,
        None => record(&mut *db, event).await?,
    }
    db.done();
    result.map_err(|failure| AppError::Aws(failure.problem))
}

/// The entry point for every request that uses a connection: access check (owner or grantee),
/// verified check, the location the request stays in, and a fresh assumption narrowed to
/// `scope` and fenced to that location. The credentials live as long as the request.
pub async fn assume_for(
    state: &AppState,
    user_id: i64,
    connection_id: i64,
    scope: &Scope,
) -> Result<(Role, Assumed), AppError> {
    let role = Role::load(state, user_id, connection_id).await?;
    role.assume(state, user_id, scope).await
}

/// Spends one of `user`'s assumptions for this minute, before AWS is asked. A refusal assumes
/// nothing, so it is not audited.
pub async fn charge(state: &AppState, user: i64, shared: bool) -> Result<(), AppError> {
    let max = state.config.assumptions_per_user_per_minute;
    // A share link's opens spend an allowance of their own: strangers opening a link many times
    // never stop its owner from browsing.
    let limit = match shared {
        false => limits::assumptions_user(max),
        true => limits::share_opens_owner(max),
    };
    match limits::take(&state.pool, &[(&limit, &user.to_string())]).await {
        Err(AppError::RateLimited) => Err(AppError::TooFast),
        other => other,
    }
}

impl Role {
    /// Assumes this role for `user`'s request, charged to the user's allowance: compared with
    /// what [`Role::load`] read, counted by the statement that audits the assumption. Parallel
    /// requests of one user may pass the allowance by the few in flight (at most
    /// `admission::PER_USER`); it guards Crossview's own STS quota, not a secret.
    pub async fn assume(
        self,
        state: &AppState,
        user: i64,
        scope: &Scope,
    ) -> Result<(Role, Assumed), AppError> {
        let allowance = limits::assumptions_user(state.config.assumptions_per_user_per_minute);
        if self.spent >= allowance.max {
            return Err(AppError::TooFast);
        }
        let subject = user.to_string();
        self.assume_charged(state, user, scope, Some((&allowance, &subject)))
            .await
    }

    /// Assumes this role, already charged: a request outside the user's locations is refused
    /// here, before AWS, and audited as refused; the session policy fences it anyway.
    async fn assume_charged(
        mut self,
        state: &AppState,
        user: i64,
        scope: &Scope,
        counter: Option<limits::Counter<'_>>,
    ) -> Result<(Role, Assumed), AppError> {
        scope.check()?;
        let fenced = match self.reach.as_deref() {
            _ if self.read_only && scope.writes() => Some(Err(AppError::ReadOnlyConnection)),
            None => None,
            Some(reach) => Some(scope.within(reach)),
        };
        self.within = match fenced {
            None => None,
            Some(Ok(within)) => within.cloned(),
            Some(Err(refused)) => {
                let event = Event {
                    actor_id: Some(user),
                    connection_id: Some(self.connection),
                    bucket: scope.bucket(),
                    key: scope.key(),
                    ..Event::new(scope.action(), Outcome::Error(refused.code()))
                };
                record(&state.pool, event).await?;
                return Err(refused);
            }
        };
        let name = session_name(user);
        let target = RoleTarget {
            role_arn: &self.arn,
            external_id: Some(&self.external_id),
            session_name: &name,
            endpoints: Endpoints {
                s3: self.s3_endpoint.as_deref(),
                sts: self.sts_endpoint.as_deref(),
            },
            location: self.within.as_ref(),
        };
        let assumed = assume_audited(
            state,
            user,
            self.connection,
            target,
            scope,
            scope.action(),
            counter,
        )
        .await?;
        Ok((self, assumed))
    }
}

/// `detail` with the location an assumption was fenced to (and the grant it used), if any.
fn fenced(mut detail: serde_json::Value, location: Option<&Reach>) -> serde_json::Value {
    if let (Some(location), Some(fields)) = (location, detail.as_object_mut()) {
        fields.insert("location".into(), location.uri().into());
        if let Some(via) = location.via {
            fields.insert("grant".into(), via.grant.into());
            fields.insert("grantor".into(), via.grantor.into());
        }
    }
    detail
}

/// One object of one of the user's connections, checked for shape before AWS is asked.
pub struct Target<'a> {
    pub state: &'a AppState,
    pub user: i64,
    pub connection: i64,
    pub bucket: &'a str,
    pub key: &'a str,
    /// Reached through a share link: its URLs are short-lived.
    shared: bool,
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
        if key.is_empty() || key.len() > MAX_KEY_BYTES {
            return Err(AppError::KeyInvalid);
        }
        Ok(Target {
            state,
            user,
            connection,
            bucket,
            key,
            shared: false,
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
        let role = Role::load(self.state, self.user, self.connection).await?;
        let scope = Scope::Presign {
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            action,
            url_seconds: self.url_seconds(&role),
            purpose,
        };
        match self.shared {
            false => role.assume(self.state, self.user, &scope).await,
            true => {
                charge(self.state, self.user, true).await?;
                role.assume_charged(self.state, self.user, &scope, None)
                    .await
            }
        }
    }

    /// A URL made for someone other than the connection's owner (a share link's holder, or a
    /// grantee) lives at most [`SHARED_URL_SECONDS`], whatever `PRESIGN_SECONDS` says: S3
    /// cannot revoke a presigned URL, so that is how long a revoked link or grant still works.
    pub fn url_seconds(&self, role: &Role) -> u32 {
        let seconds = self.state.config.presign_seconds;
        match self.shared || role.owner != self.user {
            true => seconds.min(SHARED_URL_SECONDS),
            false => seconds,
        }
    }

    /// This target as a share link's holder reaches it (see [`Self::url_seconds`]).
    pub fn shared(self) -> Self {
        Target {
            shared: true,
            ..self
        }
    }

    pub fn arn(&self, role: &Role) -> String {
        role.object_arn(self.bucket, self.key)
    }

    /// How long a presigned URL made through `role` lives (the deployment's `PRESIGN_SECONDS`,
    /// or less for someone else's URL: [`Self::url_seconds`]).
    pub fn expires(&self, role: &Role) -> Result<PresigningConfig, AppError> {
        let seconds = self.url_seconds(role).into();
        PresigningConfig::expires_in(Duration::from_secs(seconds)).map_err(AppError::internal)
    }

    /// What the server itself did to the object (beyond the assumption) through `role`, in the
    /// audit log.
    pub async fn audit<T>(
        &self,
        role: &Role,
        action: Activity,
        result: &Result<T, AppError>,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let event = Event {
            actor_id: Some(self.user),
            connection_id: Some(self.connection),
            bucket: Some(self.bucket),
            key: Some(self.key),
            detail: Some(role.stamp(detail)),
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
            .presigned(self.expires(&role)?)
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
