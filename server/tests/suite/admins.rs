//! Who administers a deployment: whoever signs up with the operator's one-time `BOOTSTRAP_TOKEN`,
//! then whoever an administrator or the operator (`server admin grant|revoke EMAIL`) makes one.

use std::process::Command;

use sqlx::PgPool;

use crate::support::Browser;

const PASSWORD: &str = "a long enough passphrase";

async fn is_admin(pool: &PgPool, email: &str) -> bool {
    sqlx::query_scalar("select is_admin from users where email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

pub async fn user_id(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar("select id from users where email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The server binary run as an operator would, against this test's database.
pub fn operator(pool: &PgPool, args: &[&str]) -> (bool, String) {
    operator_with(pool, args, &[])
}

/// [`operator`] with more of the operator's environment.
pub fn operator_with(pool: &PgPool, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL: run scripts/test.sh");
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", format!("{server}/{database}"))
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn admins_are_made_by_an_admin_or_the_operator_and_the_last_one_stays(pool: PgPool) {
    let mut first = Browser::new(pool.clone(), true).await;
    first.sign_up_admin("first@example.com", PASSWORD).await;
    let mut second = first.another();
    second.sign_up("second@example.com", PASSWORD).await;
    assert!(is_admin(&pool, "first@example.com").await);
    assert!(!is_admin(&pool, "second@example.com").await);

    // A user cannot make themselves an administrator.
    let id = user_id(&pool, "second@example.com").await.to_string();
    let grant = [("id", id.as_str()), ("admin", "true")];
    let refused = second.post_form("/api/admin_set_admin", &grant).await;
    assert_eq!(
        refused.location(),
        format!("/admin/users/{id}?error=Forbidden")
    );
    assert!(!is_admin(&pool, "second@example.com").await);

    // An administrator can. The session issued for the old rights ends: new rights come with a
    // fresh sign-in, and so a fresh session id.
    assert_eq!(second.get("/").await.status, 200);
    let granted = first.post_form("/api/admin_set_admin", &grant).await;
    assert_eq!(granted.location(), format!("/admin/users/{id}"));
    assert!(is_admin(&pool, "second@example.com").await);
    let old_session = second.cookie.clone();
    assert_eq!(second.get("/").await.location(), "/sign-in?next=/");
    second.sign_in("second@example.com", PASSWORD).await;
    assert_ne!(second.cookie, old_session);
    assert_eq!(second.get("/admin").await.status, 200);

    // So can the operator, from the command line, and undo it; unknown addresses are refused.
    let (ok, said) = operator(&pool, &["admin", "revoke", "second@example.com"]);
    assert!(ok, "{said}");
    assert!(!is_admin(&pool, "second@example.com").await);
    let (ok, said) = operator(&pool, &["admin", "grant", "nobody@example.com"]);
    assert!(!ok && said.contains("no account has the email"), "{said}");
    let (ok, said) = operator(&pool, &["admin", "promote", "x"]);
    assert!(!ok && said.contains("server admin grant EMAIL"), "{said}");

    // The last administrator stays one.
    let first_id = user_id(&pool, "first@example.com").await.to_string();
    let revoke = [("id", first_id.as_str()), ("admin", "false")];
    let last = first.post_form("/api/admin_set_admin", &revoke).await;
    assert_eq!(
        last.location(),
        format!("/admin/users/{first_id}?error=LastAdmin")
    );
    assert!(is_admin(&pool, "first@example.com").await);

    let who: Vec<(String, Option<String>)> = sqlx::query_as(
        "select e.action, coalesce(u.email, e.detail->>'by') from audit_events e
         left join users u on u.id = e.actor_id where e.action like 'admin.%' order by e.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        who,
        [
            ("admin.grant".into(), Some("first@example.com".into())),
            ("admin.revoke".into(), Some("operator".into())),
        ]
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_operator_issues_a_one_time_reset_link_that_sets_a_new_password(pool: PgPool) {
    let mut forgetful = Browser::new(pool.clone(), false).await;
    forgetful.sign_up("forgetful@example.com", PASSWORD).await;
    let (ok, said) = operator(&pool, &["admin", "reset", "nobody@example.com"]);
    assert!(!ok && said.contains("no account has the email"), "{said}");
    let (ok, said) = operator(&pool, &["admin", "reset", "Forgetful@Example.com"]);
    assert!(ok, "{said}");
    let path = said.split_whitespace().next().unwrap().to_owned();
    let token = path.strip_prefix("/reset/").unwrap().to_owned();
    assert_eq!(token.len(), 64, "{said}");
    // Only its hash is kept.
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from password_resets where token_hash = sha256($1::text::bytea)",
    )
    .bind(&token)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);

    // Anyone holding the link sees whose it is, and sets the password; nobody else.
    let mut holder = forgetful.another();
    let page = holder.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("forgetful@example.com"), "{}", page.body);
    let new = "a brand new passphrase here";
    let weak = [
        ("token", token.as_str()),
        ("new_password", "password123"),
        ("confirm_password", "password123"),
    ];
    let refused = holder.post_form("/api/reset_password", &weak).await;
    assert!(
        refused.location().starts_with(&format!("{path}?error=")),
        "{}",
        refused.location()
    );
    let form = [
        ("token", token.as_str()),
        ("new_password", new),
        ("confirm_password", new),
    ];
    let set = holder.post_form("/api/reset_password", &form).await;
    assert_eq!(set.location(), "/account?reset=1");
    assert_eq!(
        holder.get("/account").await.status,
        200,
        "signed in by the link"
    );
    // The old session is over, the old password too; the new one works.
    assert_eq!(forgetful.get("/account").await.status, 303);
    let mut later = forgetful.another();
    let old = later.sign_in("forgetful@example.com", PASSWORD).await;
    assert!(old.location().contains("error="), "{}", old.location());
    let fresh = later.sign_in("forgetful@example.com", new).await;
    assert_eq!(fresh.location(), "/");

    // Once only: the spent link, and a link past its hour, answer 410 with the reason.
    let again = later
        .another()
        .post_form("/api/reset_password", &form)
        .await;
    assert!(
        again.location().contains("error=ResetLinkInvalid"),
        "{}",
        again.location()
    );
    let (_, said) = operator(&pool, &["admin", "reset", "forgetful@example.com"]);
    let lapsed = said.split_whitespace().next().unwrap().to_owned();
    sqlx::query("update password_resets set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let page = later
        .another()
        .call("reset_link", &format!("token={}", &lapsed[7..]))
        .await;
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("ResetLinkInvalid"), "{}", page.body);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'password.%' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "password.reset_issue",
            "password.reset",
            "password.reset_issue"
        ]
    );
}
