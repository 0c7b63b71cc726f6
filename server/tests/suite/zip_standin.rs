//! Zip signing against the strict stand-in: a folder is walked page after page on one
//! assumption (and one audit row) a request, each page's files signed for GET; the session
//! policy reads only what was chosen; archived objects and vanished keys are left out with the
//! reason, and requests naming anything outside the folder are refused before AWS is asked.

use app::{
    connections::Connection,
    error::AppError,
    iam::Action,
    state::AppState,
    walk::{
        ssr::{page, Here},
        ZipBatch, PAGE_FILES,
    },
};
use sqlx::PgPool;

use crate::support::standin::{
    assume_role_calls, audited, connected, folder, http, last_policy, put_object, put_object_as,
    ONE_BUCKET, READ_ALL,
};

async fn zip(
    (state, user, c): &(AppState, i64, Connection),
    bucket: &str,
    folder: &str,
    items: &[&str],
    token: Option<&str>,
) -> Result<ZipBatch, AppError> {
    let here = Here {
        state,
        user: *user,
        connection: c.id,
        bucket,
        folder,
        shared: false,
    };
    let items: Vec<String> = items.iter().map(|i| i.to_string()).collect();
    page(&here, &items, token.map(str::to_owned)).await
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_bucket_is_signed_page_after_page_on_one_assumption_each(pool: PgPool) {
    let world = connected(&pool, "zipper", READ_ALL).await;
    let role = world.2.role_arn.clone().unwrap();
    let mut token: Option<String> = None;
    let mut names = Vec::new();
    let mut pages = Vec::new();
    loop {
        let before = assume_role_calls(&role).await;
        let page = zip(&world, "cv-big", "", &[""], token.as_deref())
            .await
            .unwrap();
        assert_eq!(assume_role_calls(&role).await - before, 1);
        pages.push((page.files.len(), page.done));
        names.extend(page.files.iter().map(|f| f.name.clone()));
        if page.done == 1 {
            break;
        }
        token = page.token.clone();
        assert!(
            token.is_some(),
            "an unfinished folder says where it goes on"
        );
    }
    assert_eq!(pages, [(PAGE_FILES, 0), (PAGE_FILES, 0), (500, 1)]);
    assert_eq!(names.len(), 2500);
    assert_eq!(names[0], "key-00000.txt");
    assert_eq!(names[2499], "key-02499.txt");
    assert_eq!(
        audited(&pool, "object.zip").await,
        3,
        "audited once a request"
    );

    // The credentials may list the bucket and read its objects; nothing else.
    let policy = last_policy(&role).await.to_string();
    assert!(policy.contains("s3:GetObject"), "{policy}");
    assert!(policy.contains("arn:aws:s3:::cv-big/*"), "{policy}");
    assert!(
        !policy.contains("s3:Put") && !policy.contains("s3:Delete"),
        "{policy}"
    );

    // A signed URL reads its object, straight from S3.
    let page = zip(&world, "cv-big", "", &["key-00013.txt"], None)
        .await
        .unwrap();
    let url = page.files[0].url.clone().unwrap();
    let got = http("GET", &url, &[]).await;
    assert_eq!((got.status, got.body.as_str()), (200, "xxxxxx"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn chosen_keys_keep_their_names_and_what_cannot_be_read_is_left_out_with_why(pool: PgPool) {
    let world = connected(&pool, "selective-zipper", READ_ALL).await;
    let role = world.2.role_arn.clone().unwrap();
    let base = folder("zip");
    for key in ["東京 😀.txt", "a+b %<script>.txt", "deep/er/x.txt"] {
        put_object("cv-work", &format!("{base}{key}"));
    }
    put_object_as("cv-work", &format!("{base}deep/empty/"), "", "");
    put_object_as(
        "cv-work",
        &format!("{base}deep/cold.txt"),
        "cold",
        "GLACIER",
    );
    let items = [
        format!("{base}東京 😀.txt"),
        format!("{base}a+b %<script>.txt"),
        format!("{base}deep/"),
        format!("{base}gone.txt"),
    ];
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    let page = zip(&world, "cv-work", &base, &items, None).await.unwrap();
    let names: Vec<&str> = page.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "東京 😀.txt",
            "a+b %<script>.txt",
            "deep/empty/",
            "deep/er/x.txt"
        ]
    );
    assert_eq!(page.done, 4);
    let skipped: Vec<(&str, &str)> = page
        .skipped
        .iter()
        .map(|s| (s.key.strip_prefix(&base).unwrap(), s.why.as_str()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].0 == "deep/cold.txt" && skipped[0].1.contains("GLACIER"));
    assert_eq!(skipped[1], ("gone.txt", "it no longer exists"));
    // A folder marker is a folder entry, with nothing to fetch.
    assert!(page.files[2].url.is_none());
    let got = http("GET", page.files[0].url.as_ref().unwrap(), &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, format!("content of {base}東京 😀.txt\n"));

    // The session policy names the chosen keys and the folder, not the bucket.
    let policy = last_policy(&role).await.to_string();
    assert!(!policy.contains("arn:aws:s3:::cv-work/*\""), "{policy}");
    assert!(policy.contains("deep/*"), "{policy}");

    // Outside the folder, a token outside the first item, too many items: refused before AWS.
    let before = assume_role_calls(&role).await;
    let outside = zip(&world, "cv-work", &base, &["elsewhere/x.txt"], None).await;
    assert_eq!(outside.unwrap_err(), AppError::KeyInvalid);
    let token = zip(&world, "cv-work", &base, &items[2..3], Some("other")).await;
    assert_eq!(token.unwrap_err(), AppError::KeyInvalid);
    let many = vec![items[0]; 51];
    let err = zip(&world, "cv-work", &base, &many, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Request(m) if m.contains("50")),
        "{err}"
    );
    assert_eq!(assume_role_calls(&role).await, before);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_bucket_the_role_may_not_list_is_refused_with_the_reason(pool: PgPool) {
    let world = connected(&pool, "one-bucket-zipper", ONE_BUCKET).await;
    let err = zip(&world, "cv-other", "", &[""], None).await.unwrap_err();
    assert!(
        matches!(
            &err,
            AppError::Denied {
                action: Action::ListBucket,
                ..
            }
        ),
        "{err:?}"
    );
}
