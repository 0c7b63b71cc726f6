use std::sync::Arc;

use sqlx::PgPool;

use super::*;
use crate::{
    aws::{
        access::assume_for,
        tests::{mocked_gateway, mocked_gateway_in, temporary_credentials},
        Scope,
    },
    connections::parse_role_arn,
    state::AppState,
};

fn config(allow_custom: bool) -> Arc<Config> {
    let secret = "s".repeat(64);
    Arc::new(
        Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://unused".into()),
            "SESSION_SECRET" => Some(secret.clone()),
            "ALLOW_CUSTOM_EXTERNAL_ID" => Some(allow_custom.to_string()),
            _ => None,
        })
        .unwrap(),
    )
}

fn state(pool: &PgPool, aws: crate::aws::AwsGateway) -> AppState {
    AppState::new(
        leptos::config::LeptosOptions::builder()
            .output_name("crossview")
            .build(),
        pool.clone(),
        aws,
        config(false),
    )
}

async fn user(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar("insert into users (email, password_hash) values ($1, 'x') returning id")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[test]
fn generated_external_ids_are_long_random_and_alphanumeric() {
    let ids: std::collections::HashSet<String> =
        (0..1000).map(|_| generate_external_id()).collect();
    assert_eq!(ids.len(), 1000);
    assert!(ids
        .iter()
        .all(|id| id.len() == 40 && id.bytes().all(|b| b.is_ascii_alphanumeric())));
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn a_new_connection_is_pending_with_a_generated_id(pool: PgPool) {
    let owner = user(&pool, "a@example.com").await;
    let id = create(
        &pool,
        &config(false),
        owner,
        ("  Production  ", false),
        None,
    )
    .await
    .unwrap();
    let c = get(&pool, owner, id).await.unwrap();
    assert_eq!(
        (c.name.as_str(), c.status, c.role_arn.as_deref()),
        ("Production", Status::Pending, None)
    );
    assert_eq!(c.external_id.len(), 40);
    assert_eq!(
        create(&pool, &config(false), owner, ("   ", false), None)
            .await
            .unwrap_err(),
        AppError::ConnectionNameInvalid
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn user_chosen_external_ids_need_the_setting_and_stay_unique(pool: PgPool) {
    let a = user(&pool, "a@example.com").await;
    let b = user(&pool, "b@example.com").await;
    assert_eq!(
        create(&pool, &config(false), a, ("x", false), Some("my-own-id"))
            .await
            .unwrap_err(),
        AppError::Forbidden
    );
    let allowed = config(true);
    assert_eq!(
        create(&pool, &allowed, a, ("x", false), Some("bad id!"))
            .await
            .unwrap_err(),
        AppError::ExternalIdInvalid
    );
    create(&pool, &allowed, a, ("x", false), Some("my-own-id"))
        .await
        .unwrap();
    // The confused deputy: B may not reuse A's ID, even knowing it.
    assert_eq!(
        create(&pool, &allowed, b, ("y", false), Some("my-own-id"))
            .await
            .unwrap_err(),
        AppError::ExternalIdTaken
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn a_deleted_connections_external_id_is_never_used_again(pool: PgPool) {
    let a = user(&pool, "a@example.com").await;
    let b = user(&pool, "b@example.com").await;
    let allowed = config(true);
    let id = create(&pool, &allowed, a, ("x", false), Some("once-only-id"))
        .await
        .unwrap();
    delete(&pool, a, id).await.unwrap();
    // Its role may still trust the ID: neither its owner nor anyone else may claim it again.
    for owner in [a, b] {
        assert_eq!(
            create(
                &pool,
                &allowed,
                owner,
                ("again", false),
                Some("once-only-id")
            )
            .await
            .unwrap_err(),
            AppError::ExternalIdTaken
        );
    }
    // Deleting a user retires the IDs of their connections too.
    create(&pool, &allowed, b, ("y", false), Some("b-owned-id"))
        .await
        .unwrap();
    sqlx::query("delete from users where id = $1")
        .bind(b)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        create(&pool, &allowed, a, ("z", false), Some("b-owned-id"))
            .await
            .unwrap_err(),
        AppError::ExternalIdTaken
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn only_the_owner_sees_or_touches_a_connection(pool: PgPool) {
    let a = user(&pool, "a@example.com").await;
    let b = user(&pool, "b@example.com").await;
    let id = create(&pool, &config(false), a, ("A's", false), None)
        .await
        .unwrap();
    let arn = parse_role_arn("arn:aws:iam::123456789012:role/r").unwrap();
    assert_eq!(get(&pool, b, id).await.unwrap_err(), AppError::NotFound);
    assert_eq!(
        rename(&pool, b, id, "mine now").await.unwrap_err(),
        AppError::NotFound
    );
    assert_eq!(
        set_role(&pool, b, id, &arn).await.unwrap_err(),
        AppError::NotFound
    );
    assert_eq!(delete(&pool, b, id).await.unwrap_err(), AppError::NotFound);
    assert!(list(&pool, b).await.unwrap().is_empty());
    assert_eq!(
        get(&pool, a, id).await.unwrap().name,
        "A's",
        "nothing changed"
    );

    set_role(&pool, a, id, &arn).await.unwrap();
    rename(&pool, a, id, "Renamed").await.unwrap();
    let c = get(&pool, a, id).await.unwrap();
    assert_eq!(
        (c.account_id.as_deref(), c.name.as_str()),
        (Some("123456789012"), "Renamed")
    );
    delete(&pool, a, id).await.unwrap();
    assert_eq!(get(&pool, a, id).await.unwrap_err(), AppError::NotFound);

    let actions: Vec<String> = sqlx::query_scalar("select action from audit_events order by id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            "connection.create",
            "connection.set_role",
            "connection.rename",
            "connection.delete"
        ]
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn the_audit_log_is_append_only(pool: PgPool) {
    record(&pool, Event::new(Activity::Verify, Outcome::Ok))
        .await
        .unwrap();
    for statement in [
        "update audit_events set outcome = 'forged'",
        "delete from audit_events",
        "truncate audit_events",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn no_column_could_hold_a_credential(pool: PgPool) {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text from information_schema.columns
         where table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut connection_columns: Vec<&str> = columns
        .iter()
        .filter(|(t, _)| t == "connections")
        .map(|(_, c)| c.as_str())
        .collect();
    connection_columns.sort_unstable();
    // A new column must be reviewed here before it lands.
    let reviewed = [
        "account_id",
        "created_at",
        "disabled_at",
        "disabled_by",
        "external_id",
        "external_id_issued_at",
        "external_id_renewable",
        "id",
        "last_error",
        "last_verified_at",
        "name",
        "next_external_id",
        "owner_id",
        "read_only",
        "role_arn",
        "s3_endpoint",
        "status",
        "sts_endpoint",
        "trust_warning",
        "verify_started_at",
        "verify_step",
    ];
    assert_eq!(connection_columns, reviewed);
    // Reviewed: a SHA-256 of Crossview's own share-link and reset-link tokens (not AWS
    // credentials, and not the tokens themselves), and when those links stop working; when a
    // teammate's grant ends; an authenticator app's TOTP secret (Crossview's own second factor,
    // which opens nothing in AWS); a passkey's credential id (public, as is its key: WebAuthn
    // keeps the private key in the authenticator).
    let not_aws = [
        ("totp_factors", "secret"),
        ("passkeys", "credential_id"),
        ("share_links", "token_hash"),
        ("share_links", "expires_at"),
        ("password_resets", "token_hash"),
        ("password_resets", "expires_at"),
        ("grants", "expires_at"),
    ];
    for (table, column) in &columns {
        if not_aws.contains(&(table.as_str(), column.as_str())) {
            continue;
        }
        let lowered = column.to_lowercase();
        let suspicious = [
            "secret",
            "token",
            "access_key",
            "credential",
            "session",
            "expir",
        ]
        .iter()
        .any(|word| lowered.contains(word));
        assert!(
            !suspicious,
            "{table}.{column} looks like it could hold an AWS credential"
        );
    }
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn every_request_assumes_once_and_is_audited(pool: PgPool) {
    use aws_smithy_mocks::mock;
    let owner = user(&pool, "a@example.com").await;
    let stranger = user(&pool, "b@example.com").await;
    let id = create(&pool, &config(false), owner, ("c", false), None)
        .await
        .unwrap();
    let external_id = get(&pool, owner, id).await.unwrap().external_id;
    sqlx::query("update connections set role_arn = 'arn:aws:iam::123456789012:role/r', status = 'verified' where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let expected = external_id.clone();
    let rule = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(move |req| {
            req.external_id() == Some(expected.as_str())
                && req.role_session_name() == Some(&format!("crossview-user-{owner}"))
                && req
                    .policy()
                    .is_some_and(|p| p.contains("arn:aws:s3:::photos"))
        })
        .sequence()
        .output(temporary_credentials)
        .repeatedly()
        .build();
    let state = state(&pool, mocked_gateway(&[&rule]));
    let scope = Scope::ListBucket {
        bucket: "photos".into(),
        prefix: String::new(),
    };

    assume_for(&state, owner, id, &scope).await.unwrap();
    assert_eq!(rule.num_calls(), 1, "one AssumeRole for one request");
    assume_for(&state, owner, id, &scope).await.unwrap();
    assert_eq!(
        rule.num_calls(),
        2,
        "the next request assumes again: nothing is cached"
    );

    assert_eq!(
        assume_for(&state, stranger, id, &scope).await.unwrap_err(),
        AppError::NotFound
    );
    assert_eq!(rule.num_calls(), 2, "a stranger never causes an assumption");

    let audited: Vec<(String, Option<String>, String)> = sqlx::query_as(
        "select action, bucket, outcome from audit_events where action = 'object.list' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        vec![("object.list".into(), Some("photos".into()), "ok".into()); 2]
    );
}

#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn only_a_refusal_proves_the_external_id_is_pinned(pool: PgPool) {
    use aws_sdk_sts::{error::ErrorMetadata, operation::assume_role::AssumeRoleError};
    use aws_smithy_mocks::mock;
    let refused = |code: &'static str| {
        mock!(aws_sdk_sts::Client::assume_role).then_error(move || {
            AssumeRoleError::generic(ErrorMetadata::builder().code(code).build())
        })
    };
    let owner = user(&pool, "a@example.com").await;
    // What STS answers to: the right ExternalId, a wrong one, none.
    let cases = [
        // Throttled on the wrong ID: nothing proven, not verified, try again.
        (
            vec![refused("Throttling")],
            Some(AwsProblem::CheckIncomplete),
        ),
        (
            vec![refused("AccessDenied"), refused("Throttling")],
            Some(AwsProblem::CheckIncomplete),
        ),
        // Both refused: verified (the write probe's assumption after it refused too, so
        // nothing is learned of writes).
        (
            vec![
                refused("AccessDenied"),
                refused("AccessDenied"),
                refused("AccessDenied"),
            ],
            None,
        ),
    ];
    for (i, (after_the_right_id, expected)) in cases.into_iter().enumerate() {
        let id = create(
            &pool,
            &config(false),
            owner,
            (&format!("c{i}"), false),
            None,
        )
        .await
        .unwrap();
        let arn = parse_role_arn("arn:aws:iam::123456789012:role/r").unwrap();
        set_role(&pool, owner, id, &arn).await.unwrap();
        let right = mock!(aws_sdk_sts::Client::assume_role).then_output(temporary_credentials);
        let rules: Vec<_> = std::iter::once(&right).chain(&after_the_right_id).collect();
        let state = state(&pool, mocked_gateway_in("123456789012", &rules));
        let c = verify::verify(&state, owner, id).await.unwrap();
        match expected {
            Some(problem) => {
                assert_eq!(
                    (c.status, c.last_error),
                    (Status::Failed, Some(problem)),
                    "case {i}"
                );
                assert!(problem.to_string().contains("could not complete the check"));
            }
            None => assert_eq!(
                (c.status, c.last_error),
                (Status::Verified, None),
                "case {i}"
            ),
        }
    }
}

/// A check's result is stored only on the connection as it was checked: endpoints re-pointed
/// while it ran leave the connection pending, as a changed role does.
#[sqlx::test(migrator = "crate::db::MIGRATOR")]
async fn a_check_is_not_stored_on_endpoints_changed_while_it_ran(pool: PgPool) {
    let owner = user(&pool, "cas@example.com").await;
    let id = create(&pool, &config(false), owner, ("cas", false), None)
        .await
        .unwrap();
    let arn = "arn:aws:iam::123456789012:role/cas";
    set_role(&pool, owner, id, &parse_role_arn(arn).unwrap())
        .await
        .unwrap();
    let checked = get(&pool, owner, id).await.unwrap();
    let state = state(&pool, mocked_gateway(&[]));
    set_endpoints(&pool, owner, id, Some("https://elsewhere.example"), None)
        .await
        .unwrap();
    verify::store(&state, owner, &checked, arn, &verify::Outcome::Verified)
        .await
        .unwrap();
    assert_eq!(get(&pool, owner, id).await.unwrap().status, Status::Pending);
    // Unchanged, the same result is stored.
    let checked = get(&pool, owner, id).await.unwrap();
    verify::store(&state, owner, &checked, arn, &verify::Outcome::Verified)
        .await
        .unwrap();
    assert_eq!(
        get(&pool, owner, id).await.unwrap().status,
        Status::Verified
    );
}
