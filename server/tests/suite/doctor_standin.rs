//! The connection doctor against the strict stand-in: buckets without CORS, with a rule for
//! another origin, encrypted by a KMS key the role may or may not use, and a role that may list
//! but not read. Each finding is asserted, and the one-click CORS fix keeps the bucket's rules.

use app::{
    connections::{
        doctor::{
            ssr::{self as doctor, cors},
            Capability, Report, Verdict,
        },
        Connection,
    },
    error::AppError,
    state::AppState,
};
use sqlx::PgPool;

use crate::support::standin::{
    connection_with_role, make_bucket, make_capped_bucket, owner, state, verify,
};

/// The origin the doctor checks CORS rules against (the browser's, in a real request).
const ORIGIN: &str = "http://127.0.0.1:3000";
const NO_CORS: &str = "doctor-nocors";
const ELSEWHERE: &str = "doctor-elsewhere";
const KMS: &str = "doctor-kms";
const THREE: [&str; 3] = [NO_CORS, ELSEWHERE, KMS];

/// What the role may do: everything Crossview's read-write policy names (and the CORS fix) on
/// every bucket, `read` or not, and with `key` the use of that KMS key.
fn policy(read: bool, key: Option<&str>) -> String {
    let mut actions = vec![
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:GetBucketLocation",
        "s3:GetBucketVersioning",
        "s3:GetBucketCORS",
        "s3:PutBucketCORS",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetLifecycleConfiguration",
        "s3:PutObject",
    ];
    if read {
        actions.push("s3:GetObject");
    }
    let mut statements =
        vec![serde_json::json!({ "Effect": "Allow", "Action": actions, "Resource": "*" })];
    if let Some(key) = key {
        statements.push(serde_json::json!({
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key,
        }));
    }
    serde_json::json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
}

/// A verified connection whose role has `permissions`, with `buckets` added by name (the role
/// may not list the account's buckets).
async fn connection(
    state: &AppState,
    role: &str,
    permissions: &str,
    buckets: &[&str],
) -> (i64, Connection) {
    let user = owner(&state.pool, &format!("{role}@example.com")).await;
    let c = connection_with_role(state, user, role, None, Some(permissions)).await;
    for bucket in buckets {
        sqlx::query("insert into connection_buckets (connection_id, name) values ($1, $2)")
            .bind(c.id)
            .bind(bucket)
            .execute(&state.pool)
            .await
            .unwrap();
    }
    (user, verify(state, user, &c).await)
}

fn verdict<'r>(report: &'r Report, bucket: &str, capability: Capability) -> &'r Verdict {
    report
        .buckets
        .iter()
        .find(|b| b.bucket == bucket)
        .and_then(|b| b.verdict(capability))
        .unwrap_or_else(|| panic!("{bucket} was not examined: {report:#?}"))
}

fn codes(report: &Report, bucket: &str) -> Vec<String> {
    let mut codes: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.bucket == bucket)
        .map(|f| f.code.clone())
        .collect();
    codes.sort();
    codes
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_doctor_reports_what_each_bucket_will_refuse_and_the_cors_fix_keeps_every_rule(
    pool: PgPool,
) {
    make_bucket(NO_CORS, &[], false);
    make_bucket(ELSEWHERE, &["https://elsewhere.example"], false);
    let key = make_bucket(KMS, &[ORIGIN], true).expect("a KMS key");
    let state = state(pool.clone(), crate::support::aws().await).await;

    // A role that may do everything, the KMS key included.
    let (user, c) = connection(&state, "doctor-full", &policy(true, Some(&key)), &THREE).await;
    let report = doctor::run(&state, user, &c, ORIGIN, true).await.unwrap();
    assert_eq!(report.stopped, None);
    assert_eq!(
        codes(&report, NO_CORS),
        ["cors_missing", "lifecycle_missing"]
    );
    assert_eq!(
        codes(&report, ELSEWHERE),
        ["cors_origin", "lifecycle_missing"]
    );
    assert_eq!(codes(&report, KMS), ["lifecycle_missing"]);
    let missing = report
        .findings
        .iter()
        .find(|f| f.code == "cors_missing")
        .unwrap();
    let fix = missing.fix.as_ref().unwrap();
    assert!(fix.one_click && fix.cli.contains("put-bucket-cors --bucket doctor-nocors"));
    assert!(
        fix.iac.contains("aws_s3_bucket_cors_configuration"),
        "{}",
        fix.iac
    );
    for capability in [
        Capability::Browse,
        Capability::Download,
        Capability::Upload,
        Capability::Preview,
    ] {
        assert_eq!(
            verdict(&report, KMS, capability),
            &Verdict::Works,
            "{capability:?}"
        );
    }
    assert!(matches!(
        verdict(&report, NO_CORS, Capability::Upload),
        Verdict::Fails(_)
    ));
    assert!(matches!(
        verdict(&report, NO_CORS, Capability::Preview),
        Verdict::Fails(_)
    ));
    assert_eq!(
        verdict(&report, NO_CORS, Capability::Download),
        &Verdict::Works
    );
    let kms = report.buckets.iter().find(|b| b.bucket == KMS).unwrap();
    assert!(
        kms.facts
            .iter()
            .any(|(k, v)| k == "Encryption" && v.contains(&key)),
        "{:?}",
        kms.facts
    );

    // The stored report is the one the page and the admin overview show.
    let stored = doctor::load(&pool, c.id).await.unwrap().unwrap();
    assert_eq!(stored.findings, report.findings);
    assert!(!stored.checked_at.is_empty());

    // The fix: shown first, then applied; the bucket's own rule stays, after Crossview's.
    let change = cors::preview(&state, user, c.id, ELSEWHERE, ORIGIN)
        .await
        .unwrap();
    assert!(!change.unchanged);
    assert!(change.before.contains("https://elsewhere.example"));
    let after: serde_json::Value = serde_json::from_str(&change.after).unwrap();
    assert_eq!(after["CORSRules"][0]["AllowedOrigins"][0], ORIGIN);
    assert_eq!(
        after["CORSRules"][1]["AllowedOrigins"][0],
        "https://elsewhere.example"
    );
    for bucket in [NO_CORS, ELSEWHERE] {
        cors::apply(&state, user, c.id, bucket, ORIGIN)
            .await
            .unwrap();
    }
    let again = cors::preview(&state, user, c.id, ELSEWHERE, ORIGIN)
        .await
        .unwrap();
    assert!(again.unchanged, "{}", again.after);
    assert_eq!(
        again.before, change.after,
        "what was shown is what was written"
    );
    let report = doctor::run(&state, user, &c, ORIGIN, false).await.unwrap();
    assert_eq!(codes(&report, NO_CORS), ["lifecycle_missing"]);
    assert_eq!(codes(&report, ELSEWHERE), ["lifecycle_missing"]);
    assert_eq!(
        verdict(&report, NO_CORS, Capability::Upload),
        &Verdict::Works
    );

    // The same buckets through a role without the key's grant: uploads and downloads fail there.
    let (user, c) = connection(&state, "doctor-nokms", &policy(true, None), &THREE).await;
    let report = doctor::run(&state, user, &c, ORIGIN, true).await.unwrap();
    // Without a data key of its own, decrypting cannot be tried: said, not guessed.
    assert_eq!(
        codes(&report, KMS),
        ["kms_encrypt_denied", "lifecycle_missing"],
        "{report:#?}"
    );
    assert!(matches!(
        verdict(&report, KMS, Capability::Download),
        Verdict::Unknown(_)
    ));
    assert!(
        matches!(verdict(&report, KMS, Capability::Upload), Verdict::Fails(why) if why.contains("kms:GenerateDataKey"))
    );
    let grant = report
        .findings
        .iter()
        .find(|f| f.code == "kms_encrypt_denied")
        .unwrap();
    assert!(grant.fix.as_ref().unwrap().json.contains(&key));

    // A role that lists but may not read: downloads, previews and shares fail, browsing works.
    let (user, c) = connection(&state, "doctor-noread", &policy(false, Some(&key)), &THREE).await;
    let report = doctor::run(&state, user, &c, ORIGIN, true).await.unwrap();
    assert!(
        codes(&report, KMS).contains(&"read_denied".to_owned()),
        "{report:#?}"
    );
    assert_eq!(verdict(&report, KMS, Capability::Browse), &Verdict::Works);
    for capability in [Capability::Download, Capability::Preview, Capability::Share] {
        assert!(
            matches!(verdict(&report, KMS, capability), Verdict::Fails(_)),
            "{capability:?}"
        );
    }
    let overall = report.overall();
    assert!(overall
        .iter()
        .any(|(c, v)| *c == Capability::Download && matches!(v, Verdict::Fails(_))));

    // Every run and fix is audited.
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action in ('connection.doctor', 'bucket.cors_fix')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        actions.iter().filter(|a| *a == "connection.doctor").count(),
        4
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "bucket.cors_fix").count(),
        4
    );
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_cors_fix_needs_a_read_write_connection_and_the_roles_permission(pool: PgPool) {
    make_bucket("doctor-nofix", &[], false);
    let state = state(pool.clone(), crate::support::aws().await).await;
    let no_put = policy(true, None).replace("\"s3:PutBucketCORS\",", "");
    let (user, c) = connection(&state, "doctor-noput", &no_put, &["doctor-nofix"]).await;
    let refused = cors::apply(&state, user, c.id, "doctor-nofix", ORIGIN).await;
    assert!(
        matches!(&refused, Err(AppError::Denied { action, .. }) if action.name() == "s3:PutBucketCORS"),
        "{refused:?}"
    );
    sqlx::query("update connections set read_only = true where id = $1")
        .bind(c.id)
        .execute(&pool)
        .await
        .unwrap();
    let refused = cors::apply(&state, user, c.id, "doctor-nofix", ORIGIN).await;
    assert!(
        matches!(refused, Err(AppError::ReadOnlyConnection)),
        "{refused:?}"
    );
    // A read-only connection's report offers no one-click fix and no upload verdict.
    let c = app::connections::ssr::get(&pool, user, c.id).await.unwrap();
    let report = doctor::run(&state, user, &c, ORIGIN, true).await.unwrap();
    assert!(report
        .findings
        .iter()
        .all(|f| f.fix.as_ref().is_none_or(|x| !x.one_click)));
    assert!(matches!(
        verdict(&report, "doctor-nofix", Capability::Upload),
        Verdict::Off(_)
    ));

    // An administrator runs it on this connection, or on every verified one, as themselves.
    let admin = owner(&pool, "doctor-admin@example.com").await;
    assert_eq!(
        doctor::admin_run(&state, admin, Some(c.id), ORIGIN)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        doctor::admin_run(&state, admin, None, ORIGIN)
            .await
            .unwrap(),
        1
    );
    let by_admin: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'connection.doctor' and actor_id = $1",
    )
    .bind(admin)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(by_admin, 2);
    let missing = doctor::admin_run(&state, admin, Some(c.id + 1000), ORIGIN).await;
    assert!(matches!(missing, Err(AppError::NotFound)), "{missing:?}");
}

#[sqlx::test(migrator = "app::db::MIGRATOR")]
#[ignore = "needs the AWS stand-in in strict mode: run scripts/test.sh"]
async fn the_doctor_finds_links_refused_before_presign_seconds_are_up(pool: PgPool) {
    // The organisation refuses a presigned URL older than 150 seconds; Crossview signs for 600.
    const AGED: &str = "doctor-aged";
    make_capped_bucket(AGED, ORIGIN, 150_000);
    let state = state(pool.clone(), crate::support::aws().await).await;
    let (user, c) = connection(&state, "doctor-aged", &policy(true, None), &[AGED]).await;
    let report = doctor::run(&state, user, &c, ORIGIN, true).await.unwrap();
    assert_eq!(
        codes(&report, AGED),
        ["lifecycle_missing", "signature_age_capped"],
        "{report:#?}"
    );
    let capped = report
        .findings
        .iter()
        .find(|f| f.code == "signature_age_capped")
        .unwrap();
    // The longest age tried that S3 honoured, and the setting that follows from it.
    assert!(
        capped.message.contains("120 seconds old"),
        "{}",
        capped.message
    );
    assert!(capped
        .fix
        .as_ref()
        .unwrap()
        .cli
        .contains("PRESIGN_SECONDS=120"));
    assert!(matches!(
        verdict(&report, AGED, Capability::Share),
        Verdict::Fails(_)
    ));
    // A freshly signed link still works: downloads from the page are not said to fail.
    assert_eq!(
        verdict(&report, AGED, Capability::Download),
        &Verdict::Works
    );

    // Signing for two hours: the role's sessions end after one (its MaxSessionDuration), so AWS
    // refuses the session a URL needs; the rest of the checkup still runs on a shorter one.
    let mut config = (*state.config).clone();
    config.presign_seconds = 7200;
    let long = AppState {
        config: std::sync::Arc::new(config),
        ..state.clone()
    };
    let report = doctor::run(&long, user, &c, ORIGIN, false).await.unwrap();
    assert_eq!(report.stopped, None);
    let short = report
        .findings
        .iter()
        .find(|f| f.code == "session_too_short")
        .unwrap_or_else(|| panic!("{report:#?}"));
    assert!(short
        .fix
        .as_ref()
        .unwrap()
        .cli
        .contains("--max-session-duration 7200"));
    for capability in [
        Capability::Download,
        Capability::Preview,
        Capability::Upload,
    ] {
        assert!(
            matches!(verdict(&report, AGED, capability), Verdict::Fails(why) if why.contains("7200")),
            "{capability:?}: {report:#?}"
        );
    }
    assert_eq!(verdict(&report, AGED, Capability::Browse), &Verdict::Works);
    let refused: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'connection.doctor' and outcome <> 'ok'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(refused, 1, "the refused long session is audited");
}
