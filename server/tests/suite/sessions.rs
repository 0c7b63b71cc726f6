//! The account's list of its signed-in sessions, and signing out one of them or all others.

use axum::http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use crate::support::{config_with, state_with, Browser};

const PASSWORD: &str = "a long enough passphrase";

async fn list(browser: &mut Browser) -> Vec<Value> {
    let page = browser.call("my_sessions", "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    serde_json::from_str(&page.body).unwrap()
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_user_sees_where_they_are_signed_in_and_signs_out_one_or_all_others(pool: PgPool) {
    // Behind a proxy that reports each client's address.
    let config = config_with(true, &[("TRUST_PROXY", "true")]);
    let mut laptop = Browser::on(state_with(pool.clone(), config).await).at_address("203.0.113.7");
    laptop.sign_up("many@example.com", PASSWORD).await;
    let mut phone = laptop.another().at_address("198.51.100.2");
    phone.headers.push((
        "user-agent".into(),
        "Mozilla/5.0 (iPhone) Safari/605.1".into(),
    ));
    phone.sign_in("many@example.com", PASSWORD).await;
    let mut desk = laptop.another().at_address("192.0.2.9");
    desk.sign_in("many@example.com", PASSWORD).await;
    // Someone else's session is nobody's business here.
    let mut stranger = laptop.another();
    stranger.sign_up("other@example.com", PASSWORD).await;

    let sessions = list(&mut phone).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    let mine: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["browser"], "Safari on iOS");
    assert_eq!(mine[0]["address"], "198.51.100.2");
    assert_eq!(mine[0]["method"], "password");
    assert!(mine[0]["signed_in_at"].as_str().unwrap().ends_with('Z'));
    // A handle names a session without being its id (the cookie's secret).
    let cookie = phone.cookie.clone().unwrap();
    assert!(sessions
        .iter()
        .all(|s| s["handle"].as_str().unwrap().len() == 64
            && !cookie.contains(s["handle"].as_str().unwrap())));

    // Sign out the laptop from the phone.
    let laptop_handle = sessions
        .iter()
        .find(|s| s["current"] == false && s["address"] == "203.0.113.7")
        .map(|s| s["handle"].as_str().unwrap().to_owned())
        .unwrap();
    let stranger_handle = list(&mut stranger).await[0]["handle"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = phone
        .post_form("/api/session_end", &[("handle", &stranger_handle)])
        .await;
    assert_eq!(page.location(), "/account?section=sessions&error=NotFound");
    assert_eq!(
        list(&mut stranger).await.len(),
        1,
        "another's session stays"
    );
    let page = phone
        .post_form("/api/session_end", &[("handle", &laptop_handle)])
        .await;
    assert_eq!(page.location(), "/account?ended=1#sessions");
    assert_eq!(
        laptop.call("my_sessions", "").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(list(&mut phone).await.len(), 2);

    // Then every other: only the phone is left.
    let page = phone.post_form("/api/session_end", &[]).await;
    assert_eq!(page.location(), "/account?ended=1#sessions");
    assert_eq!(
        desk.call("my_sessions", "").await.status,
        StatusCode::UNAUTHORIZED
    );
    let left = list(&mut phone).await;
    assert_eq!((left.len(), &left[0]["current"]), (1, &Value::Bool(true)));
    let ends: Vec<String> =
        sqlx::query_scalar("select action from audit_events where action = 'session.end'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(ends.len(), 2);
}
