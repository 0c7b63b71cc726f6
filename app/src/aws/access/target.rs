//! One object of one of the user's connections: the role assumed for that key alone, its
//! audit, and the URLs signed for it.

use std::time::Duration;

use aws_sdk_s3::{operation::head_object::HeadObjectOutput, presigning::PresigningConfig};

use super::{assume_for, Role};
use crate::{
    audit::{
        ssr::{record, Event},
        Activity, Outcome,
    },
    aws::{bucket, region, s3_failure, scope::MAX_KEY_BYTES, Assumed, Scope},
    error::AppError,
    iam::Action,
    location::{folder_of, name_in},
    state::AppState,
    url::encode_component,
};

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
            true => role.assume_shared(self.state, self.user, &scope).await,
        }
    }

    /// A URL made for someone other than the connection's owner (a share link's holder, or a
    /// grantee) lives at most [`SHARED_URL_SECONDS`], whatever `PRESIGN_SECONDS` says: S3
    /// cannot revoke a presigned URL, so that is how long a revoked link or grant still works.
    pub fn url_seconds(&self, role: &Role) -> u32 {
        role.url_seconds(self.state, self.user, self.shared)
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

    /// HeadObject of this key in its bucket's region (found on the way), as `arn` (which the
    /// role must read): what S3 says of it, and the client that reached it.
    pub async fn head(
        &self,
        assumed: &Assumed,
        arn: &str,
    ) -> Result<(HeadObjectOutput, aws_sdk_s3::Client), AppError> {
        let (bucket, key) = (self.bucket, self.key);
        region::in_bucket_region(
            self.state,
            assumed,
            bucket,
            (Action::GetObject, arn),
            |s3| async move { s3.head_object().bucket(bucket).key(key).send().await },
        )
        .await
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
