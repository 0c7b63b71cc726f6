//! A share link for named people against the AWS stand-in in strict mode: it opens only for a
//! visitor signed in under one of its addresses, and the trail names who opened it.

use app::{aws::access::Target, error::AppError, shares::ssr as shares};
use sqlx::PgPool;

use crate::support::standin::{assume_role_calls, connected, READ_ALL};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_link_for_named_people_opens_only_for_them_signed_in(pool: PgPool) {
    use app::shares::LinkStatus;
    use shares::Visitor;

    let (state, user, c) = connected(&pool, "people-sharer", READ_ALL).await;
    let target = Target::new(
        &state,
        user,
        c.id,
        "cv-mixed",
        "walk/one/two/three/report.csv",
    )
    .unwrap();
    let mut rules = crate::support::share_for(24, false);
    let before = assume_role_calls(c.role_arn.as_deref().unwrap()).await;
    rules.people = vec!["Ana@Example.com\nnot an address".into()];
    assert_eq!(
        shares::create(&target, &rules).await.unwrap_err(),
        AppError::SharePeopleInvalid
    );
    assert_eq!(
        assume_role_calls(c.role_arn.as_deref().unwrap()).await,
        before
    );
    rules.people = vec!["Ana@Example.com, ana@example.com".into()];
    let link = shares::create(&target, &rules).await.unwrap();
    let token = link.path.strip_prefix("/s/").unwrap();
    assert_eq!(
        shares::list(&pool, user).await.unwrap()[0].people,
        ["ana@example.com"]
    );

    let ana = Visitor {
        id: crate::support::standin::owner(&pool, "ANA@example.com").await,
        email: "ana@example.com".into(),
    };
    let bo = Visitor {
        id: crate::support::standin::owner(&pool, "bo@example.com").await,
        email: "bo@example.com".into(),
    };
    for (visitor, status, refusal) in [
        (None, LinkStatus::SignIn, AppError::ShareSignIn),
        (Some(&bo), LinkStatus::NotForYou, AppError::ShareNotForYou),
    ] {
        let page = shares::landing(
            &state,
            token,
            &app::shares::ssr::Holder {
                address: None,
                visitor,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(page.status, status);
        assert_eq!(
            shares::open(&state, token, None, visitor, None)
                .await
                .unwrap_err(),
            refusal
        );
    }
    let page = shares::landing(
        &state,
        token,
        &app::shares::ssr::Holder {
            address: None,
            visitor: Some(&ana),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.status, LinkStatus::Live);
    let url = shares::open(&state, token, None, Some(&ana), None)
        .await
        .unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");

    // The trail names who opened it, and who was refused.
    let opens: Vec<(Option<i64>, String)> = sqlx::query_as(
        "select actor_id, outcome from audit_events where action = 'share.open' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        opens,
        [
            (None, "ShareSignIn".to_owned()),
            (Some(bo.id), "ShareNotForYou".to_owned()),
            (Some(ana.id), "ok".to_owned()),
        ]
    );
}
