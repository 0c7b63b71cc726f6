//! Share links to a folder against the AWS stand-in in strict mode: a listing that never leaves
//! the folder, files and zips signed on a fresh assumption narrowed to what they read, downloads
//! counted per file, and a password given once per browser session.

use app::{
    error::AppError,
    shares::ssr::{self as shares, folder, Holder},
};
use sqlx::PgPool;

use crate::support::standin::{assume_role_calls, connected, http, last_policy, READ_ALL};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_folder_link_lists_below_its_folder_and_hands_out_files_and_zips(pool: PgPool) {
    let (state, user, c) = connected(&pool, "folder-sharer", READ_ALL).await;
    let role = c.role_arn.clone().unwrap();
    let target =
        app::aws::access::Target::new(&state, user, c.id, "cv-mixed", "only-folders/").unwrap();
    let mut rules = crate::support::share_for(24, false);
    rules.max_downloads = Some(4);
    let link = shares::create(&target, &rules).await.unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    let anyone = Holder::default();

    let page = shares::landing(&state, token, &anyone).await.unwrap();
    assert!(page.folder && page.name == "only-folders" && page.size.is_none());
    let top = folder::listing(&state, token, &anyone, "", None)
        .await
        .unwrap();
    assert_eq!(top.folders, ["alpha/", "beta/", "gamma/"]);
    assert!(top.files.is_empty());
    let alpha = folder::listing(&state, token, &anyone, "alpha/", None)
        .await
        .unwrap();
    assert_eq!(alpha.files.len(), 1);
    assert_eq!(alpha.files[0].name, "alpha/a.txt");
    // The listing's credentials list under the folder listed, nothing above it; they read nothing.
    let policy = last_policy(&role).await;
    let condition = &policy["Statement"][0]["Condition"]["StringLike"]["s3:prefix"];
    assert_eq!(condition, "only-folders/alpha/*", "{policy}");
    assert!(!policy.to_string().contains("s3:GetObject"), "{policy}");

    // Paths that are not below the folder in shape are refused before AWS is asked.
    let before = assume_role_calls(&role).await;
    for bad in ["/etc/", "alpha"] {
        let err = folder::listing(&state, token, &anyone, bad, None).await;
        assert_eq!(err.unwrap_err(), AppError::KeyInvalid, "{bad}");
    }
    for bad in ["alpha/", "", "/alpha/a.txt"] {
        let err = folder::file(&state, token, &anyone, bad).await;
        assert_eq!(err.unwrap_err(), AppError::KeyInvalid, "{bad}");
    }
    assert_eq!(assume_role_calls(&role).await, before);
    // A folder link is no single object, and a file link no folder.
    assert_eq!(
        shares::open(&state, token, None, None, None)
            .await
            .unwrap_err(),
        AppError::NotFound
    );

    // One file: its URL reads it from S3; the credentials read that key alone.
    let url = folder::file(&state, token, &anyone, "alpha/a.txt")
        .await
        .unwrap();
    let got = http("GET", &url, &[]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, "content of only-folders/alpha/a.txt\n");
    let policy = last_policy(&role).await.to_string();
    assert!(policy.contains("only-folders/alpha/a.txt"), "{policy}");
    assert!(!policy.contains("only-folders/*"), "{policy}");

    // The zip of everything: three files, named below the folder, each a download.
    let zip = folder::zip(&state, token, &anyone, &["".into()], None)
        .await
        .unwrap();
    let mut names: Vec<&str> = zip.files.iter().map(|f| f.key.as_str()).collect();
    names.sort();
    assert_eq!(names, ["alpha/a.txt", "beta/b.txt", "gamma/c.txt"]);
    let got = http("GET", zip.files[1].url.as_deref().unwrap(), &[]).await;
    assert!(
        got.body.starts_with("content of only-folders/"),
        "{}",
        got.body
    );
    // 1 + 3 of 4 downloads: the next file is refused, and so is the listing.
    assert_eq!(
        folder::file(&state, token, &anyone, "beta/b.txt")
            .await
            .unwrap_err(),
        AppError::ShareDownloadsSpent
    );
    assert_eq!(
        folder::listing(&state, token, &anyone, "", None)
            .await
            .unwrap_err(),
        AppError::ShareDownloadsSpent
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_folder_links_password_is_given_once_and_guesses_are_counted(pool: PgPool) {
    let (state, user, c) = connected(&pool, "locked-folder", READ_ALL).await;
    let target =
        app::aws::access::Target::new(&state, user, c.id, "cv-mixed", "only-folders/").unwrap();
    let mut rules = crate::support::share_for(24, false);
    rules.password = Some("open the folder".into());
    let link = shares::create(&target, &rules).await.unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    let from = Some("198.51.100.9");
    let stranger = Holder {
        address: from,
        ..Default::default()
    };
    assert!(
        shares::landing(&state, token, &stranger)
            .await
            .unwrap()
            .password
    );
    assert_eq!(
        folder::listing(&state, token, &stranger, "", None)
            .await
            .unwrap_err(),
        AppError::SharePasswordWrong
    );
    let guess = Holder {
        password: Some("not the password"),
        ..stranger
    };
    let guess_err = folder::unlock(&state, token, &guess).await.unwrap_err();
    assert_eq!(guess_err, AppError::SharePasswordWrong);
    let right = Holder {
        address: from,
        password: Some("open the folder"),
        ..Default::default()
    };
    let id = folder::unlock(&state, token, &right).await.unwrap();
    // The browser's session now holds the link: no password with each request.
    let unlocked = [id];
    let holder = Holder {
        address: from,
        unlocked: &unlocked,
        ..Default::default()
    };
    assert!(
        !shares::landing(&state, token, &holder)
            .await
            .unwrap()
            .password
    );
    let top = folder::listing(&state, token, &holder, "", None)
        .await
        .unwrap();
    assert_eq!(top.folders.len(), 3);
    folder::file(&state, token, &holder, "gamma/c.txt")
        .await
        .unwrap();

    let outcomes: Vec<String> = sqlx::query_scalar(
        "select outcome from audit_events where action = 'share.open' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        outcomes,
        ["SharePasswordWrong", "SharePasswordWrong", "ok", "ok", "ok"]
    );
}
