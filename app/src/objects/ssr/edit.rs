//! What an object says about itself, edited in place: its tags (PutObjectTagging, an empty set
//! removes them all), and its metadata and storage class (CopyObject of the object onto itself
//! with the metadata replaced; its tags, encryption and, unless changed, storage class are
//! kept). Each change is checked against S3's limits before AWS is asked, and audited with what
//! it changed.

use std::collections::BTreeMap;

use aws_sdk_s3::{
    primitives::{DateTime, DateTimeFormat},
    types::{MetadataDirective, ServerSideEncryption, StorageClass, Tag, Tagging},
};
use serde_json::{json, Value};

use crate::{
    audit::Activity,
    aws::{access::Target, region::in_bucket_region, s3_failure},
    error::AppError,
    iam::Action,
    objects::{Metadata, MAX_TAGS},
    search::STORAGE_CLASSES,
    url::encode_component,
};

/// CopyObject copies at most 5 GiB in one call.
const COPY_LIMIT: i64 = 5 << 30;
/// S3's limit on user metadata: keys and values together.
const USER_METADATA_BYTES: usize = 2048;

/// Whether `tags` are a tag set S3 takes: at most 10, keys of 1 to 128 characters and values of
/// at most 256, each key once, none in the reserved `aws:` space, and only the characters S3
/// allows (letters and digits of any script, spaces, and `+ - = . _ : / @`).
pub fn check_tags(tags: &[(String, String)]) -> Result<(), AppError> {
    let bad = |why: String| Err(AppError::Request(why));
    if tags.len() > MAX_TAGS {
        return bad(format!(
            "an object has at most {MAX_TAGS} tags (S3's limit); remove {}",
            tags.len() - MAX_TAGS
        ));
    }
    let allowed = |text: &str| {
        text.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c))
    };
    for (n, (key, value)) in tags.iter().enumerate() {
        let count = key.chars().count();
        if count == 0 || count > 128 {
            return bad(format!("tag {}: a key has 1 to 128 characters", n + 1));
        }
        if value.chars().count() > 256 {
            return bad(format!("tag {key:?}: a value has at most 256 characters"));
        }
        if !allowed(key) || !allowed(value) {
            return bad(format!(
                "tag {key:?}: tags take letters, digits, spaces and + - = . _ : / @ only"
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return bad(format!(
                "tag {key:?}: keys starting with aws: are AWS's own"
            ));
        }
        if tags[..n].iter().any(|(k, _)| k == key) {
            return bad(format!("tag {key:?} is there twice: a key is given once"));
        }
    }
    Ok(())
}

/// What changed between two sets of name/value pairs, for the audit.
fn changes(before: &[(String, String)], after: &[(String, String)]) -> Value {
    let (old, new): (BTreeMap<_, _>, BTreeMap<_, _>) = (
        before.iter().map(|(k, v)| (k, v)).collect(),
        after.iter().map(|(k, v)| (k, v)).collect(),
    );
    let added: BTreeMap<_, _> = new.iter().filter(|(k, _)| !old.contains_key(*k)).collect();
    let removed: Vec<_> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let changed: BTreeMap<_, _> = new
        .iter()
        .filter_map(|(k, v)| Some((k, json!([old.get(k).filter(|o| *o != v)?, v]))))
        .collect();
    json!({ "added": added, "changed": changed, "removed": removed })
}

/// Replaces the object's tags with `tags`.
pub async fn set_tags(target: &Target<'_>, tags: Vec<(String, String)>) -> Result<(), AppError> {
    check_tags(&tags)?;
    let (role, assumed) = target
        .assume(
            vec![Action::GetObjectTagging, Action::PutObjectTagging],
            Activity::TagsEdit,
        )
        .await?;
    let (bucket, key) = (target.bucket, target.key);
    let arn = role.object_arn(bucket, key);
    // The tags as they were, for the audit's account of the change (and the bucket's region).
    let (before, s3) = in_bucket_region(
        target.state,
        &assumed,
        bucket,
        (Action::GetObjectTagging, &arn),
        |s3| async move { s3.get_object_tagging().bucket(bucket).key(key).send().await },
    )
    .await?;
    let before: Vec<(String, String)> = before
        .tag_set()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    let set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::internal)?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(set))
        .build()
        .map_err(AppError::internal)?;
    let result = s3
        .put_object_tagging()
        .bucket(bucket)
        .key(key)
        .tagging(tagging)
        .send()
        .await
        .map(|_| ())
        .map_err(|err| s3_failure(err, Action::PutObjectTagging, &arn));
    let detail = changes(&before, &tags);
    target
        .audit(&role, Activity::TagsEdit, &result, detail)
        .await?;
    result
}

/// `Expires` as typed: an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`), an RFC 3339 time, or a
/// day (`2026-10-21`, its midnight UTC).
fn expires(text: &str) -> Result<Option<DateTime>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = format!("{text}T00:00:00Z");
    let read = [
        (text, DateTimeFormat::HttpDate),
        (text, DateTimeFormat::DateTime),
        (day.as_str(), DateTimeFormat::DateTime),
    ]
    .into_iter()
    .find_map(|(t, format)| DateTime::from_str(t, format).ok());
    read.map(Some).ok_or_else(|| {
        AppError::Request(
            "Expires: write a date such as 2026-10-21 or Wed, 21 Oct 2026 07:28:00 GMT".into(),
        )
    })
}

/// Checks what a metadata edit asks for, before AWS is asked: header values that HTTP can carry
/// (visible ASCII and spaces), user metadata names S3 keeps (letters, digits, `-` and `_`, each
/// once), S3's 2 KB for user metadata, a storage class S3 has.
pub fn check_metadata(meta: &Metadata) -> Result<(), AppError> {
    let bad = |why: String| Err(AppError::Request(why));
    let header_text = |t: &str| t.chars().all(|c| c == ' ' || c.is_ascii_graphic());
    for (field, value) in meta.headers() {
        if !header_text(value) {
            return bad(format!(
                "{field}: only visible ASCII characters and spaces travel in an HTTP header"
            ));
        }
    }
    let mut bytes = 0;
    for (n, (name, value)) in meta.user.iter().enumerate() {
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return bad(format!(
                "metadata {name:?}: a name takes letters, digits, - and _ only"
            ));
        }
        if !header_text(value) {
            return bad(format!(
                "metadata {name:?}: only visible ASCII characters and spaces travel in an HTTP header"
            ));
        }
        let lower = name.to_ascii_lowercase();
        if meta.user[..n]
            .iter()
            .any(|(k, _)| k.to_ascii_lowercase() == lower)
        {
            return bad(format!("metadata {name:?} is there twice"));
        }
        bytes += name.len() + value.len();
    }
    if bytes > USER_METADATA_BYTES {
        return bad(format!(
            "user metadata is {bytes} bytes; S3 keeps at most {USER_METADATA_BYTES}"
        ));
    }
    if !meta.storage_class.is_empty() && !STORAGE_CLASSES.contains(&meta.storage_class.as_str()) {
        return bad(format!(
            "storage class: choose one of {}",
            STORAGE_CLASSES.join(", ")
        ));
    }
    expires(&meta.expires).map(drop)
}

/// Replaces the object's metadata (and storage class) with `meta`, by copying it onto itself.
pub async fn set_metadata(target: &Target<'_>, meta: Metadata) -> Result<(), AppError> {
    rewrite(target, meta, false).await
}

/// Sets what `patch` gives over the object's own metadata (see [`Metadata::patched`]).
pub async fn patch_metadata(target: &Target<'_>, patch: Metadata) -> Result<(), AppError> {
    rewrite(target, patch, true).await
}

/// The object copied onto itself with `meta` as its metadata, or (`patch`) over it.
async fn rewrite(target: &Target<'_>, meta: Metadata, patch: bool) -> Result<(), AppError> {
    check_metadata(&meta)?;
    // Tags go with the copy: S3 reads them from the source and writes them to the copy.
    let (role, assumed) = target
        .assume(
            vec![
                Action::GetObject,
                Action::GetObjectTagging,
                Action::PutObject,
                Action::PutObjectTagging,
            ],
            Activity::MetadataEdit,
        )
        .await?;
    let (bucket, key) = (target.bucket, target.key);
    let arn = role.object_arn(bucket, key);
    let (head, s3) = target.head(&assumed, &arn).await?;
    if head.content_length().unwrap_or_default() > COPY_LIMIT {
        return Err(AppError::Request(
            "objects over 5 GiB cannot have their metadata changed in place (S3 copies at most 5 GiB at once)".into(),
        ));
    }
    let before = Metadata::of_head(&head);
    let meta = match patch {
        false => meta,
        true => {
            // The object's own metadata may not be what Crossview would write (user metadata
            // near S3's limit, a non-ASCII header value): the merged whole is checked again.
            let merged = before.patched(&meta);
            check_metadata(&merged)?;
            merged
        }
    };
    let class = match meta.storage_class.as_str() {
        "" => before.storage_class.clone(),
        chosen => chosen.to_owned(),
    };
    let some = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_owned());
    let user = meta
        .user
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let source = format!("{bucket}/{}", encode_component(key));
    let result = s3
        .copy_object()
        .bucket(bucket)
        .key(key)
        .copy_source(source)
        .metadata_directive(MetadataDirective::Replace)
        .set_content_type(some(&meta.content_type))
        .set_cache_control(some(&meta.cache_control))
        .set_content_disposition(some(&meta.content_disposition))
        .set_content_encoding(some(&meta.content_encoding))
        .set_content_language(some(&meta.content_language))
        .set_expires(expires(&meta.expires)?)
        .set_metadata(Some(user))
        .storage_class(StorageClass::from(class.as_str()))
        // The object's own encryption is kept (a copy would otherwise take the bucket's default).
        .set_server_side_encryption(
            head.server_side_encryption()
                .cloned()
                .filter(|e| *e != ServerSideEncryption::Aes256 || head.ssekms_key_id().is_none()),
        )
        .set_ssekms_key_id(head.ssekms_key_id().map(str::to_owned))
        .send()
        .await
        .map(|_| ())
        .map_err(|err| s3_failure(err, Action::PutObject, &arn));
    let after = Metadata {
        storage_class: class,
        ..meta
    };
    let detail = changes(&before.pairs(), &after.pairs());
    target
        .audit(&role, Activity::MetadataEdit, &result, detail)
        .await?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tags_are_held_to_s3s_limits() {
        assert!(check_tags(&tags(&[
            ("team", "finance"),
            ("部門", "経理 2024"),
            ("a", "")
        ]))
        .is_ok());
        let ten: Vec<_> = (0..11).map(|n| (format!("k{n}"), "v".to_owned())).collect();
        let cases = [
            (ten, "at most 10 tags"),
            (tags(&[("", "v")]), "1 to 128"),
            (tags(&[(&"k".repeat(129), "v")]), "1 to 128"),
            (tags(&[("k", &"v".repeat(257))]), "at most 256"),
            (tags(&[("k", "<script>")]), "letters, digits"),
            (tags(&[("aws:created", "x")]), "AWS's own"),
            (tags(&[("k", "1"), ("k", "2")]), "twice"),
        ];
        for (set, says) in cases {
            let err = check_tags(&set).unwrap_err();
            assert!(err.to_string().contains(says), "{set:?}: {err}");
        }
        assert!(check_tags(&tags(&[(&"k".repeat(128), &"東".repeat(256))])).is_ok());
    }

    #[test]
    fn metadata_is_what_http_and_s3_carry() {
        let ok = Metadata {
            content_type: "text/csv; charset=utf-8".into(),
            cache_control: "max-age=3600".into(),
            expires: "2026-10-21".into(),
            user: tags(&[("owner", "finance"), ("Review_2", "yes")]),
            storage_class: "STANDARD_IA".into(),
            ..Metadata::default()
        };
        assert!(check_metadata(&ok).is_ok());
        let cases = [
            (
                Metadata {
                    content_disposition: "attachment; filename=\"é.txt\"".into(),
                    ..ok.clone()
                },
                "visible ASCII",
            ),
            (
                Metadata {
                    user: tags(&[("has space", "x")]),
                    ..ok.clone()
                },
                "letters, digits",
            ),
            (
                Metadata {
                    user: tags(&[("a", "1"), ("A", "2")]),
                    ..ok.clone()
                },
                "twice",
            ),
            (
                Metadata {
                    user: tags(&[("big", &"x".repeat(2048))]),
                    ..ok.clone()
                },
                "at most 2048",
            ),
            (
                Metadata {
                    storage_class: "COLD".into(),
                    ..ok.clone()
                },
                "storage class",
            ),
            (
                Metadata {
                    expires: "someday".into(),
                    ..ok.clone()
                },
                "Expires",
            ),
        ];
        for (meta, says) in cases {
            let err = check_metadata(&meta).unwrap_err();
            assert!(err.to_string().contains(says), "{meta:?}: {err}");
        }
        assert!(expires("Wed, 21 Oct 2026 07:28:00 GMT").unwrap().is_some());
    }

    #[test]
    fn the_audit_says_what_changed() {
        let before = tags(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let after = tags(&[("a", "1"), ("b", "20"), ("d", "4")]);
        assert_eq!(
            changes(&before, &after),
            json!({ "added": { "d": "4" }, "changed": { "b": ["2", "20"] }, "removed": ["c"] })
        );
    }
}
