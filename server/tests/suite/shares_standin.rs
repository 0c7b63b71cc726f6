//! Share links against the AWS stand-in in strict mode: opened on a fresh assumption of the
//! owner's role until revoked or expired, every use audited.

use app::{
    aws::{
        access::{assume_for, Target},
        Scope,
    },
    error::{AppError, AwsProblem},
    shares::ssr as shares,
};
use sqlx::PgPool;

use crate::support::standin::{assume_role_calls, connected, READ_ALL};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn share_links_open_until_revoked_or_expired_and_every_use_is_audited(pool: PgPool) {
    let (state, user, c) = connected(&pool, "sharer", READ_ALL).await;
    let key = "walk/one/two/three/report.csv";
    let target = Target::new(&state, user, c.id, "cv-mixed", key).unwrap();
    assert!(
        shares::create(&target, &crate::support::share_for(0, false))
            .await
            .is_err()
    );
    assert!(
        shares::create(&target, &crate::support::share_for(30 * 24 + 1, false))
            .await
            .is_err()
    );
    let link = shares::create(&target, &crate::support::share_for(24, false))
        .await
        .unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    assert_eq!(token.len(), 64);
    // Only the hash is kept: the token itself is nowhere in the database.
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from share_links where token_hash = sha256($1::text::bytea)",
    )
    .bind(token)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);

    let url = shares::open(&state, token, None, None, None).await.unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    assert!(url.contains("response-content-disposition="), "{url}");

    let links = shares::list(&pool, user).await.unwrap();
    assert_eq!(links.len(), 1);
    assert!(!links[0].revoked && !links[0].expired);
    let other = crate::support::standin::owner(&pool, "not-the-sharer@example.com").await;
    assert_eq!(
        shares::revoke(&pool, other, links[0].id).await.unwrap_err(),
        AppError::NotFound
    );
    shares::revoke(&pool, user, links[0].id).await.unwrap();
    assert_eq!(
        shares::open(&state, token, None, None, None)
            .await
            .unwrap_err(),
        AppError::ShareLinkGone
    );

    let second = shares::create(&target, &crate::support::share_for(1, false))
        .await
        .unwrap();
    let second = second.path.strip_prefix("/s/").unwrap();
    sqlx::query(
        "update share_links set expires_at = now() - interval '1 second' where revoked_at is null",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        shares::open(&state, second, None, None, None)
            .await
            .unwrap_err(),
        AppError::ShareLinkGone
    );
    assert_eq!(
        shares::open(&state, &"0".repeat(64), None, None, None)
            .await
            .unwrap_err(),
        AppError::NotFound
    );

    let outcomes: Vec<String> = sqlx::query_scalar(
        "select outcome from audit_events where action = 'share.open' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // A token that matches no link is counted, not logged.
    assert_eq!(outcomes, ["ok", "revoked", "expired"]);

    // A link whose object went away says so, and is audited as such.
    let gone = Target::new(&state, user, c.id, "cv-mixed", "odd/not there").unwrap();
    assert_eq!(
        shares::create(&gone, &crate::support::share_for(1, false))
            .await
            .unwrap_err(),
        AppError::Aws(AwsProblem::ObjectNotFound)
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_disabled_owner_reaches_aws_no_more_and_their_links_are_gone(pool: PgPool) {
    let (state, user, c) = connected(&pool, "disabled-sharer", READ_ALL).await;
    let role = c.role_arn.clone().unwrap();
    let target = Target::new(
        &state,
        user,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let link = shares::create(&target, &crate::support::share_for(24, false))
        .await
        .unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    shares::open(&state, token, None, None, None).await.unwrap();

    sqlx::query("update users set disabled = true where id = $1")
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    let before = assume_role_calls(&role).await;
    let opened = shares::open(&state, token, None, None, None)
        .await
        .unwrap_err();
    assert_eq!(opened, AppError::ShareLinkGone);
    assert_eq!(opened.status(), axum::http::StatusCode::GONE);
    // Whatever asks for the connection, nothing is assumed for a disabled owner.
    let direct = assume_for(&state, user, c.id, &Scope::ListBuckets).await;
    assert_eq!(direct.unwrap_err(), AppError::AccountDisabled);
    assert_eq!(
        assume_role_calls(&role).await,
        before,
        "no AssumeRole reached AWS"
    );

    // Enabled again, the same link works again.
    sqlx::query("update users set disabled = false where id = $1")
        .bind(user)
        .execute(&pool)
        .await
        .unwrap();
    shares::open(&state, token, None, None, None).await.unwrap();
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_live_link_opens_after_junk_and_its_url_lives_five_minutes(pool: PgPool) {
    let (state, user, c) = connected(&pool, "short-lived", READ_ALL).await;
    assert_eq!(
        state.config.presign_seconds, 600,
        "the owner's own URLs: 10 minutes"
    );
    let target = Target::new(
        &state,
        user,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let own = target.download_url(None).await.unwrap();
    assert!(own.contains("X-Amz-Expires=600"), "{own}");
    let link = shares::create(&target, &crate::support::share_for(24, false))
        .await
        .unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();

    // Junk from one address spends its counter; the live link still opens from there.
    let address = Some("198.51.100.77");
    for i in 0..app::limits::SHARE_UNKNOWN_ADDRESS.max {
        let junk = format!("{i:064x}");
        assert_eq!(
            shares::open(&state, &junk, address, None, None)
                .await
                .unwrap_err(),
            AppError::NotFound
        );
    }
    let junk = format!("{:064x}", 999_999);
    assert_eq!(
        shares::open(&state, &junk, address, None, None)
            .await
            .unwrap_err(),
        AppError::RateLimited
    );
    let url = shares::open(&state, token, address, None, None)
        .await
        .unwrap();
    assert!(
        url.contains("X-Amz-Expires=300"),
        "a link's URL: 5 minutes, {url}"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_links_password_download_limit_networks_and_deadline_are_kept(pool: PgPool) {
    use app::shares::{LinkStatus, ShareRules};

    let (state, user, c) = connected(&pool, "rule-sharer", READ_ALL).await;
    let target = Target::new(
        &state,
        user,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let rules = |f: fn(&mut ShareRules)| {
        let mut rules = crate::support::share_for(24 * 30, false);
        f(&mut rules);
        rules
    };
    // Refused before anything is asked of AWS or stored.
    let before = assume_role_calls(c.role_arn.as_deref().unwrap()).await;
    for (bad, why) in [
        (
            rules(|r| r.password = Some("short".into())),
            AppError::SharePasswordInvalid,
        ),
        (
            rules(|r| r.max_downloads = Some(0)),
            AppError::ShareDownloadsInvalid,
        ),
        (
            rules(|r| r.networks = vec!["10.0.0.0/33".into()]),
            AppError::ShareNetworksInvalid,
        ),
        // 30 days is this deployment's longest (SHARE_MAX_DAYS), and no deadline is not allowed.
        (
            rules(|r| r.hours = Some(24 * 30 + 1)),
            AppError::ShareLifetime,
        ),
        (rules(|r| r.hours = None), AppError::ShareLifetime),
    ] {
        assert_eq!(shares::create(&target, &bad).await.unwrap_err(), why);
    }
    assert_eq!(
        assume_role_calls(c.role_arn.as_deref().unwrap()).await,
        before
    );

    // A password (kept as its Argon2 hash) and two downloads.
    let link = shares::create(
        &target,
        &rules(|r| {
            r.password = Some("correct horse".into());
            r.max_downloads = Some(2);
        }),
    )
    .await
    .unwrap();
    assert!(link.qr_svg.starts_with("<svg"), "{}", link.qr_svg);
    let token = link.path.strip_prefix("/s/").unwrap();
    let hash: String = sqlx::query_scalar("select password_hash from share_links")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("correct horse"));
    let from = Some("198.51.100.5");
    let page = shares::landing(
        &state,
        token,
        &app::shares::ssr::Holder {
            address: from,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(page.password && page.downloads_left == Some(2));
    for typed in [None, Some("wrong horse")] {
        assert_eq!(
            shares::open(&state, token, from, None, typed)
                .await
                .unwrap_err(),
            AppError::SharePasswordWrong
        );
    }
    // Wrong passwords took no download.
    for _ in 0..2 {
        let url = shares::open(&state, token, from, None, Some("correct horse"))
            .await
            .unwrap();
        assert!(url.contains("X-Amz-Signature="), "{url}");
    }
    assert_eq!(
        shares::open(&state, token, from, None, Some("correct horse"))
            .await
            .unwrap_err(),
        AppError::ShareDownloadsSpent
    );
    assert_eq!(
        shares::landing(
            &state,
            token,
            &app::shares::ssr::Holder {
                address: from,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .status,
        LinkStatus::Spent
    );

    // Guesses are counted per link and address: one address spends its own, not another's.
    let guesser = Some("203.0.113.66");
    let limited = shares::create(&target, &rules(|r| r.password = Some("open sesame".into())))
        .await
        .unwrap();
    let limited = limited.path.strip_prefix("/s/").unwrap();
    for _ in 0..app::limits::SHARE_PASSWORD.max {
        shares::open(&state, limited, guesser, None, Some("guess"))
            .await
            .unwrap_err();
    }
    assert_eq!(
        shares::open(&state, limited, guesser, None, Some("open sesame"))
            .await
            .unwrap_err(),
        AppError::RateLimited
    );
    shares::open(&state, limited, from, None, Some("open sesame"))
        .await
        .unwrap();

    // Networks: a block and a single address; anyone else, or an unknown address, is refused.
    let fenced = shares::create(
        &target,
        &rules(|r| r.networks = vec!["198.51.100.0/24\n2001:db8::7".into()]),
    )
    .await
    .unwrap();
    let fenced = fenced.path.strip_prefix("/s/").unwrap();
    shares::open(&state, fenced, Some("198.51.100.200"), None, None)
        .await
        .unwrap();
    shares::open(&state, fenced, Some("2001:db8::7"), None, None)
        .await
        .unwrap();
    for elsewhere in [Some("192.0.2.1"), Some("2001:db8::8"), None] {
        assert_eq!(
            shares::open(&state, fenced, elsewhere, None, None)
                .await
                .unwrap_err(),
            AppError::ShareNetworkRefused
        );
    }
    let listed = shares::list(&pool, user).await.unwrap();
    let fenced_row = listed.iter().find(|l| !l.networks.is_empty()).unwrap();
    assert_eq!(fenced_row.networks, ["198.51.100.0/24", "2001:db8::7/128"]);

    // The owner moves a deadline; an expired link works again; no deadline only where allowed.
    sqlx::query("update share_links set expires_at = now() - interval '1 minute' where id = $1")
        .bind(fenced_row.id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        shares::open(&state, fenced, from, None, None)
            .await
            .unwrap_err(),
        AppError::ShareLinkGone
    );
    assert_eq!(
        shares::change_expiry(&state, user, fenced_row.id, None)
            .await
            .unwrap_err(),
        AppError::ShareLifetime
    );
    let stranger = crate::support::standin::owner(&pool, "not-rule-sharer@example.com").await;
    assert_eq!(
        shares::change_expiry(&state, stranger, fenced_row.id, Some(1))
            .await
            .unwrap_err(),
        AppError::NotFound
    );
    shares::change_expiry(&state, user, fenced_row.id, Some(1))
        .await
        .unwrap();
    shares::open(&state, fenced, from, None, None)
        .await
        .unwrap();
    let mut config = (*state.config).clone();
    config.share_no_expiry = true;
    let open_ended = app::state::AppState {
        config: std::sync::Arc::new(config),
        ..state.clone()
    };
    let target = Target::new(
        &open_ended,
        user,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let forever = shares::create(&target, &rules(|r| r.hours = None))
        .await
        .unwrap();
    assert_eq!(forever.expires_at, None);

    // Every refusal is on the trail with its reason.
    let outcomes: Vec<String> = sqlx::query_scalar(
        "select outcome from audit_events where action = 'share.open' and outcome <> 'ok'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for reason in [
        "SharePasswordWrong",
        "ShareDownloadsSpent",
        "ShareNetworkRefused",
        "RateLimited",
        "expired",
    ] {
        assert!(
            outcomes.iter().any(|o| o == reason),
            "{reason}: {outcomes:?}"
        );
    }
}
