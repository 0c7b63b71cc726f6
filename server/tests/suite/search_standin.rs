//! Bucket search against the strict stand-in: the walk covers every key under the folder,
//! request after request from where the last stopped, on one assumption (and one audit row)
//! per walk request; bad patterns and keys outside the folder are refused before AWS is asked;
//! the session policy lets the credentials list and nothing else.

use std::time::Duration;

use app::{
    connections::Connection,
    error::AppError,
    iam::Action,
    search::{
        ssr::{walk, Bounds},
        Hit, Kind, Line, Search, Stop,
    },
    state::AppState,
};
use futures::StreamExt;
use sqlx::PgPool;

use crate::support::standin::{
    assume_role_calls, audited, browser_with_connection, connected, last_policy, LIST_ONLY,
    ONE_BUCKET, READ_ALL,
};

const BOUNDS: Bounds = Bounds {
    max_keys: 1000,
    time: Duration::from_secs(60),
};

/// One walk request, read to its end: its lines, in order.
async fn request(
    (state, user, c): &(AppState, i64, Connection),
    bucket: &str,
    search: &Search,
    bounds: Bounds,
) -> Result<Vec<Line>, AppError> {
    let lines = walk(state, *user, c.id, bucket, search, bounds).await?;
    let chunks: Vec<_> = lines.collect().await;
    let text: String = chunks
        .iter()
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
        .collect();
    Ok(text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect())
}

fn hits(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| match l {
            Line::Page { hits, .. } => hits.iter().map(|h: &Hit| h.key.clone()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn end(lines: &[Line]) -> (u64, Option<String>, Stop) {
    match lines.last() {
        Some(Line::End {
            scanned,
            position,
            stop,
        }) => (*scanned, position.clone(), *stop),
        other => panic!("the answer ends with its end line, not {other:?}"),
    }
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_search_walks_every_key_request_after_request_on_one_assumption_each(pool: PgPool) {
    let world = connected(&pool, "searcher", LIST_ONLY).await;
    let role = world.2.role_arn.clone().unwrap();
    let mut search = Search {
        pattern: r"^key-0(0042|1999|2499)\.txt$".into(),
        kind: Kind::Regex,
        ..Search::default()
    };
    let mut found = Vec::new();
    let mut ends = Vec::new();
    for _ in 0..3 {
        let before = assume_role_calls(&role).await;
        let lines = request(&world, "cv-big", &search, BOUNDS).await.unwrap();
        assert_eq!(
            assume_role_calls(&role).await - before,
            1,
            "one assumption a request"
        );
        // A line per listing page as it is searched, then the end.
        assert!(lines.len() >= 2);
        found.extend(hits(&lines));
        let (scanned, position, stop) = end(&lines);
        ends.push((scanned, stop));
        search.after = position.unwrap_or_default();
    }
    assert_eq!(found, ["key-00042.txt", "key-01999.txt", "key-02499.txt"]);
    assert_eq!(
        ends,
        [
            (1000, Stop::Keys),
            (1000, Stop::Keys),
            (500, Stop::Complete)
        ]
    );
    assert_eq!(search.after, "", "a complete walk has nowhere to continue");
    assert_eq!(
        audited(&pool, "object.search").await,
        3,
        "audited once a request, not a page"
    );

    // The credentials may list the bucket, and nothing else.
    let policy = last_policy(&role).await.to_string();
    assert!(policy.contains("s3:ListBucket"), "{policy}");
    assert!(
        !policy.contains("s3:GetObject") && !policy.contains("s3:Put"),
        "{policy}"
    );

    // Filters: sizes are n % 7 bytes, so 357 of the 2,500 keys are 6 bytes.
    let six = Search {
        min_size: "6".into(),
        max_size: "6 B".into(),
        ..Search::default()
    };
    let bounds = Bounds {
        max_keys: 100_000,
        ..BOUNDS
    };
    let lines = request(&world, "cv-big", &six, bounds).await.unwrap();
    assert_eq!(hits(&lines).len(), 357);
    assert_eq!(end(&lines), (2500, None, Stop::Complete));

    // Everything matches: the request stops at 1,000 found, where the next one goes on.
    let all = Search {
        pattern: "KEY-".into(),
        ..Search::default()
    };
    let lines = request(&world, "cv-big", &all, bounds).await.unwrap();
    assert_eq!(hits(&lines).len(), 1000);
    let (_, position, stop) = end(&lines);
    assert_eq!(
        (position.as_deref(), stop),
        (Some("key-00999.txt"), Stop::Hits)
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn odd_keys_are_found_by_what_they_are_and_bad_searches_cost_nothing(pool: PgPool) {
    let world = connected(&pool, "odd-searcher", READ_ALL).await;
    let role = world.2.role_arn.clone().unwrap();
    let within = |pattern: &str, kind: Kind| Search {
        within: "odd/".into(),
        pattern: pattern.into(),
        kind,
        ..Search::default()
    };
    for (search, expected) in [
        (within("日本語", Kind::Contains), "odd/ünïcødé — 日本語.txt"),
        (within("a+b=c", Kind::Contains), "odd/a+b=c.txt"),
        (within("100%", Kind::Contains), "odd/100% done.txt"),
        (
            within("<script>", Kind::Contains),
            "odd/<script>alert(1)</script>.txt",
        ),
        (within("what?.txt", Kind::Contains), "odd/what?.txt"),
        (within("with ?pace.*", Kind::Glob), "odd/with space.txt"),
        (within("trailing slash/", Kind::Glob), "odd/trailing slash/"),
    ] {
        let lines = request(&world, "cv-mixed", &search, BOUNDS).await.unwrap();
        assert_eq!(hits(&lines), [expected], "{search:?}");
        assert_eq!(end(&lines).2, Stop::Complete);
    }
    // The walk stays under the folder: `tricky/` is not in `odd/`.
    let lines = request(&world, "cv-mixed", &within("title", Kind::Contains), BOUNDS)
        .await
        .unwrap();
    assert!(hits(&lines).is_empty());

    let before = assume_role_calls(&role).await;
    for (search, says) in [
        (within("(unclosed", Kind::Regex), "regular expression"),
        (
            Search {
                min_size: "lots".into(),
                ..within("", Kind::Contains)
            },
            "size at least",
        ),
        (within("", Kind::Contains), "say what to look for"),
    ] {
        let err = request(&world, "cv-mixed", &search, BOUNDS)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AppError::Request(m) if m.contains(says)),
            "{err}"
        );
    }
    // Continuing from a key outside the folder is not a walk of it.
    let outside = Search {
        after: "other/x".into(),
        ..within("txt", Kind::Contains)
    };
    let err = request(&world, "cv-mixed", &outside, BOUNDS)
        .await
        .unwrap_err();
    assert_eq!(err, AppError::KeyInvalid);
    assert_eq!(assume_role_calls(&role).await, before, "refused before AWS");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn a_role_that_may_not_list_the_bucket_gets_the_reason_and_the_http_answer_streams(
    pool: PgPool,
) {
    let world = connected(&pool, "one-bucket-searcher", ONE_BUCKET).await;
    let search = Search {
        pattern: "secret".into(),
        ..Search::default()
    };
    let err = request(&world, "cv-other", &search, BOUNDS)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            AppError::Denied {
                action: Action::ListBucket,
                ..
            }
        ),
        "{err:?}"
    );

    // Over HTTP: JSON lines, never cached; a refusal is a plain answer with its reason.
    let (mut browser, c) = browser_with_connection(&pool, "http-searcher", LIST_ONLY).await;
    let page = browser
        .get(&format!(
            "/api/search/{}/cv-big?q=key-0249&kind=contains",
            c.id
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.header("content-type"),
        "application/x-ndjson; charset=utf-8"
    );
    assert_eq!(page.header("cache-control"), "no-store");
    let lines: Vec<Line> = page
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(hits(&lines).len(), 10);
    assert_eq!(end(&lines), (2500, None, Stop::Complete));
    let page = browser
        .get(&format!("/api/search/{}/cv-big?q=(&kind=regex", c.id))
        .await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("regular expression"), "{}", page.body);
    // Another user's connection is not found, as anywhere else.
    let (mut stranger, _) = browser_with_connection(&pool, "stranger-searcher", LIST_ONLY).await;
    let page = stranger
        .get(&format!("/api/search/{}/cv-big?q=key", c.id))
        .await;
    assert_eq!(page.status, 404, "{}", page.body);
}
