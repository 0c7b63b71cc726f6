//! What the server refuses over HTTP: pages of others, cross-site posts, wrong encodings and
//! bodies, hostile text in URLs and names; and the headers every answer carries.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::{http::PASSWORD, support::Browser};

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn only_admins_see_users_connections_and_the_audit_log(pool: PgPool) {
    let mut admin = Browser::new(pool, false).await;
    admin.sign_up_admin("admin@example.com", PASSWORD).await;
    let mut user = admin.another();
    user.sign_up("user@example.com", PASSWORD).await;
    let created = user
        .call("connection_create", "name=Team+data&external_id=")
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);

    for endpoint in ["admin_users", "admin_connections", "admin_audit"] {
        let refused = user.call(endpoint, "").await;
        assert!(
            refused.body.contains("Forbidden"),
            "{endpoint}: {}",
            refused.body
        );
    }
    let users = admin.call("admin_users", "").await;
    assert!(users.body.contains("user@example.com") && users.body.contains("admin@example.com"));
    let connections = admin.call("admin_connections", "").await;
    assert!(
        connections.body.contains("Team data") && connections.body.contains("user@example.com")
    );
    // Admins see who owns what, never the ExternalId.
    assert!(
        !connections.body.contains("external_id"),
        "{}",
        connections.body
    );
    let audit = admin.call("admin_audit", "").await;
    assert!(audit.body.contains("connection.create"), "{}", audit.body);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_connection_page_of_another_user_is_not_found(pool: PgPool) {
    let mut owner = Browser::new(pool, false).await;
    owner.sign_up("owner@example.com", PASSWORD).await;
    let id = owner
        .call("connection_create", "name=Mine&external_id=")
        .await
        .body;
    let mut other = owner.another();
    other.sign_up("other@example.com", PASSWORD).await;

    let page = other.get(&format!("/connections/{id}")).await;
    assert!(
        page.body.contains("That page or item does not exist."),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Mine"));
    for (endpoint, body) in [
        ("connection", format!("id={id}")),
        ("connection_guide", format!("id={id}")),
        ("connection_verify", format!("id={id}")),
        ("connection_rename", format!("id={id}&name=Stolen")),
        (
            "connection_role",
            format!("id={id}&role_arn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx"),
        ),
        ("connection_delete", format!("id={id}")),
    ] {
        let res = other.call(endpoint, &body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{endpoint}");
        assert!(res.body.contains("NotFound"), "{endpoint}: {}", res.body);
    }
    let mine = owner.get(&format!("/connections/{id}")).await;
    assert!(mine.body.contains("Mine") && mine.body.contains("Pending"));
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn cross_site_posts_are_refused(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    let body = "email=a%40example.com&password=whatever12&next=";
    let cases: [(&[(&str, &str)], StatusCode); 8] = [
        (
            &[("sec-fetch-site", "cross-site"), ("origin", "null")],
            StatusCode::FORBIDDEN,
        ),
        // Neither fetch metadata nor an origin: nothing shows it came from this site.
        (&[], StatusCode::FORBIDDEN),
        (&[("origin", "null")], StatusCode::FORBIDDEN),
        (
            &[("origin", "http://crossview.test.evil.example")],
            StatusCode::FORBIDDEN,
        ),
        (&[("sec-fetch-site", "same-site")], StatusCode::FORBIDDEN),
        (&[("origin", "https://evil.example")], StatusCode::FORBIDDEN),
        (&[("origin", "http://crossview.test")], StatusCode::FOUND),
        (
            &[("sec-fetch-site", "same-origin"), ("origin", "null")],
            StatusCode::FOUND,
        ),
    ];
    for (headers, expected) in cases {
        let mut req = browser
            .request("POST", "/api/sign_in")
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let page = browser.send(req.body(body.into()).unwrap()).await;
        assert_eq!(page.status, expected, "{headers:?}");
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn server_functions_take_only_their_encodings_and_downloads_refuse_other_sites(pool: PgPool) {
    let mut browser = Browser::new(pool.clone(), false).await;
    browser.sign_up("a@example.com", PASSWORD).await;
    // A text/plain or multipart form can be posted from any site without a preflight, with a
    // body that reads as URL-encoded fields: refused, even from this site.
    let body = "email=a%40example.com&password=whatever12&next=";
    for content_type in ["text/plain", "multipart/form-data; boundary=x", ""] {
        let mut req = browser
            .request("POST", "/api/sign_in")
            .header("sec-fetch-site", "same-origin");
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        let page = browser.send(req.body(body.into()).unwrap()).await;
        assert_eq!(
            page.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
    }
    // A JSON server function given form fields runs nothing: its arguments do not decode.
    let page = browser
        .call("objects_delete", "connection=1&bucket=b&keys=k")
        .await;
    assert!(!page.status.is_success(), "{}", page.status);
    assert!(page.body.contains("\"Request\""), "{}", page.body);

    // The download link, fetched or framed by another site, is refused before any work.
    let href = app::transfers::download_href(1, "bucket", "key.txt");
    for (site, refused) in [
        ("cross-site", true),
        ("same-site", true),
        ("same-origin", false),
        ("none", false),
    ] {
        let req = browser
            .request("GET", &href)
            .header("sec-fetch-site", site)
            .body(axum::body::Body::empty())
            .unwrap();
        let page = browser.send(req).await;
        // From this site it goes on (to the object page: this user has no connection 1).
        assert_eq!(
            page.status == StatusCode::FORBIDDEN,
            refused,
            "{site}: {}",
            page.body
        );
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn security_headers_everywhere(pool: PgPool) {
    let mut browser = Browser::new(pool, true).await;
    let health = browser.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
    let page = browser.get("/sign-in").await;
    for res in [&health, &page] {
        assert_eq!(res.header("referrer-policy"), "no-referrer");
        assert_eq!(res.header("x-frame-options"), "DENY");
        assert_eq!(res.header("x-content-type-options"), "nosniff");
        assert!(res
            .header("content-security-policy")
            .contains("frame-ancestors 'none'"));
        assert!(res
            .header("strict-transport-security")
            .starts_with("max-age="));
    }
    assert_eq!(
        health.header("content-security-policy"),
        app::shell::csp::NON_PAGE
    );
    // A page's policy allows the wasm and exactly the inline scripts that carry its nonce.
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap();
    assert!(nonce.len() >= 16);
    assert!(
        page.body.contains(&format!("nonce=\"{nonce}\"")),
        "scripts carry the nonce"
    );
    // The sign-in page is served without the app (a first visit is the page and its stylesheet).
    assert!(
        page.body
            .contains(r#"<link rel="stylesheet" id="leptos" href="/pkg/crossview.css""#)
            && !page.body.contains("/pkg/crossview.js")
            && !page.body.contains("/pkg/crossview.wasm"),
        "{}",
        page.body
    );
    let again = browser.get("/sign-in").await;
    assert!(
        !again.header("content-security-policy").contains(nonce),
        "a fresh nonce per page"
    );
    // A signed-in page loads the app, by a script that carries the page's nonce. The asset names
    // were found when the router was built (a test binary has no hash file).
    browser
        .sign_up("headers@example.com", "a long enough passphrase")
        .await;
    let app = browser.get("/").await;
    let nonce = app
        .header("content-security-policy")
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap()
        .to_owned();
    assert!(
        app.body.contains(&format!(
            r#"<script type="module" nonce="{nonce}">import("/pkg/crossview.js")"#
        )),
        "the page loads its script: {}",
        app.body
    );
}

/// Text that tries to leave its place in the markup: closes the `<title>`, adds a refresh to
/// another site and an image with a handler, and carries both quotes and an ampersand.
const HOSTILE: &str = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example/"><img id=x src=x onerror=alert(1)> "q" 'a' & b"#;

/// Nothing was injected: no element from [`HOSTILE`] stands in the page, and its one `<title>`
/// (pages whose title waits on data set it in the browser) holds `expected`, escaped.
fn assert_inert(page: &crate::support::Page, expected_title: &str) {
    let body = &page.body;
    for injected in ["<meta http-equiv", "<img"] {
        assert!(!body.contains(injected), "{injected} in {body}");
    }
    assert!(body.matches("<title>").count() <= 1, "{body}");
    assert_eq!(
        body.matches("<title>").count(),
        body.matches("</title>").count(),
        "{body}"
    );
    if let Some((_, rest)) = body.split_once("<title>") {
        let title = rest.split_once("</title>").map(|(t, _)| t).unwrap();
        assert_eq!(
            title,
            app::ui::escape_html(&format!("{expected_title} · Crossview"))
        );
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn hostile_text_in_urls_and_names_stays_text(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    browser.sign_up_admin("hostile@example.com", PASSWORD).await;
    let encode_component = app::url::encode_component;

    // The attacker's link: a prefix that closes the title. No bucket or object is needed.
    let prefix = format!("{HOSTILE}/");
    let page = browser
        .get(&format!(
            "/c/999/any-bucket?prefix={}",
            encode_component(&prefix)
        ))
        .await;
    assert!(
        page.body.contains("<title>"),
        "the URL alone titles a folder"
    );
    assert_inert(&page, &format!("any-bucket/{prefix}"));

    // An object's page is titled with its key.
    let key = format!("docs/{HOSTILE}.txt");
    let page = browser
        .get(&app::location::object_href(999, "any-bucket", &key))
        .await;
    assert!(
        page.body.contains("<title>"),
        "the URL alone titles an object"
    );
    assert_inert(&page, &key);

    // A connection's name (at most 100 characters) is the title of its page and stands in lists
    // and breadcrumbs.
    let name =
        r#"</title><meta http-equiv="refresh" content="0;url=/x"><img id=x src=x> "q" 'a' &"#;
    let created = browser
        .call(
            "connection_create",
            &format!("name={}&external_id=", encode_component(name)),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body;
    let page = browser.get(&format!("/connections/{id}")).await;
    assert!(
        page.body.contains("&lt;/title&gt;&lt;meta"),
        "{}",
        page.body
    );
    assert_inert(&page, name);
    assert_inert(&browser.get("/").await, "Connections");
    assert_inert(&browser.get(&format!("/c/{id}")).await, "Buckets");
    assert_inert(&browser.get("/admin").await, "Admin");

    // Typed text carried back to a form through the query.
    browser.post_form("/api/sign_out", &[]).await;
    let page = browser
        .get(&format!(
            "/sign-in?error=BadCredentials&email={}&next={}",
            encode_component(HOSTILE),
            encode_component(HOSTILE)
        ))
        .await;
    assert_inert(&page, "Sign in");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn typed_text_with_a_literal_percent_escape_comes_back_as_typed(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    // `50%25 off` is what the person typed: it must not come back as `50% off`.
    let page = browser.sign_up("50%25 off", PASSWORD).await;
    let form = browser.get(page.location()).await;
    assert!(form.body.contains(r#"value="50%25 off""#), "{}", form.body);
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn the_admin_console_refuses_what_another_site_asks_for(pool: PgPool) {
    let mut admin = Browser::new(pool, false).await;
    admin
        .sign_up_admin("first-admin@example.com", PASSWORD)
        .await;
    for path in ["/admin", "/admin/audit", "/admin/audit/export?format=csv"] {
        for (site, refused) in [
            ("cross-site", true),
            ("same-site", true),
            ("same-origin", false),
            ("none", false),
        ] {
            let req = admin
                .request("GET", path)
                .header("accept", "text/html")
                .header("sec-fetch-site", site)
                .body(axum::body::Body::empty())
                .unwrap();
            let page = admin.send(req).await;
            assert_eq!(
                page.status == StatusCode::FORBIDDEN,
                refused,
                "{path} from {site}"
            );
            if !refused {
                assert_eq!(page.status, StatusCode::OK, "{path} from {site}");
            }
        }
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn a_body_that_does_not_decode_is_answered_400_with_what_was_wrong(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    browser.sign_up("decoder@example.com", PASSWORD).await;
    let json =
        |endpoint: &str, body: &str| (endpoint.to_owned(), "application/json", body.to_owned());
    let form = |endpoint: &str, body: &str| {
        let encoding = "application/x-www-form-urlencoded";
        (endpoint.to_owned(), encoding, body.to_owned())
    };
    for (endpoint, content_type, body) in [
        // wrongly typed fields
        json(
            "upload_parts",
            r#"{"connection":"one","bucket":1,"key":[],"upload":{}}"#,
        ),
        json(
            "upload_complete",
            r#"{"connection":1,"bucket":"b","key":"k","upload":"x","parts":"all"}"#,
        ),
        json(
            "upload_abort",
            r#"{"connection":true,"bucket":"b","key":"k","upload":null}"#,
        ),
        // garbage, and fields missing
        json("objects_delete", "not json at all {"),
        json("upload_start", "{}"),
        // JSON to a form endpoint, and a form to a JSON one
        form("sign_in", r#"{"email":"a@b.c","password":"x"}"#),
        form("objects_copy", "connection=1&bucket=b&from=a&to=b"),
    ] {
        let req = browser
            .request("POST", &format!("/api/{endpoint}"))
            .header("accept", "application/json")
            .header("content-type", content_type)
            .header("sec-fetch-site", "same-origin")
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        let page = browser.send(req).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{endpoint} {body}: {}",
            page.body
        );
        assert!(
            page.body.contains("\"Request\""),
            "{endpoint}: {}",
            page.body
        );
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
async fn private_peers_without_trust_proxy_are_reported_by_readyz(pool: PgPool) {
    let mut browser = Browser::new(pool, false).await;
    let from = |browser: &Browser, peer: [u8; 4]| {
        let mut req = browser
            .request("GET", "/sign-in")
            .body(axum::body::Body::empty())
            .unwrap();
        let peer = std::net::SocketAddr::from((peer, 40000));
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        req
    };
    let req = from(&browser, [127, 0, 0, 1]);
    browser.send(req).await;
    assert_eq!(
        browser.get("/readyz").await.body,
        "ready",
        "loopback is no proxy"
    );
    let req = from(&browser, [10, 1, 2, 3]);
    browser.send(req).await;
    let ready = browser.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(
        ready.body.contains("set TRUST_PROXY=true"),
        "{}",
        ready.body
    );
}
