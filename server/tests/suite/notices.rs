//! Notices: what Crossview tells an account, kept in its list in the app (the only place they
//! are read without a mail server) and, with one, emailed too. An owner is told what an
//! administrator did to their connection, a link's owner when it is opened (if asked), an
//! invited address of its invitation; nobody reads another account's notices.

use app::{aws::access::Target, mail::Letter, notices::Notice, notify, shares::ssr as shares};
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::{
    admins::user_id,
    mail::{mailing, messages_to},
    support::{
        standin::{browser_with_connection, connected, READ_ALL, READ_WRITE},
        state, Browser,
    },
};

const PASSWORD: &str = "a long enough passphrase";

async fn notices(browser: &mut Browser) -> Vec<Notice> {
    let page = browser.call("notices", "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    serde_json::from_str(&page.body).unwrap()
}

async fn unread(browser: &mut Browser) -> i64 {
    browser
        .call("notices_unread", "")
        .await
        .body
        .parse()
        .unwrap()
}

/// The account's notices as stored, oldest first: (subject, body).
async fn kept(pool: &PgPool, user: i64) -> Vec<(String, String)> {
    sqlx::query_as("select subject, body from notices where user_id = $1 order by id")
        .bind(user)
        .fetch_all(pool)
        .await
        .unwrap()
}

fn subjects(list: &[Notice]) -> Vec<&str> {
    list.iter().map(|n| n.subject.as_str()).collect()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn an_owner_reads_in_the_app_what_an_administrator_did_to_their_connection(pool: PgPool) {
    let mut admin = Browser::new(pool.clone(), false).await;
    admin.sign_up_admin("root@example.com", PASSWORD).await;
    let (mut owner, c) = browser_with_connection(&pool, "told-owner", READ_ALL).await;
    let id = c.id.to_string();
    assert_eq!(unread(&mut owner).await, 0);

    let set = async |admin: &mut Browser, disabled: &str| {
        let form = [("id", id.as_str()), ("disabled", disabled)];
        admin
            .post_form("/api/admin_set_connection_disabled", &form)
            .await
    };
    set(&mut admin, "true").await;
    assert_eq!(unread(&mut owner).await, 1);
    // Disabling what is disabled changes nothing and tells nothing.
    set(&mut admin, "true").await;
    assert_eq!(unread(&mut owner).await, 1);
    set(&mut admin, "false").await;
    let recheck = admin
        .post_form("/api/admin_recheck_connection", &[("id", &id)])
        .await;
    assert_eq!(
        recheck.location(),
        format!("/admin/connections/{id}?rechecked=1")
    );

    let list = notices(&mut owner).await;
    assert_eq!(
        subjects(&list),
        [
            "An administrator re-checked your connection",
            "An administrator enabled your connection",
            "An administrator disabled your connection",
        ]
    );
    assert!(list[2].body.contains("“told-owner”"), "{}", list[2].body);
    let link = list[0].link.clone().unwrap();
    assert_eq!(link.1, format!("/connections/{id}"));
    assert!(list.iter().all(|n| !n.read));
    let page = owner.get("/notices").await;
    assert!(page
        .body
        .contains("An administrator disabled your connection"));
    assert!(page.body.contains("3 unread"), "the navigation counts them");

    // Read up to the newest the page showed: the count goes, the list stays.
    let newest = list[0].id.to_string();
    let read = owner
        .post_form("/api/notices_read", &[("last", &newest)])
        .await;
    assert_eq!(read.location(), "/notices");
    assert_eq!(unread(&mut owner).await, 0);
    assert!(notices(&mut owner).await.iter().all(|n| n.read));

    // Nobody else reads them, or marks them.
    let mut stranger = owner.another();
    stranger.sign_up("stranger@example.com", PASSWORD).await;
    assert!(notices(&mut stranger).await.is_empty());
    assert_eq!(
        stranger.call("notices", "").await.status,
        StatusCode::OK,
        "their own list, empty"
    );
    let mut anonymous = Browser::new(pool.clone(), false).await;
    assert_eq!(
        anonymous.call("notices", "").await.status,
        StatusCode::UNAUTHORIZED
    );

    // An ordinary user cannot delete a connection as an administrator.
    let refused = stranger
        .call("admin_delete_connection", &format!("id={id}"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let deleted = admin
        .post_form("/api/admin_delete_connection", &[("id", &id)])
        .await;
    assert_eq!(deleted.location(), "/admin/connections?deleted=1");
    let left: i64 = sqlx::query_scalar("select count(*) from connections where id = $1")
        .bind(c.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let root = user_id(&pool, "root@example.com").await;
    let audited: (Option<i64>, String) = sqlx::query_as(
        "select actor_id, detail->>'by' from audit_events
         where connection_id = $1 and action = 'connection.delete'",
    )
    .bind(c.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, (Some(root), "admin".to_owned()));
    let list = notices(&mut owner).await;
    assert_eq!(list[0].subject, "An administrator deleted your connection");
    assert_eq!(list[0].link.as_ref().unwrap().1, "/");
    assert_eq!(unread(&mut owner).await, 1);
    // Gone is gone: a second delete finds nothing.
    let again = admin
        .post_form("/api/admin_delete_connection", &[("id", &id)])
        .await;
    assert!(
        again.location().contains("error=NotFound"),
        "{}",
        again.location()
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_link_tells_its_owner_it_was_opened_when_asked_at_most_once_an_hour(pool: PgPool) {
    let (state, user, c) = connected(&pool, "told-sharer", READ_ALL).await;
    let key = "walk/one/two/three/report.csv";
    let target = Target::new(&state, user, c.id, "cv-mixed", key).unwrap();
    let told = shares::create(&target, &crate::support::share_for(24, true))
        .await
        .unwrap();
    let quiet = shares::create(&target, &crate::support::share_for(24, false))
        .await
        .unwrap();
    let token = |path: &str| path.strip_prefix("/s/").unwrap().to_owned();
    let (told, quiet) = (token(&told.path), token(&quiet.path));
    let listed = shares::list(&pool, user).await.unwrap();
    assert_eq!(
        listed.iter().map(|l| l.notify).collect::<Vec<_>>(),
        [false, true],
        "newest first"
    );

    shares::open(&state, &quiet, Some("203.0.113.7"), None, None)
        .await
        .unwrap();
    assert!(kept(&pool, user).await.is_empty());
    shares::open(&state, &told, Some("203.0.113.9"), None, None)
        .await
        .unwrap();
    shares::open(&state, &told, Some("203.0.113.9"), None, None)
        .await
        .unwrap();
    let seen = kept(&pool, user).await;
    assert_eq!(seen.len(), 1, "once within the hour: {seen:?}");
    assert_eq!(seen[0].0, "Your share link was opened");
    assert!(seen[0]
        .1
        .contains("s3://cv-mixed/walk/one/two/three/report.csv"));
    assert!(seen[0].1.contains("from 203.0.113.9"));

    // An hour on, it tells again.
    sqlx::query("update share_links set notified_at = now() - interval '61 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    shares::open(&state, &told, None, None, None).await.unwrap();
    assert_eq!(kept(&pool, user).await.len(), 2);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode and the mail server: run scripts/test.sh"]
async fn an_invitation_is_emailed_to_any_address_and_kept_for_an_account(pool: PgPool) {
    let (_, c) = browser_with_connection(&pool, "told-inviter", READ_WRITE).await;
    let mut owner = mailing(&pool).await;
    owner.sign_in("told-inviter@example.com", PASSWORD).await;
    let owner_id = user_id(&pool, "told-inviter@example.com").await;
    let location = app::grants::ssr::add(&pool, owner_id, c.id, "cv-mixed", "reports/", false)
        .await
        .unwrap()
        .to_string();
    let tag = std::process::id();
    let (kim, nobody) = (
        format!("kim-{tag}@example.com"),
        format!("nobody-{tag}@example.com"),
    );
    let mut kim_browser = owner.another();
    kim_browser.sign_up(&kim, PASSWORD).await;
    let connection = c.id.to_string();
    for email in [&kim, &nobody] {
        let form = [
            ("connection", connection.as_str()),
            ("location", location.as_str()),
            ("email", email.as_str()),
            ("mode", "write"),
            ("until", ""),
            ("back", ""),
        ];
        let page = owner.post_form("/api/grant_create", &form).await;
        assert!(!page.location().contains("error"), "{}", page.location());
    }

    for to in [&kim, &nobody] {
        let mail = messages_to(to, 1).await;
        let invitation = mail
            .iter()
            .find(|m| m.contains("Subject: told-inviter@example.com shared a place in S3 with you"))
            .unwrap_or_else(|| panic!("no invitation to {to}: {mail:?}"));
        assert!(invitation.contains("read and write access to s3://cv-mixed/reports/"));
        assert!(invitation.contains("http://crossview.test/#invitations"));
    }
    // Kim has an account: the invitation is in her list too (told in the background).
    let mut kept = Vec::new();
    for _ in 0..50 {
        kept = notices(&mut kim_browser).await;
        if !kept.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        subjects(&kept),
        ["told-inviter@example.com shared a place in S3 with you"]
    );
    // The inviter sees nothing of whether an address has an account.
    let inviter_told: i64 = sqlx::query_scalar(
        "select count(*) from notices where user_id = $1 and subject like '%shared%'",
    )
    .bind(owner_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(inviter_told, 0);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn an_account_keeps_its_newest_notices_and_long_words_are_cut(pool: PgPool) {
    let state = state(pool.clone(), false).await;
    let mut browser = Browser::on(state.clone());
    browser.sign_up("many@example.com", PASSWORD).await;
    let user = user_id(&pool, "many@example.com").await;
    for n in 0..105 {
        let letter = Letter {
            subject: format!("notice {n} {}", "ü".repeat(n * 3)),
            paragraphs: vec!["鍵 <script>alert(1)</script> 🙂".repeat(n * 10)],
            link: Some(("Open".into(), format!("/c/1/b/{}", "x".repeat(n * 30)))),
        };
        notify::tell(&state, user, letter).await;
    }
    let list = notices(&mut browser).await;
    assert_eq!(list.len(), 100);
    assert!(list[0].subject.starts_with("notice 104"));
    assert!(list[99].subject.starts_with("notice 5 "));
    assert!(list[0].subject.len() <= 200 && list[0].subject.ends_with('…'));
    assert!(list[0].body.len() <= 4000 && list[0].body.ends_with('…'));
    // A link longer than the column takes is left out, never cut into another path.
    assert!(list[0].link.is_none());
    assert!(list[99].link.is_some());
    // Script in a notice is text on its page.
    let page = browser.get("/notices").await;
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(page.body.contains("&lt;script&gt;alert(1)"));
    // An account that is gone is told nothing, and nothing fails.
    notify::tell(
        &state,
        user + 1000,
        Letter {
            subject: "nobody".into(),
            paragraphs: vec![],
            link: None,
        },
    )
    .await;
}
