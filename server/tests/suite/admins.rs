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
