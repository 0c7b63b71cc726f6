//! Browsing against the AWS stand-in in strict mode, on the buckets `scripts/aws_world.py
//! --browse` seeds: every listing and HEAD goes through a freshly assumed role whose own policy
//! the stand-in enforces.

use crate::support::standin::{
    assume_role_calls, assumptions, browser_with_connection, connected, connection_with_role, env,
    owner, put_role, state, verify, LIST_ONLY, ONE_BUCKET, READ_ALL,
};
use app::{
    aws::AwsGateway,
    browse::{ssr as browse, Listing},
    connections::{ssr as connections, Connection, Status},
    error::{AppError, AwsProblem},
    location,
    state::AppState,
};
use sqlx::PgPool;

async fn list(
    (state, user, c): &(AppState, i64, Connection),
    bucket: &str,
    prefix: &str,
    token: Option<String>,
) -> Result<Listing, AppError> {
    browse::objects(state, *user, c.id, bucket, (prefix, 1000), token).await
}

fn keys(listing: &Listing) -> Vec<&str> {
    listing.objects.iter().map(|o| o.key.as_str()).collect()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_big_bucket_pages_1000_1000_500_and_back(pool: PgPool) {
    let world = connected(&pool, "pager", READ_ALL).await;
    let first = list(&world, "cv-big", "", None).await.unwrap();
    let second = list(&world, "cv-big", "", first.next.clone())
        .await
        .unwrap();
    let third = list(&world, "cv-big", "", second.next.clone())
        .await
        .unwrap();
    let sizes = [&first, &second, &third].map(|l| l.objects.len());
    assert_eq!(sizes, [1000, 1000, 500]);
    assert_eq!(keys(&first)[0], "key-00000.txt");
    assert_eq!(keys(&second)[0], "key-01000.txt");
    assert_eq!(keys(&third)[499], "key-02499.txt");
    assert!(third.next.is_none(), "the last page has no next");

    // Back: the token kept for page two (the cursor stack) brings the same page again.
    let again = list(&world, "cv-big", "", first.next.clone())
        .await
        .unwrap();
    assert_eq!(keys(&again), keys(&second));

    // A filter is a prefix sent to S3, not a search over everything listed.
    let filtered = list(&world, "cv-big", "key-024", None).await.unwrap();
    assert_eq!(filtered.objects.len(), 100);
    assert!(filtered.next.is_none());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn folders_only_empty_markers_odd_keys_and_deep_prefixes(pool: PgPool) {
    let world = connected(&pool, "walker", READ_ALL).await;

    let only_folders = list(&world, "cv-mixed", "only-folders/", None)
        .await
        .unwrap();
    assert_eq!(
        only_folders.folders,
        [
            "only-folders/alpha/",
            "only-folders/beta/",
            "only-folders/gamma/"
        ]
    );
    assert!(only_folders.objects.is_empty());

    let empty = list(&world, "cv-empty", "", None).await.unwrap();
    assert!(empty.folders.is_empty() && empty.objects.is_empty());

    // A zero-byte `name/` marker is the folder itself: shown as a folder, never as a file.
    let markers = list(&world, "cv-mixed", "markers/", None).await.unwrap();
    assert_eq!(markers.folders, ["markers/empty/"]);
    let marker = list(&world, "cv-mixed", "markers/empty/", None)
        .await
        .unwrap();
    assert!(marker.objects.is_empty() && marker.folders.is_empty());

    // Odd keys come back byte for byte. `..`, a key ending in `/` and the `/` inside
    // `</script>` make folders at this level, as S3's delimiter makes them.
    let odd = list(&world, "cv-mixed", "odd/", None).await.unwrap();
    assert_eq!(
        odd.folders,
        ["odd/../", "odd/<script>alert(1)</", "odd/trailing slash/"]
    );
    let mut expected = vec![
        "odd/\"><img src=x onerror=alert(1)>.txt",
        "odd/100% done.txt",
        "odd/a+b=c.txt",
        "odd/hash#tag.txt",
        "odd/what?.txt",
        "odd/with space.txt",
        "odd/ünïcødé — 日本語.txt",
    ];
    expected.sort_unstable();
    assert_eq!(keys(&odd), expected);
    let dots = list(&world, "cv-mixed", "odd/../", None).await.unwrap();
    assert_eq!(keys(&dots), ["odd/../dots.txt"]);
    // A key ending in `/` that has content is an object, found inside its own "folder".
    let trailing = list(&world, "cv-mixed", "odd/trailing slash/", None)
        .await
        .unwrap();
    assert_eq!(keys(&trailing), ["odd/trailing slash/"]);

    // Twenty levels down, one folder at a time, as the breadcrumbs build them.
    let mut prefix = String::new();
    for level in 1..=20 {
        let here = list(&world, "cv-mixed", &prefix, None).await.unwrap();
        let next = format!("{prefix}level-{level:02}/");
        assert!(here.folders.contains(&next), "{next} in {:?}", here.folders);
        prefix = next;
    }
    let bottom = list(&world, "cv-mixed", &prefix, None).await.unwrap();
    assert_eq!(keys(&bottom), [format!("{prefix}bottom.txt").as_str()]);
    assert_eq!(location::breadcrumbs(&prefix).len(), 20);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_one_bucket_role_adds_its_bucket_by_name_and_is_denied_the_rest(pool: PgPool) {
    let (state, user, c) = connected(&pool, "one-bucket", ONE_BUCKET).await;

    let page = browse::buckets(&state, user, c.id, None).await.unwrap();
    assert!(page.list_denied, "no s3:ListAllMyBuckets: said plainly");
    assert!(page.buckets.is_empty() && page.added.is_empty());

    let added = browse::add_bucket(&state, user, c.id, " cv-mixed ")
        .await
        .unwrap();
    assert_eq!(added, "cv-mixed");
    let page = browse::buckets(&state, user, c.id, None).await.unwrap();
    assert_eq!(
        page.added.iter().map(|b| &b.name[..]).collect::<Vec<_>>(),
        ["cv-mixed"]
    );
    let walk = browse::objects(&state, user, c.id, "cv-mixed", ("walk/", 1000), None)
        .await
        .unwrap();
    assert_eq!(walk.folders, ["walk/one/"]);

    let denied = AppError::Denied {
        action: app::iam::Action::ListBucket,
        resource: "arn:aws:s3:::cv-other".into(),
    };
    let refused = browse::add_bucket(&state, user, c.id, "cv-other").await;
    assert_eq!(refused.unwrap_err(), denied);
    let listed = browse::objects(&state, user, c.id, "cv-other", ("", 1000), None).await;
    assert_eq!(listed.unwrap_err(), denied);
    // Nothing refused was stored.
    let page = browse::buckets(&state, user, c.id, None).await.unwrap();
    assert_eq!(page.added.len(), 1);

    let missing = browse::add_bucket(&state, user, c.id, "no-such-bucket-here").await;
    assert!(
        matches!(
            missing.unwrap_err(),
            AppError::Aws(AwsProblem::BucketNotFound) | AppError::Denied { .. }
        ),
        "a bucket that does not exist is never added"
    );
    assert_eq!(
        browse::add_bucket(&state, user, c.id, "Not A Bucket!")
            .await
            .unwrap_err(),
        AppError::BucketNameInvalid
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn details_show_everything_head_object_knows(pool: PgPool) {
    let (state, user, c) = connected(&pool, "reader", READ_ALL).await;
    let key = "walk/one/two/three/report.csv";
    let d = browse::details(&state, user, c.id, "cv-mixed", key)
        .await
        .unwrap();
    assert_eq!(d.size, 20);
    assert_eq!(d.meta.content_type, "text/csv");
    assert_eq!(d.encryption.as_deref(), Some("AES256"));
    assert_eq!(d.meta.user, [("owner".to_owned(), "finance".to_owned())]);
    assert_eq!(
        d.tags,
        Some(vec![("team".to_owned(), "finance".to_owned())])
    );
    assert!(d.etag.is_some_and(|e| e.len() > 2));
    assert_eq!(d.s3_uri, format!("s3://cv-mixed/{key}"));
    assert_eq!(d.arn, format!("arn:aws:s3:::cv-mixed/{key}"));

    let odd = "odd/<script>alert(1)</script>.txt";
    let d = browse::details(&state, user, c.id, "cv-mixed", odd)
        .await
        .unwrap();
    assert_eq!(d.key, odd);

    let gone = browse::details(&state, user, c.id, "cv-mixed", "odd/no such key").await;
    assert_eq!(gone.unwrap_err(), AppError::Aws(AwsProblem::ObjectNotFound));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_role_without_get_object_is_told_which_permission_is_missing(pool: PgPool) {
    let (state, user, c) = connected(&pool, "lister", LIST_ONLY).await;
    let key = "walk/one/two/three/report.csv";
    let err = browse::details(&state, user, c.id, "cv-mixed", key)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AppError::Denied {
            action: app::iam::Action::GetObject,
            resource: format!("arn:aws:s3:::cv-mixed/{key}"),
        }
    );
    // Listing still works: only the missing permission is refused.
    assert!(list(&(state, user, c), "cv-mixed", "walk/", None)
        .await
        .is_ok());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn every_call_assumes_exactly_once(pool: PgPool) {
    let (state, user, c) = connected(&pool, "counted", READ_ALL).await;
    let role = c.role_arn.as_deref().unwrap();
    let (state, c) = (&state, &c);
    let key = "walk/one/two/three/report.csv";

    let calls = assumptions(role, browse::buckets(state, user, c.id, None)).await;
    assert_eq!(calls, 1, "the buckets page");
    let calls = assumptions(
        role,
        browse::objects(state, user, c.id, "cv-big", ("", 1000), None),
    )
    .await;
    assert_eq!(calls, 1, "a folder page");
    let calls = assumptions(role, browse::details(state, user, c.id, "cv-mixed", key)).await;
    assert_eq!(calls, 1, "details: HeadObject and tags on one assumption");
    let calls = assumptions(role, browse::add_bucket(state, user, c.id, "cv-empty")).await;
    assert_eq!(calls, 1, "adding a bucket");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_page_load_assumes_once_and_a_revoked_role_fails_the_very_next(pool: PgPool) {
    let (mut browser, c) = browser_with_connection(&pool, "page-loads", READ_ALL).await;
    let role = c.role_arn.clone().unwrap();
    let folder = location::folder_href(c.id, "cv-mixed", "odd/");

    let before = assume_role_calls(&role).await;
    let page = browser.get(&folder).await;
    assert_eq!(
        assume_role_calls(&role).await - before,
        1,
        "one page load, one AssumeRole"
    );
    assert_eq!(page.status, 200);
    // Text from S3 is text: the odd keys are escaped, never markup.
    for escaped in [
        "&lt;script&gt;alert(1)&lt;",
        "&lt;img src=x onerror=alert(1)&gt;.txt",
    ] {
        assert!(page.body.contains(escaped), "{escaped} in the page");
    }
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(!page.body.contains("<img src=x"));

    // The owner revokes Crossview: the role now trusts some other ExternalId.
    put_role("page-loads", Some("RevokedRevokedRevoked"), Some(READ_ALL));
    // (The page streams: its status is sent before the listing fails, so only its text tells.)
    let page = browser.get(&folder).await;
    assert!(
        page.body
            .contains("AWS refused to let Crossview assume the role"),
        "{}",
        page.body
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn folder_urls_round_trip_odd_keys(pool: PgPool) {
    let (mut browser, c) = browser_with_connection(&pool, "urls", READ_ALL).await;
    for (folder, child) in [
        ("odd/../", "dots.txt"),
        ("odd/trailing slash/", ""),
        ("walk/one/two/", "three/"),
    ] {
        let page = browser
            .get(&location::folder_href(c.id, "cv-mixed", folder))
            .await;
        assert_eq!(page.status, 200, "{folder}");
        let child_href = match child.ends_with('/') || child.is_empty() {
            true => location::folder_href(c.id, "cv-mixed", &format!("{folder}{child}")),
            false => location::object_href(c.id, "cv-mixed", &format!("{folder}{child}")),
        };
        if !child.is_empty() {
            let escaped = child_href.replace('&', "&amp;");
            assert!(
                page.body.contains(&escaped),
                "{folder}: {escaped} in the page"
            );
        }
    }
    let key = "odd/ünïcødé — 日本語.txt";
    let page = browser
        .get(&location::object_href(c.id, "cv-mixed", key))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("s3://cv-mixed/{key}")),
        "details of {key}"
    );
}

/// The folder page sends its listing once, as the table's rows: each key is in its row's
/// `data-key` (percent-encoded), and nowhere else whole, in particular not in the hydration data.
#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_folder_page_sends_its_keys_once_as_rows(pool: PgPool) {
    let (mut browser, c) = browser_with_connection(&pool, "rows-once", READ_ALL).await;
    let page = browser
        .get(&location::folder_href(c.id, "cv-mixed", "odd/"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    for key in ["odd/with space.txt", "odd/a+b=c.txt", "odd/100% done.txt"] {
        let data_key = format!(r#"data-key="{}""#, app::url::encode_component(key));
        assert_eq!(page.body.matches(&data_key).count(), 1, "{data_key}");
        assert!(!page.body.contains(key), "{key} travels twice");
    }
    assert!(page
        .body
        .contains(r#"data-key="odd%2Ftrailing%20slash%2F""#));
    // The hydration data (JSON in a JS string) holds the rest of the listing, not its rows.
    assert!(
        page.body.contains(r#"\"connection\":\"rows-once\""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"\"objects\""#), "{}", page.body);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_connection_with_its_own_endpoints_uses_them_path_style(pool: PgPool) {
    // Crossview's default AWS endpoint goes nowhere: only the connection's endpoints can work.
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .load()
        .await;
    let aws = AwsGateway::new(base.clone(), aws_sdk_sts::Client::new(&base), false);
    let mut state = state(pool.clone(), aws).await;
    let store = env("AWS_ENDPOINT_URL");
    // The operator allows exactly the store (loopback, so named exactly; http in development).
    let mut config = (*state.config).clone();
    config.allow_custom_endpoints = true;
    config.custom_endpoint_hosts = vec![store.trim_start_matches("http://").to_owned()];
    state.config = std::sync::Arc::new(config);
    let user = owner(&pool, "own-store@example.com").await;
    let c = connection_with_role(&state, user, "own-store", None, Some(READ_ALL)).await;
    connections::set_endpoints(&pool, user, c.id, Some(&store), Some(&store))
        .await
        .unwrap();
    let c = verify(&state, user, &c).await;
    assert_eq!((c.status, c.last_error), (Status::Verified, None));

    // Off the operator's list, the connection reaches nothing, though it was verified.
    let mut narrowed = (*state.config).clone();
    narrowed.custom_endpoint_hosts = vec!["minio.example.com:9000".into()];
    let narrowed = app::state::AppState {
        config: std::sync::Arc::new(narrowed),
        ..state.clone()
    };
    let before = crate::support::standin::assume_role_calls(c.role_arn.as_deref().unwrap()).await;
    assert_eq!(
        browse::objects(&narrowed, user, c.id, "cv-mixed", ("walk/", 1000), None)
            .await
            .unwrap_err(),
        AppError::EndpointNotAllowed
    );
    assert_eq!(
        crate::support::standin::assume_role_calls(c.role_arn.as_deref().unwrap()).await,
        before
    );

    let walk = browse::objects(&state, user, c.id, "cv-mixed", ("walk/", 1000), None)
        .await
        .unwrap();
    assert_eq!(walk.folders, ["walk/one/"]);
    let key = "walk/one/two/three/report.csv";
    let d = browse::details(&state, user, c.id, "cv-mixed", key)
        .await
        .unwrap();
    assert_eq!(d.size, 20);
    // No region is remembered for a store that has none.
    let regions: i64 = sqlx::query_scalar("select count(*) from bucket_regions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(regions, 0);
}

/// The key `scripts/aws_world.py --browse` seeds to break out of the markup (HOSTILE_KEYS).
const HOSTILE_KEY: &str = r#"tricky/</title><meta http-equiv="refresh" content="0;url=https:evil.example"><img id=x src=x onerror=alert(1)> "q" 'a' & b.txt"#;

/// No element from the hostile key is in the page, and its one `<title>` reads `title`.
fn assert_inert(body: &str, title: &str) {
    for injected in ["<meta http-equiv", "<img"] {
        assert!(!body.contains(injected), "{injected} in {body}");
    }
    let head = body.split_once("</head>").map_or(body, |(head, _)| head);
    let escaped = app::ui::escape_html(&format!("{title} · Crossview"));
    assert!(
        head.contains(&format!("<title>{escaped}</title>")),
        "{title} in {head}"
    );
    assert_eq!(body.matches("<title>").count(), 1);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_key_that_closes_the_title_stays_text_in_every_page_that_names_it(pool: PgPool) {
    let (mut browser, c) = browser_with_connection(&pool, "hostile-key", READ_ALL).await;
    let folder = location::folder_of(HOSTILE_KEY);
    assert_eq!(folder, "tricky/</");
    let name = location::name_in(HOSTILE_KEY, folder);

    let page = browser
        .get(&location::folder_href(c.id, "cv-mixed", folder))
        .await;
    assert_inert(&page.body, "cv-mixed/tricky/</");
    // Listed, as text, with a link that leads to exactly this key.
    let href = location::object_href(c.id, "cv-mixed", HOSTILE_KEY);
    assert!(
        page.body.contains(&href.replace('&', "&amp;")),
        "{href} in {}",
        page.body
    );
    assert!(
        page.body.contains("title&gt;&lt;meta http-equiv="),
        "{name}"
    );

    let page = browser.get(&href).await;
    assert_inert(&page.body, HOSTILE_KEY);
    assert!(page
        .body
        .contains("s3://cv-mixed/tricky/&lt;/title&gt;&lt;meta http-equiv="));

    // A share link to it whose role has since lost s3:GetObject: the refusal names the key.
    let state = crate::support::standin::state(pool.clone(), crate::support::aws().await).await;
    let user: i64 =
        sqlx::query_scalar("select id from users where email = 'hostile-key@example.com'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let target =
        app::aws::access::Target::new(&state, user, c.id, "cv-mixed", HOSTILE_KEY).unwrap();
    let link = app::shares::ssr::create(&target, &crate::support::share_for(1, false))
        .await
        .unwrap();
    put_role("hostile-key", Some(&c.external_id), Some(LIST_ONLY));
    let refused = browser.get(&format!("{}/download", link.path)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("arn:aws:s3:::cv-mixed/tricky/&lt;/title&gt;&lt;meta"),
        "{}",
        refused.body
    );
    for injected in ["<meta http-equiv", "<img"] {
        assert!(!refused.body.contains(injected), "{}", refused.body);
    }
}
