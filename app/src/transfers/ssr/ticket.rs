//! A multipart upload's ticket: its declared size and when it expires, bound to the upload by
//! an HMAC under a key of its own, so the browser carries them between requests and can change
//! neither.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::{
    aws::access::{Role, Target},
    error::AppError,
    transfers::MultipartUpload,
};

/// How long a ticket outlives the part URLs issued with it: a part sent just before its URL
/// expired may still be arriving, and completion comes after the last part.
pub const GRACE_SECS: i64 = 15 * 60;

fn mac(target: &Target<'_>, upload_id: &str, size: u64, expires: i64) -> Hmac<Sha256> {
    // A key of its own, derived from SESSION_SECRET: nothing else it signs reads as a ticket.
    let key = target.state.config.subkey("crossview.upload-ticket.v1");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    // Each field is length-prefixed, so no two different uploads share a message.
    let fields = [
        "crossview.upload".as_bytes(),
        &target.user.to_be_bytes(),
        &target.connection.to_be_bytes(),
        target.bucket.as_bytes(),
        target.key.as_bytes(),
        upload_id.as_bytes(),
        &size.to_be_bytes(),
        &expires.to_be_bytes(),
    ];
    for field in fields {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field);
    }
    mac
}

/// A ticket for URLs signed now through `role`: `<size>.<expires, Unix seconds>.<hex HMAC>`.
pub fn issue(target: &Target<'_>, role: &Role, upload_id: &str, size: u64) -> String {
    let expires = OffsetDateTime::now_utc().unix_timestamp()
        + i64::from(target.url_seconds(role))
        + GRACE_SECS;
    issue_until(target, upload_id, size, expires)
}

/// A ticket that expires at `expires` (Unix seconds).
pub fn issue_until(target: &Target<'_>, upload_id: &str, size: u64, expires: i64) -> String {
    let tag = mac(target, upload_id, size, expires)
        .finalize()
        .into_bytes();
    format!("{size}.{expires}.{}", hex::encode(tag))
}

/// The size the upload was started with, if the ticket is this upload's, unaltered and
/// unexpired.
pub fn declared_size(target: &Target<'_>, upload: &MultipartUpload) -> Result<u64, AppError> {
    let refused = || AppError::Request("this upload's ticket is not valid".into());
    let mut fields = upload.ticket.splitn(3, '.');
    let (Some(size), Some(expires), Some(tag)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(refused());
    };
    let size: u64 = size.parse().map_err(|_| refused())?;
    let expires: i64 = expires.parse().map_err(|_| refused())?;
    let tag = hex::decode(tag).map_err(|_| refused())?;
    mac(target, &upload.id, size, expires)
        .verify_slice(&tag)
        .map_err(|_| refused())?;
    if OffsetDateTime::now_utc().unix_timestamp() > expires {
        return Err(AppError::Request(
            "this upload's ticket has expired: upload the file again".into(),
        ));
    }
    Ok(size)
}
