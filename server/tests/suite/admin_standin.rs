//! What an administrator does to users and connections, seen from the other side: a disabled
//! user is signed out and refused, a disabled connection reaches AWS no more (strict stand-in),
//! a re-check runs the owner's verification; and nobody else reaches any of it.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::{
    admins::user_id,
    support::{
        standin::{assume_role_calls, browser_with_connection, READ_ALL},
        Browser,
    },
};

const PASSWORD: &str = "a long enough passphrase";

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn non_admins_get_403_from_every_admin_page_and_function(pool: PgPool) {
    let mut admin = Browser::new(pool.clone(), false).await;
    admin.sign_up_admin("root@example.com", PASSWORD).await;
    let mut user = admin.another();
    user.sign_up("user@example.com", PASSWORD).await;
    let me = user_id(&pool, "user@example.com").await;

    for path in [
        "/admin",
        "/admin/users",
        &format!("/admin/users/{me}"),
        "/admin/connections",
        "/admin/connections/1",
        "/admin/audit?outcome=refused",
        "/admin/audit/export?format=csv",
    ] {
        let page = user.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        // (a connection that does not exist is a 404 page saying so, as everywhere)
        let allowed = admin.get(path).await.status;
        assert!(
            allowed.is_success() || allowed == StatusCode::NOT_FOUND,
            "{path}: {allowed}"
        );
    }
    for (endpoint, body) in [
        ("admin_users", String::new()),
        ("admin_user", format!("id={me}")),
        ("admin_connections", String::new()),
        ("admin_connection", "id=1".to_owned()),
        ("admin_audit", String::new()),
        ("admin_junk", String::new()),
        ("admin_audit_verify", String::new()),
        ("admin_set_admin", format!("id={me}&admin=true")),
        ("admin_set_user_disabled", format!("id={me}&disabled=true")),
        (
            "admin_set_connection_disabled",
            "id=1&disabled=true".to_owned(),
        ),
        ("admin_recheck_connection", "id=1".to_owned()),
        ("admin_delete_connection", "id=1".to_owned()),
    ] {
        let refused = user.call(endpoint, &body).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{endpoint}: {}",
            refused.body
        );
    }
    // Nothing changed: the user is still an ordinary, enabled account.
    let (is_admin, disabled): (bool, bool) =
        sqlx::query_as("select is_admin, disabled from users where id = $1")
            .bind(me)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!is_admin && !disabled);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_disabled_user_is_signed_out_at_once_and_back_when_enabled(pool: PgPool) {
    let mut admin = Browser::new(pool.clone(), false).await;
    admin.sign_up_admin("root@example.com", PASSWORD).await;
    let mut user = admin.another();
    user.sign_up("user@example.com", PASSWORD).await;
    let id = user_id(&pool, "user@example.com").await.to_string();
    assert_eq!(user.get("/").await.status, StatusCode::OK);

    let disable = [("id", id.as_str()), ("disabled", "true")];
    let done = admin
        .post_form("/api/admin_set_user_disabled", &disable)
        .await;
    assert_eq!(done.location(), format!("/admin/users/{id}"));
    // The open session ends on its next request; signing in again is refused.
    assert_eq!(user.get("/").await.location(), "/sign-in?next=/");
    let refused = user.sign_in("user@example.com", PASSWORD).await;
    assert!(
        refused.location().contains("error=AccountDisabled"),
        "{}",
        refused.location()
    );

    let enable = [("id", id.as_str()), ("disabled", "false")];
    admin
        .post_form("/api/admin_set_user_disabled", &enable)
        .await;
    user.sign_in("user@example.com", PASSWORD).await;
    assert_eq!(user.get("/").await.status, StatusCode::OK);

    // The last active administrator cannot disable themselves.
    let root = user_id(&pool, "root@example.com").await.to_string();
    let last = admin
        .post_form(
            "/api/admin_set_user_disabled",
            &[("id", root.as_str()), ("disabled", "true")],
        )
        .await;
    assert_eq!(
        last.location(),
        format!("/admin/users/{root}?error=LastAdmin")
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'user.%' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(audited, ["user.disable", "user.enable"]);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_admin_disables_enables_and_rechecks_a_connection(pool: PgPool) {
    let mut admin = Browser::new(pool.clone(), false).await;
    admin.sign_up_admin("root@example.com", PASSWORD).await;
    let (mut owner, c) = browser_with_connection(&pool, "admin-switch", READ_ALL).await;
    let role = c.role_arn.clone().unwrap();
    let buckets = format!("connection={}", c.id);
    assert_eq!(owner.call("buckets", &buckets).await.status, StatusCode::OK);

    let id = c.id.to_string();
    let off = [("id", id.as_str()), ("disabled", "true")];
    let done = admin
        .post_form("/api/admin_set_connection_disabled", &off)
        .await;
    assert_eq!(done.location(), format!("/admin/connections/{id}"));
    // Nobody can use it: no AssumeRole reaches AWS, the owner is told why.
    let before = assume_role_calls(&role).await;
    let refused = owner.call("buckets", &buckets).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("ConnectionDisabled"),
        "{}",
        refused.body
    );
    let verify = owner.call("connection_verify", &format!("id={id}")).await;
    assert_eq!(verify.status, StatusCode::FORBIDDEN, "{}", verify.body);
    let recheck = admin
        .post_form("/api/admin_recheck_connection", &[("id", id.as_str())])
        .await;
    assert!(
        recheck.location().contains("error=ConnectionDisabled"),
        "{}",
        recheck.location()
    );
    assert_eq!(
        assume_role_calls(&role).await,
        before,
        "no AssumeRole reached AWS"
    );
    let page = owner.get(&format!("/connections/{id}")).await;
    assert!(
        page.body.contains("Disabled by an administrator"),
        "{}",
        page.body
    );

    // Enabled, it is as it was; the admin's re-check runs the owner's three assumptions and the
    // write probe's.
    let on = [("id", id.as_str()), ("disabled", "false")];
    admin
        .post_form("/api/admin_set_connection_disabled", &on)
        .await;
    assert_eq!(owner.call("buckets", &buckets).await.status, StatusCode::OK);
    let before = assume_role_calls(&role).await;
    let recheck = admin
        .post_form("/api/admin_recheck_connection", &[("id", id.as_str())])
        .await;
    assert_eq!(
        recheck.location(),
        format!("/admin/connections/{id}?rechecked=1")
    );
    assert_eq!(assume_role_calls(&role).await - before, 4);
    let root = user_id(&pool, "root@example.com").await;
    let audited: Vec<(String, Option<i64>, String)> = sqlx::query_as(
        "select action, actor_id, outcome from audit_events
         where connection_id = $1 and (action like 'connection.%' or action like 'verify%')
           and actor_id = $2 order by id",
    )
    .bind(c.id)
    .bind(root)
    .fetch_all(&pool)
    .await
    .unwrap();
    let actions: Vec<&str> = audited.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "connection.disable",
            "connection.recheck",
            "connection.enable",
            "connection.verify",
            "connection.verify_wrong_external_id",
            "connection.verify_without_external_id",
            "connection.probe_writes",
            "connection.recheck",
        ]
    );
    assert_eq!(audited[1].2, "ConnectionDisabled");
    assert_eq!(audited[6].2, "ok");
}
