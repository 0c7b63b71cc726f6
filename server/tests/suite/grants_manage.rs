//! Managing locations and grants: who may change them, what is checked, and what an invitation
//! tells (nobody learns who has an account; a grant reaches nothing until it is accepted).

use app::{
    aws::access::Role,
    connections::ssr as connections,
    error::AppError,
    grants::ssr::{self as grants, NewGrant},
};
use sqlx::PgPool;

use crate::{
    grants_standin::grant,
    support::standin::{browser_with_connection, owner, READ_WRITE},
};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn locations_and_grants_are_checked_and_only_their_managers_change_them(pool: PgPool) {
    let state = crate::support::state(pool.clone(), false).await;
    let ada = owner(&pool, "ada@example.com").await;
    let stranger = owner(&pool, "stranger@example.com").await;
    let admin = owner(&pool, "root@example.com").await;
    sqlx::query("update users set is_admin = true where id = $1")
        .bind(admin)
        .execute(&pool)
        .await
        .unwrap();
    let c = connections::create(&pool, &state.config, ada, ("team", false), None)
        .await
        .unwrap();
    for bad in ["../up", "a//b", "all*", "${aws:username}/"] {
        let added = grants::add(&pool, ada, c, "cv-work", bad, true).await;
        assert_eq!(added.unwrap_err(), AppError::LocationInvalid, "{bad}");
    }
    let added = grants::add(&pool, ada, c, "Not_A_Bucket", "", true).await;
    assert_eq!(added.unwrap_err(), AppError::BucketNameInvalid);
    let added = grants::add(&pool, stranger, c, "cv-work", "x/", true).await;
    assert_eq!(added.unwrap_err(), AppError::NotFound, "strangers cannot");
    // An administrator cannot give anyone, themselves included, a way into a tenant's data.
    let added = grants::add(&pool, admin, c, "cv-work", "mine/", true).await;
    assert_eq!(added.unwrap_err(), AppError::NotYourConnection);
    let location = grants::add(&pool, ada, c, "cv-work", "ünï côdé/+ %/", true)
        .await
        .unwrap();
    let listed = grants::list(&pool, c, ada).await.unwrap();
    assert_eq!(listed[0].prefix, "ünï côdé/+ %/");
    let given = grants::grant(&state, admin, c, grant(location, "root@example.com", true)).await;
    assert_eq!(given.unwrap_err(), AppError::NotYourConnection);
    // A connection that is not verified grants nothing.
    let given = grants::grant(
        &state,
        ada,
        c,
        grant(location, "stranger@example.com", true),
    )
    .await;
    assert_eq!(given.unwrap_err(), AppError::ConnectionNotVerified);
    sqlx::query(
        "update connections set status = 'verified',
                role_arn = 'arn:aws:iam::123456789012:role/team' where id = $1",
    )
    .bind(c)
    .execute(&pool)
    .await
    .unwrap();

    // An address without an account gets an invitation like any other: nothing says which.
    grants::grant(&state, ada, c, grant(location, "nobody@example.com", true))
        .await
        .unwrap();
    let given = grants::grant(&state, ada, c, grant(location, "ada@example.com", true)).await;
    assert_eq!(given.unwrap_err(), AppError::GranteeIsOwner);
    for until in ["2001-01-01", "tomorrow", "2026-13-01"] {
        let late = NewGrant {
            until,
            ..grant(location, "stranger@example.com", true)
        };
        let given = grants::grant(&state, ada, c, late).await;
        assert_eq!(given.unwrap_err(), AppError::GrantExpiryInvalid, "{until}");
    }
    let first = grants::grant(
        &state,
        ada,
        c,
        grant(location, "stranger@example.com", false),
    )
    .await
    .unwrap();
    // Granting again replaces the live grant.
    let second = grants::grant(
        &state,
        ada,
        c,
        grant(location, "stranger@example.com", true),
    )
    .await
    .unwrap();
    let live = grants::list(&pool, c, ada).await.unwrap();
    let live: Vec<_> = live[0]
        .grants
        .iter()
        .filter(|g| g.grantee == "stranger@example.com")
        .cloned()
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].granted_by.as_deref(), Some("ada@example.com"));
    assert!(!live[0].accepted, "an invitation until accepted");
    // What an administrator may still see and do: list the grants, and take them away.
    assert_eq!(grants::list(&pool, c, admin).await.unwrap().len(), 1);
    assert_eq!((live[0].id, live[0].writable), (second, true));
    assert_eq!(
        grants::revoke(&pool, ada, c, first).await.unwrap_err(),
        AppError::NotFound,
        "already replaced"
    );
    assert_eq!(
        grants::revoke(&pool, stranger, c, second)
            .await
            .unwrap_err(),
        AppError::NotFound,
        "a grantee cannot manage the grant"
    );
    // Until accepted it reaches nothing: the stranger sees it among their invitations only.
    let load = |user| Role::load(&state, user, c);
    assert_eq!(load(stranger).await.unwrap_err(), AppError::NotFound);
    assert!(grants::shared_with(&pool, stranger)
        .await
        .unwrap()
        .is_empty());
    let invited = grants::invitations(&pool, stranger).await.unwrap();
    assert_eq!(invited.iter().map(|i| i.id).collect::<Vec<_>>(), [second]);
    assert_eq!(
        grants::answer(&pool, ada, second, true).await.unwrap_err(),
        AppError::NotFound,
        "nobody answers another address's invitation"
    );
    grants::answer(&pool, stranger, second, true).await.unwrap();
    assert!(load(stranger).await.is_ok());
    assert_eq!(grants::shared_with(&pool, stranger).await.unwrap().len(), 1);
    assert_eq!(
        grants::answer(&pool, stranger, second, false)
            .await
            .unwrap_err(),
        AppError::NotFound,
        "answered already"
    );
    // A connection that is no longer verified is usable by nobody and shared with nobody.
    let status = |status: &'static str| {
        sqlx::query("update connections set status = $2 where id = $1")
            .bind(c)
            .bind(status)
            .execute(&pool)
    };
    status("failed").await.unwrap();
    assert_eq!(
        load(stranger).await.unwrap_err(),
        AppError::ConnectionNotVerified
    );
    assert!(grants::shared_with(&pool, stranger)
        .await
        .unwrap()
        .is_empty());
    status("verified").await.unwrap();
    // Grants are limited per owner: 30 an hour, three of them made above.
    let mut made = 0;
    for i in 0..40 {
        let email = format!("bulk{i}@example.com");
        match grants::grant(&state, ada, c, grant(location, &email, false)).await {
            Ok(_) => made += 1,
            Err(AppError::RateLimited) => break,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(made, 27);
    grants::remove(&pool, ada, c, location).await.unwrap();
    assert_eq!(
        load(stranger).await.unwrap_err(),
        AppError::NotFound,
        "removed with its grants"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn granting_tells_nobody_who_has_an_account_and_reaches_nothing_until_accepted(pool: PgPool) {
    let (mut owner, c) = browser_with_connection(&pool, "inviting", READ_WRITE).await;
    let owner_id: i64 = sqlx::query_scalar("select owner_id from connections where id = $1")
        .bind(c.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    let location = grants::add(&pool, owner_id, c.id, "cv-mixed", "", false)
        .await
        .unwrap();
    let mut kim = owner.another();
    kim.sign_up("kim@example.com", "a long enough passphrase")
        .await;
    let kim_id: i64 = sqlx::query_scalar("select id from users where email = 'kim@example.com'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (connection, location) = (c.id.to_string(), location.to_string());
    let form = |email: &'static str| {
        [
            ("connection", connection.clone()),
            ("location", location.clone()),
            ("email", email.to_owned()),
            ("mode", "read".to_owned()),
            ("until", String::new()),
            ("back", String::new()),
        ]
    };
    let post = async |browser: &mut crate::support::Browser, fields: [(&str, String); 6]| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        browser.post_form("/api/grant_create", &fields).await
    };
    // An address with an account and one without: the same answer, word for word.
    let existing = post(&mut owner, form("kim@example.com")).await;
    let missing = post(&mut owner, form("nobody-here@example.com")).await;
    assert_eq!(existing.status, missing.status);
    assert_eq!(existing.location(), missing.location());
    assert!(
        !existing.location().contains("error"),
        "{}",
        existing.location()
    );
    let shown = owner.get(&format!("/connections/{}", c.id)).await.body;
    assert_eq!(
        shown.matches("invited, not accepted yet").count(),
        2,
        "{shown}"
    );

    // Kim has an invitation on her home page; the connection does not exist for her yet.
    let folder = format!("connection={}&bucket=cv-mixed&prefix=", c.id);
    assert_eq!(kim.call("objects", &folder).await.status, 404);
    let home = kim.get("/").await.body;
    assert!(
        home.contains("inviting@example.com invites you to"),
        "{home}"
    );
    let invitation = grants::invitations(&pool, kim_id).await.unwrap()[0]
        .id
        .to_string();
    // Nobody else can accept it for her.
    let stolen = owner
        .post_form(
            "/api/invitation_answer",
            &[("id", &invitation), ("accept", "yes")],
        )
        .await;
    assert!(
        stolen.location().contains("error=NotFound"),
        "{}",
        stolen.location()
    );
    let accepted = kim
        .post_form(
            "/api/invitation_answer",
            &[("id", &invitation), ("accept", "yes")],
        )
        .await;
    assert_eq!(accepted.location(), "/");
    assert_eq!(kim.call("objects", &folder).await.status, 200);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'grant.%' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(actions, ["grant.create", "grant.create", "grant.accept"]);
}
