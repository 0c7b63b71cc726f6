//! Attempt limits and floods over HTTP: what a stranger can repeat is counted before the work it
//! costs, across parallel requests, and memory stays bounded whatever arrives at once.

use axum::http::StatusCode;
use sqlx::PgPool;
use tokio::task::JoinSet;

use crate::support::{config_with, peak_rss_mib, state_with, Browser, Served};

const PASSWORD: &str = "a long enough passphrase";

/// The form came back with the error `code`.
fn assert_refused(page: &crate::support::Page, code: &str) {
    let location = page.location();
    assert!(location.contains(&format!("error={code}")), "{location}");
}

/// A browser on a server behind one trusted proxy, which reports it at `address`.
async fn behind_proxy(pool: &PgPool, address: &str) -> Browser {
    let config = config_with(false, &[("TRUST_PROXY", "true")]);
    Browser::on(state_with(pool.clone(), config).await).at_address(address)
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn forty_parallel_wrong_guesses_get_five_checks_and_then_the_right_password_waits(
    pool: PgPool,
) {
    let mut owner = Browser::new(pool.clone(), false).await;
    owner.sign_up("target@example.com", PASSWORD).await;
    let attacker = Browser::new(pool, false).await;
    let mut guesses = JoinSet::new();
    for i in 0..40 {
        let mut browser = attacker.another();
        guesses.spawn(async move {
            let guess = format!("wrong guess number {i}");
            browser
                .sign_in("target@example.com", &guess)
                .await
                .location()
                .to_owned()
        });
    }
    let answers = guesses.join_all().await;
    let checked = answers
        .iter()
        .filter(|a| a.contains("error=BadCredentials"))
        .count();
    let limited = answers
        .iter()
        .filter(|a| a.contains("error=RateLimited"))
        .count();
    assert_eq!((checked, limited), (5, 35), "{answers:?}");
    // The right password, straight after the burst, is refused like any other attempt.
    let mut right = attacker.another();
    let page = right.sign_in("target@example.com", PASSWORD).await;
    assert_refused(&page, "RateLimited");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn fifty_wrong_guesses_never_lock_the_victim_out_of_their_trusted_browser(pool: PgPool) {
    let mut victim = behind_proxy(&pool, "198.51.100.5").await;
    victim.sign_up("victim@example.com", PASSWORD).await;
    assert!(victim.device.is_some(), "signing up trusts this browser");
    victim.post_form("/api/sign_out", &[]).await;

    let attacker = victim.another().at_address("203.0.113.9");
    for i in 0..50 {
        let page = attacker
            .another()
            .sign_in("victim@example.com", &format!("wrong guess {i}"))
            .await;
        assert!(page.location().contains("error="), "{}", page.location());
    }
    // The attacker has spent every untrusted counter: even the right password waits there.
    let page = attacker
        .another()
        .sign_in("victim@example.com", PASSWORD)
        .await;
    assert_refused(&page, "RateLimited");
    // The victim, in the browser they signed in with before, is let in at once.
    let page = victim.sign_in("victim@example.com", PASSWORD).await;
    assert_eq!(page.location(), "/", "signed in at once");
    assert!(victim.get("/").await.body.contains("victim@example.com"));
    // A device cookie counts only for the account it was issued for.
    let mut borrowed = attacker.another();
    borrowed.device = victim.device.clone();
    let page = borrowed
        .sign_in("someone-else@example.com", "wrong guess")
        .await;
    assert_refused(&page, "BadCredentials");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn sign_ups_from_one_address_and_password_changes_are_throttled(pool: PgPool) {
    let browser = behind_proxy(&pool, "198.51.100.20").await;
    for i in 0..crate::support::config(false).signups_per_address_per_hour {
        let page = browser
            .another()
            .sign_up(&format!("u{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(page.location(), "/", "sign-up {i}");
    }
    let page = browser
        .another()
        .sign_up("one-more@example.com", PASSWORD)
        .await;
    assert_refused(&page, "RateLimited");
    // Another address still may.
    let elsewhere = browser.another().at_address("198.51.100.21");
    let page = elsewhere
        .another()
        .sign_up("elsewhere@example.com", PASSWORD)
        .await;
    assert_eq!(page.location(), "/");

    // A session that does not know its password cannot guess it through the change form.
    let mut session = browser.another().at_address("198.51.100.22");
    session.sign_in("u0@example.com", PASSWORD).await;
    let new = "a fresh and different passphrase";
    let change = |current: &'static str| {
        [
            ("current_password", current),
            ("new_password", new),
            ("confirm_password", new),
        ]
    };
    for _ in 0..app::limits::PASSWORD_CHANGE_USER.max {
        let page = session
            .post_form("/api/change_password", &change("not the password at all"))
            .await;
        assert_refused(&page, "WrongCurrentPassword");
    }
    let page = session
        .post_form("/api/change_password", &change(PASSWORD))
        .await;
    assert_refused(&page, "RateLimited");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn unknown_share_tokens_are_counted_per_address_not_logged(pool: PgPool) {
    let mut guesser = behind_proxy(&pool, "203.0.113.66").await;
    for i in 0..app::limits::SHARE_UNKNOWN_ADDRESS.max {
        let page = guesser.get(&format!("/s/{i:064x}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "guess {i}");
    }
    let page = guesser.get(&format!("/s/{:064x}", 999)).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    // Another address is not held back by this one's guesses.
    let mut other = guesser.another().at_address("203.0.113.67");
    assert_eq!(
        other.get(&format!("/s/{:064x}", 1)).await.status,
        StatusCode::NOT_FOUND
    );
    // Counted in one row per address and window, not one audit row per junk token.
    let logged: i64 = sqlx::query_scalar("select count(*) from audit_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(logged, 0);
    let counted: Vec<(String, i32)> = sqlx::query_as(
        "select subject, n from attempts where kind = 'share.unknown' order by subject",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        counted,
        [
            ("203.0.113.66".to_owned(), 30),
            ("203.0.113.67".to_owned(), 1)
        ]
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn weak_passwords_are_refused_with_the_reason(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    for (password, code) in [
        ("short", "PasswordTooShort"),
        ("password1234", "PasswordCommon"),
        ("dana.smith2026", "PasswordCommon"),
    ] {
        let page = browser.sign_up("dana.smith@example.com", password).await;
        assert!(
            page.location().contains(&format!("error={code}")),
            "{password}: {}",
            page.location()
        );
        let form = browser.get(page.location()).await;
        let message = app::error::AppError::from_code(code).unwrap().to_string();
        assert!(
            form.body.contains(&app::ui::escape_html(&message)),
            "{code}"
        );
    }
    let long = "x".repeat(129);
    let page = browser.sign_up("dana.smith@example.com", &long).await;
    assert_refused(&page, "PasswordTooLong");
}

/// A sign-in form post from `client` (as one trusted proxy reports it); the answer's status.
async fn sign_in_status(addr: &str, client: &str, email: &str) -> u16 {
    let body = format!("email={email}&password=some+wrong+password&next=");
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Accept", "application/json"),
        ("Sec-Fetch-Site", "same-origin"),
        ("X-Forwarded-For", client),
    ];
    let url = format!("http://{addr}/api/sign_in");
    crate::support::standin::http_with_body("POST", &url, &headers, body.as_bytes())
        .await
        .status
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn two_hundred_parallel_sign_ins_keep_memory_bounded(pool: PgPool) {
    let server = Served::start(
        &pool,
        &[("TRUST_PROXY", "true"), ("DB_MAX_CONNECTIONS", "10")],
    )
    .await;
    let before = peak_rss_mib(server.pid());
    // Every attempt from its own address for its own email, so no limit stops it before the
    // password hash: only the admission bound (16 at once) and the hashing cap (a thread and a
    // queue of 4 per core: 10 on 2 cores) stand between the flood and the memory.
    let mut flood = JoinSet::new();
    for i in 0..200 {
        let addr = server.addr.clone();
        flood.spawn(async move {
            let client = format!("10.7.{}.{}", i / 250, i % 250 + 1);
            sign_in_status(&addr, &client, &format!("flood{i}%40example.com")).await
        });
    }
    let statuses = flood.join_all().await;
    let peak = peak_rss_mib(server.pid());
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let busy = statuses.iter().filter(|&&s| s == 503).count();
    assert_eq!(checked + busy, 200, "{statuses:?}");
    assert!(
        checked >= 2 && busy > 0,
        "{checked} checked, {busy} answered 503 at once"
    );
    // Each Argon2 run holds ~19 MiB: 200 at once would need ~3.8 GiB.
    println!("peak RSS {before} MiB before, {peak} MiB after 200 parallel sign-ins");
    assert!(
        peak < 200,
        "peak RSS {peak} MiB (was {before} MiB before the flood)"
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn ipv6_clients_are_counted_by_their_64(pool: PgPool) {
    let browser = behind_proxy(&pool, "2001:db8:7:7::1").await;
    let max = crate::support::config(false).signups_per_address_per_hour;
    for i in 0..max {
        // A fresh address for every sign-up, all in one /64.
        let address = format!("2001:db8:7:7:{:x}::{:x}", i + 1, i * 7 + 1);
        let page = browser
            .another()
            .at_address(&address)
            .sign_up(&format!("v6-{i}@example.com"), PASSWORD)
            .await;
        assert_eq!(page.location(), "/", "sign-up {i}");
    }
    let page = browser
        .another()
        .at_address("2001:db8:7:7:ffff::ffff")
        .sign_up("one-more@example.com", PASSWORD)
        .await;
    assert_refused(&page, "RateLimited");
    let next_door = browser.another().at_address("2001:db8:7:8::1");
    let page = next_door
        .another()
        .sign_up("next-door@example.com", PASSWORD)
        .await;
    assert_eq!(page.location(), "/");
}
