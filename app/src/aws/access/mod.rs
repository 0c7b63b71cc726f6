//! A user's connection, used for one request: the owner and verified checks, one fresh
//! AssumeRole narrowed to what the request does, audited whatever its outcome. Every request
//! that touches AWS goes through [`assume_for`]; every one about a single key through a
//! [`Target`] (which `call::for_key` gives a server function).

mod target;

use serde_json::json;
pub use target::{attachment, Target};

use super::{bucket, endpoint, Assumed, Endpoints, RoleTarget, Scope};
use crate::{
    audit::{
        ssr::{record, record_counting, Event},
        Activity, Outcome,
    },
    error::AppError,
    iam::{Reach, ReadOnly, Via},
    limits,
    state::AppState,
    telemetry::{metrics, RequestFacts},
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
    /// How long a URL presigned through this role for `user` lives: the deployment's
    /// `PRESIGN_SECONDS`, or at most [`SHARED_URL_SECONDS`] for someone other than the
    /// connection's owner (a share link's holder, or a grantee).
    pub fn url_seconds(&self, state: &AppState, user: i64, shared: bool) -> u32 {
        let seconds = state.config.presign_seconds;
        match shared || self.owner != user {
            true => seconds.min(SHARED_URL_SECONDS),
            false => seconds,
        }
    }

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

    /// Assumes this role for a share link's holder: the link's owner (`user`) spends the
    /// allowance of share opens, so strangers opening a link never stop the owner browsing.
    pub async fn assume_shared(
        self,
        state: &AppState,
        user: i64,
        scope: &Scope,
    ) -> Result<(Role, Assumed), AppError> {
        charge(state, user, true).await?;
        self.assume_charged(state, user, scope, None).await
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
