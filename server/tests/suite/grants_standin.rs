//! Locations and grants against the AWS stand-in in strict mode, which holds every assumed-role
//! request to its session policy (`Deny`, `NotResource`, `NotAction` and the `s3:prefix`
//! condition included). Each test proves two things apart: Crossview refuses what lies outside
//! a location before asking AWS, and the credentials it gets could not do it anyway.

use std::time::Duration;

use app::{
    audit::Activity,
    aws::access::{assume_for, Target},
    browse::ssr as browse,
    error::AppError,
    grants::ssr::{self as grants, NewGrant},
    iam::Action,
    objects::ssr as objects,
    shares::ssr as shares,
    state::AppState,
};
use aws_sdk_s3::presigning::PresigningConfig;
use sqlx::PgPool;

use crate::support::standin::{
    assume_role_calls, assume_role_seen, browser_with_connection, connected, folder, http,
    last_policy, owner, put_object, READ_WRITE,
};

pub(crate) fn grant<'a>(location: i64, email: &'a str, writable: bool) -> NewGrant<'a> {
    NewGrant {
        location,
        email,
        writable,
        until: "",
    }
}

async fn listed(
    state: &AppState,
    user: i64,
    connection: i64,
    prefix: &str,
) -> Result<Vec<String>, AppError> {
    let listing = browse::objects(state, user, connection, "cv-work", (prefix, 1000), None).await?;
    Ok(listing.objects.into_iter().map(|o| o.key).collect())
}

/// What the stand-in answers a presigned request made with credentials Crossview assumed for
/// `user` on `key` (any action the request's scope allowed) when it is used for `other`.
async fn signed_elsewhere(
    state: &AppState,
    user: i64,
    connection: i64,
    key: &str,
    (method, other): (&str, &str),
) -> u16 {
    let target = Target::new(state, user, connection, "cv-work", key).unwrap();
    let (_, assumed) = target
        .assume_to_sign(Action::GetObject, Activity::Download)
        .await
        .unwrap();
    let s3 = assumed.s3(None);
    let expires = PresigningConfig::expires_in(Duration::from_secs(300)).unwrap();
    let url = match method {
        "PUT" => s3
            .put_object()
            .bucket("cv-work")
            .key(other)
            .presigned(expires)
            .await
            .unwrap(),
        _ => s3
            .get_object()
            .bucket("cv-work")
            .key(other)
            .presigned(expires)
            .await
            .unwrap(),
    };
    http(method, url.uri(), &[]).await.status
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_read_only_location_is_refused_changes_by_crossview_and_by_its_policy(pool: PgPool) {
    let (state, user, c) = connected(&pool, "scoped-owner", READ_WRITE).await;
    let base = folder("read-only");
    let inside = format!("{base}media/");
    put_object("cv-work", &format!("{inside}a.txt"));
    put_object("cv-work", &format!("{base}outside.txt"));
    grants::add(&pool, user, c.id, "cv-work", &inside, false)
        .await
        .unwrap();
    let role = c.role_arn.clone().unwrap();

    // The bucket page shows the location, not ListBuckets; nothing is assumed for it.
    let before = assume_role_calls(&role).await;
    let page = browse::buckets(&state, user, c.id, None).await.unwrap();
    let locations = page.locations.unwrap();
    assert_eq!(locations.len(), 1);
    assert_eq!(locations[0].uri(), format!("s3://cv-work/{inside}"));
    assert!(!locations[0].writable);
    assert!(page.buckets.is_empty());

    // Inside: reads work, and the listing says where it is.
    let listing = browse::objects(&state, user, c.id, "cv-work", (&inside, 1000), None)
        .await
        .unwrap();
    assert_eq!(listing.within.as_ref().unwrap().prefix, inside);
    let after_list = assume_role_calls(&role).await;
    assert_eq!(after_list, before + 1, "one assumption, for the listing");

    // Above it, beside it, another bucket, any change: refused before AWS.
    for (bucket, prefix) in [
        ("cv-work", ""),
        ("cv-work", base.as_str()),
        ("cv-mixed", ""),
    ] {
        let refused = browse::objects(&state, user, c.id, bucket, (prefix, 1000), None).await;
        assert_eq!(
            refused.unwrap_err(),
            AppError::OutsideLocation,
            "{bucket}/{prefix}"
        );
    }
    let made = objects::create_folder(&state, user, c.id, "cv-work", &inside, "new").await;
    assert_eq!(made.unwrap_err(), AppError::ReadOnlyLocation);
    assert_eq!(
        assume_role_calls(&role).await,
        after_list,
        "none reached AWS"
    );
    let refusals: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where connection_id = $1
         and outcome in ('OutsideLocation', 'ReadOnlyLocation') and class = 'refused'",
    )
    .bind(c.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        refusals, 4,
        "every refusal is in the audit trail, as refused"
    );

    // Even so, the credentials for a download here cannot write: a PUT signed with them is
    // refused by the policy AWS evaluates (the role itself may write anywhere).
    let key = format!("{inside}a.txt");
    let put = signed_elsewhere(&state, user, c.id, &key, ("PUT", &key)).await;
    assert_eq!(put, 403);
    let policy = last_policy(&role).await.to_string();
    assert!(
        policy.contains(r#""NotAction":["s3:Get*","s3:List*"]"#),
        "{policy}"
    );
    assert!(
        policy.contains(&format!("arn:aws:s3:::cv-work/{inside}*")),
        "{policy}"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_grantee_works_inside_the_granted_prefix_and_nowhere_else(pool: PgPool) {
    let (mut browser, c) = browser_with_connection(&pool, "finance", READ_WRITE).await;
    let state = crate::support::standin::state(pool.clone(), crate::support::aws().await).await;
    let owner_id: i64 = sqlx::query_scalar("select owner_id from connections where id = $1")
        .bind(c.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let base = folder("finance");
    let (granted, sibling) = (
        format!("{base}reports/2026/"),
        format!("{base}reports/2025/"),
    );
    for key in ["a.csv", "sub/b.csv"] {
        put_object("cv-work", &format!("{granted}{key}"));
    }
    put_object("cv-work", &format!("{sibling}old.csv"));
    let l2026 = grants::add(&pool, owner_id, c.id, "cv-work", &granted, true)
        .await
        .unwrap();
    grants::add(&pool, owner_id, c.id, "cv-work", &sibling, true)
        .await
        .unwrap();

    let mut dana = browser.another();
    dana.sign_up("dana@example.com", "a long enough passphrase")
        .await;
    let dana_id: i64 = sqlx::query_scalar("select id from users where email = 'dana@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    // Before the grant the connection does not exist for her.
    assert_eq!(
        listed(&state, dana_id, c.id, &granted).await.unwrap_err(),
        AppError::NotFound
    );
    let grant_id = grants::grant(
        &state,
        owner_id,
        c.id,
        grant(l2026, "Dana@Example.com", true),
    )
    .await
    .unwrap();
    // An invitation reaches nothing until she accepts it.
    assert_eq!(
        listed(&state, dana_id, c.id, &granted).await.unwrap_err(),
        AppError::NotFound
    );
    grants::answer(&pool, dana_id, grant_id, true)
        .await
        .unwrap();

    // Inside: browse, create, share.
    assert_eq!(
        listed(&state, dana_id, c.id, &granted).await.unwrap(),
        [format!("{granted}a.csv")]
    );
    let role = c.role_arn.clone().unwrap();
    let seen = assume_role_seen(&role).await;
    assert_eq!(seen["session_name"], format!("crossview-user-{dana_id}"));
    objects::create_folder(&state, dana_id, c.id, "cv-work", &granted, "mine")
        .await
        .unwrap();
    let shared_key = format!("{granted}a.csv");
    let target = Target::new(&state, dana_id, c.id, "cv-work", &shared_key).unwrap();
    let link = shares::create(&target, &crate::support::share_for(1, false))
        .await
        .unwrap();
    let token = link.path.strip_prefix("/s/").unwrap().to_owned();
    shares::open(&state, &token, None, None, None)
        .await
        .unwrap();

    // The parent, the sibling, the bucket, another bucket: refused, without an assumption.
    let calls = assume_role_calls(&role).await;
    for prefix in [format!("{base}reports/"), sibling.clone(), String::new()] {
        let refused = listed(&state, dana_id, c.id, &prefix).await.unwrap_err();
        assert_eq!(refused, AppError::OutsideLocation, "{prefix}");
    }
    let other = Target::new(
        &state,
        dana_id,
        c.id,
        "cv-work",
        &format!("{sibling}old.csv"),
    )
    .unwrap()
    .download_url(None)
    .await;
    assert_eq!(other.unwrap_err(), AppError::OutsideLocation);
    assert_eq!(assume_role_calls(&role).await, calls);

    // The same through the server functions with altered arguments.
    let body = format!(
        "connection={}&bucket=cv-work&prefix={}",
        c.id,
        app::url::encode_component(&sibling)
    );
    let answer = dana.call("objects", &body).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(answer.body.contains("OutsideLocation"), "{}", answer.body);
    // She never sees the role or its ExternalId.
    let page = dana.get(&format!("/connections/{}", c.id)).await;
    assert!(page.body.contains("does not exist"), "{}", page.body);
    let buckets = dana.get(&format!("/c/{}", c.id)).await;
    assert!(buckets.body.contains(&granted), "{}", buckets.body);
    assert!(!buckets.body.contains(&sibling));
    let home = dana.get("/").await;
    assert!(home.body.contains("Shared with me"), "{}", home.body);
    assert!(home.body.contains("finance@example.com"));
    for page in [&page, &buckets, &home] {
        assert!(!page.body.contains(&role) && !page.body.contains(&c.external_id));
    }

    // And her credentials could not have done it: neither a listing of the parent nor a
    // presigned URL for a key beside her prefix.
    let key = format!("{granted}a.csv");
    let elsewhere = format!("{sibling}old.csv");
    assert_eq!(
        signed_elsewhere(&state, dana_id, c.id, &key, ("GET", &elsewhere)).await,
        403
    );
    assert_eq!(
        signed_elsewhere(&state, dana_id, c.id, &key, ("GET", &key)).await,
        200
    );
    let (_, assumed) = assume_for(
        &state,
        dana_id,
        c.id,
        &app::aws::Scope::ListBucket {
            bucket: "cv-work".into(),
            prefix: granted.clone(),
        },
    )
    .await
    .unwrap();
    let parent = assumed
        .s3(None)
        .list_objects_v2()
        .bucket("cv-work")
        .prefix(format!("{base}reports/"))
        .send()
        .await;
    assert!(parent.is_err(), "the policy refuses listing the parent");

    // Every assumption of hers names the grant, its grantor and the location.
    let details: Vec<serde_json::Value> = sqlx::query_scalar(
        "select detail from audit_events where actor_id = $1 and action in ('object.list', 'object.download')
         and outcome = 'ok'",
    )
    .bind(dana_id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!details.is_empty());
    for detail in &details {
        assert_eq!(detail["grant"], grant_id, "{detail}");
        assert_eq!(detail["grantor"], owner_id);
        assert_eq!(detail["location"], format!("s3://cv-work/{granted}"));
    }

    // Admins see the grant on the connection's page.
    sqlx::query("update users set is_admin = true where id = $1")
        .bind(owner_id)
        .execute(&pool)
        .await
        .unwrap();
    let admin_page = browser.get(&format!("/admin/connections/{}", c.id)).await;
    assert!(
        admin_page.body.contains("dana@example.com"),
        "{}",
        admin_page.body
    );

    // Revoked: the next request is refused, and her link is dead.
    grants::revoke(&pool, owner_id, c.id, grant_id)
        .await
        .unwrap();
    assert_eq!(
        listed(&state, dana_id, c.id, &granted).await.unwrap_err(),
        AppError::NotFound
    );
    assert_eq!(
        shares::open(&state, &token, None, None, None)
            .await
            .unwrap_err(),
        AppError::ShareLinkGone
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where connection_id = $1 and action like 'grant.%'
         order by id",
    )
    .bind(c.id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(actions, ["grant.create", "grant.accept", "grant.revoke"]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_user_placeholder_gives_each_teammate_their_own_folder(pool: PgPool) {
    let (state, owner_id, c) = connected(&pool, "homes", READ_WRITE).await;
    let base = folder("homes");
    let location = grants::add(
        &pool,
        owner_id,
        c.id,
        "cv-work",
        &format!("{base}users/{{user}}"),
        true,
    )
    .await
    .unwrap();
    let ann = owner(&pool, "ann@example.com").await;
    let bob = owner(&pool, "bob@example.com").await;
    for (id, email) in [(ann, "ann@example.com"), (bob, "bob@example.com")] {
        let given = grants::grant(&state, owner_id, c.id, grant(location, email, true))
            .await
            .unwrap();
        grants::answer(&pool, id, given, true).await.unwrap();
        put_object("cv-work", &format!("{base}users/{id}/notes.txt"));
    }
    let (ann_home, bob_home) = (format!("{base}users/{ann}/"), format!("{base}users/{bob}/"));
    assert_eq!(
        listed(&state, ann, c.id, &ann_home).await.unwrap(),
        [format!("{ann_home}notes.txt")]
    );
    let policy = last_policy(c.role_arn.as_deref().unwrap())
        .await
        .to_string();
    assert!(policy.contains(&format!("cv-work/{ann_home}*")), "{policy}");
    assert!(!policy.contains("{user}"), "{policy}");
    assert_eq!(
        listed(&state, ann, c.id, &bob_home).await.unwrap_err(),
        AppError::OutsideLocation
    );
    assert_eq!(listed(&state, bob, c.id, &bob_home).await.unwrap().len(), 1);
    // The owner's own requests see their own id there too.
    let mine = browse::buckets(&state, owner_id, c.id, None).await.unwrap();
    assert_eq!(
        mine.locations.unwrap()[0].prefix,
        format!("{base}users/{owner_id}/")
    );
    // And ann's credentials cannot reach bob's folder.
    let key = format!("{ann_home}notes.txt");
    let bobs = format!("{bob_home}notes.txt");
    assert_eq!(
        signed_elsewhere(&state, ann, c.id, &key, ("GET", &bobs)).await,
        403
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_expired_grant_stops_at_its_date(pool: PgPool) {
    let (state, owner_id, c) = connected(&pool, "lapsing", READ_WRITE).await;
    let base = folder("lapsing");
    put_object("cv-work", &format!("{base}a.txt"));
    let location = grants::add(&pool, owner_id, c.id, "cv-work", &base, false)
        .await
        .unwrap();
    let eve = owner(&pool, "eve@example.com").await;
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1)).date();
    let until = tomorrow.to_string();
    let id = grants::grant(
        &state,
        owner_id,
        c.id,
        NewGrant {
            until: &until,
            ..grant(location, "eve@example.com", false)
        },
    )
    .await
    .unwrap();
    grants::answer(&pool, eve, id, true).await.unwrap();
    assert_eq!(listed(&state, eve, c.id, &base).await.unwrap().len(), 1);
    assert_eq!(grants::shared_with(&pool, eve).await.unwrap().len(), 1);
    // Its date comes: the next request is refused, and it is no longer listed as shared.
    sqlx::query("update grants set expires_at = now() - interval '1 second' where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        listed(&state, eve, c.id, &base).await.unwrap_err(),
        AppError::NotFound
    );
    assert!(grants::shared_with(&pool, eve).await.unwrap().is_empty());
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_key_too_long_for_an_exact_policy_is_fenced_to_its_location(pool: PgPool) {
    let (state, user, c) = connected(&pool, "long-keys", READ_WRITE).await;
    let base = folder("long");
    // IAM reads `*` as a wildcard: each is escaped as `${*}`, four characters in the policy.
    let key = format!("{base}{}.txt", "*".repeat(900));
    put_object("cv-work", &key);
    let role = c.role_arn.clone().unwrap();
    let target = Target::new(&state, user, c.id, "cv-work", &key).unwrap();
    // Unrestricted: the object statement names the whole bucket's keys.
    let url = target.download_url(None).await.unwrap();
    assert_eq!(http("GET", &url, &[]).await.status, 200);
    let seen = assume_role_seen(&role).await;
    let policy = seen["policy"].as_str().unwrap();
    assert!(
        policy.len() <= 2048 && policy.contains("cv-work/*"),
        "{policy}"
    );

    // Restricted: it names the location instead, and the fences still hold.
    grants::add(&pool, user, c.id, "cv-work", &base, true)
        .await
        .unwrap();
    let url = target.download_url(None).await.unwrap();
    assert_eq!(http("GET", &url, &[]).await.status, 200);
    let seen = assume_role_seen(&role).await;
    let policy = seen["policy"].as_str().unwrap();
    assert!(policy.len() <= 2048, "{}", policy.len());
    assert!(policy.contains(&format!("cv-work/{base}*")), "{policy}");
    assert!(!policy.contains("${*}${*}"), "{policy}");
}
