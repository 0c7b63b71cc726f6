//! Where an interrupted upload goes on: S3's own record of the unfinished uploads of a key
//! (ListMultipartUploads, then ListParts), and nothing else. An upload is taken up again only
//! when every part S3 holds is the one this file's size plans.

use aws_sdk_s3::{
    config::http::HttpResponse, error::SdkError, operation::list_parts::ListPartsError,
};

use super::super::{rules::UploadRules, SentPart};
use crate::aws::access::Target;

/// The newest unfinished upload of exactly this key whose parts are those a file of `size`
/// has (each part's number and length as this size plans them): its id and the parts S3
/// holds, with their ETags. One whose parts do not fit (another file under the same name) is
/// left alone.
pub(super) async fn unfinished(
    s3: &aws_sdk_s3::Client,
    target: &Target<'_>,
    listed: &aws_sdk_s3::operation::list_multipart_uploads::ListMultipartUploadsOutput,
    size: u64,
) -> Option<(String, Vec<SentPart>)> {
    let (part_size, parts) = UploadRules::parts(size);
    let mut candidates: Vec<_> = listed
        .uploads()
        .iter()
        .filter(|u| u.key() == Some(target.key))
        .filter_map(|u| Some((u.initiated().map(|t| t.secs()), u.upload_id()?.to_owned())))
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, id) in candidates.into_iter().take(3) {
        let Ok(held) = held_parts(s3, target.bucket, target.key, &id).await else {
            continue;
        };
        let fits = held.iter().all(|(number, length, _)| {
            (1..=parts).contains(number)
                && *length == part_size.min(size - (u64::from(*number) - 1) * part_size)
        });
        if fits && !held.is_empty() {
            let held = held
                .into_iter()
                .map(|(number, _, etag)| SentPart {
                    number: number as i32,
                    etag,
                })
                .collect();
            return Some((id, held));
        }
    }
    None
}

/// The parts S3 holds for an upload (number, length, ETag), page by page (1000 parts a page).
pub(super) async fn held_parts(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Vec<(u32, u64, String)>, SdkError<ListPartsError, HttpResponse>> {
    let mut held = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = s3
            .list_parts()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .set_part_number_marker(marker.take())
            .send()
            .await?;
        held.extend(page.parts().iter().map(|p| {
            (
                p.part_number().unwrap_or(0).max(0) as u32,
                p.size().unwrap_or(0).max(0) as u64,
                p.e_tag().unwrap_or_default().to_owned(),
            )
        }));
        match (page.is_truncated(), page.next_part_number_marker()) {
            (Some(true), Some(next)) => marker = Some(next.to_owned()),
            _ => return Ok(held),
        }
    }
}
