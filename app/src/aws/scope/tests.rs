use super::*;

/// Keys in any script make a policy of printable ASCII that reads back as the same key.
#[test]
fn policies_are_printable_ascii_whatever_the_key() {
    for key in ["写真/東京 🗼.jpg", "Ελληνικά/файл.txt", "é\u{7f}\u{a0}ÿ"] {
        let scope = Scope::Object {
            bucket: "b".into(),
            key: key.into(),
            actions: vec![Action::GetObject],
            purpose: Activity::Details,
        };
        let policy = scope.session_policy("aws", None);
        assert!(
            policy.bytes().all(|b| (b' '..=b'~').contains(&b)),
            "{policy}"
        );
        let read: Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(
            read["Statement"][0]["Resource"],
            format!("arn:aws:s3:::b/{key}")
        );
    }
    assert!(ascii_json(&json!("🗼")).eq_ignore_ascii_case(r#""\ud83d\uddfc""#));
}

#[test]
fn names_longer_than_s3_takes_are_refused_before_aws() {
    let object = |bucket: &str, key: String| Scope::Object {
        bucket: bucket.into(),
        key,
        actions: vec![Action::GetObject],
        purpose: Activity::Details,
    };
    assert_eq!(object("b-1", "k".repeat(1024)).check(), Ok(()));
    assert_eq!(
        object("b-1", "k".repeat(1025)).check(),
        Err(AppError::KeyInvalid)
    );
    let bucket = "b".repeat(64);
    assert_eq!(
        object(&bucket, "k".into()).check(),
        Err(AppError::BucketNameInvalid)
    );
    let folders = Scope::Folders {
        bucket: "b-1".into(),
        within: "w/".into(),
        grants: vec![("x".repeat(64 << 10), vec![Action::GetObject])],
        purpose: Activity::Copy,
        url_seconds: 0,
    };
    assert_eq!(folders.check(), Err(AppError::KeyInvalid));
}

#[test]
fn object_scope_names_exactly_one_key() {
    let scope = Scope::Object {
        bucket: "b".into(),
        key: "odd/*?${x}.txt".into(),
        actions: vec![Action::GetObject],
        purpose: Activity::Details,
    };
    let policy: Value = serde_json::from_str(&scope.session_policy("aws", None)).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        "arn:aws:s3:::b/odd/${*}${?}${$}{x}.txt"
    );
    assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
}

#[test]
fn finding_a_keys_unfinished_uploads_is_allowed_on_the_bucket_and_the_rest_on_the_key() {
    let scope = Scope::Object {
        bucket: "b".into(),
        key: "k.bin".into(),
        actions: vec![
            Action::PutObject,
            Action::ListBucketMultipartUploads,
            Action::ListMultipartUploadParts,
        ],
        purpose: Activity::Upload,
    };
    let policy: Value = serde_json::from_str(&scope.session_policy("aws", None)).unwrap();
    assert_eq!(policy["Statement"][0]["Resource"], "arn:aws:s3:::b/k.bin");
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["s3:PutObject", "s3:ListMultipartUploadParts"])
    );
    assert_eq!(policy["Statement"][1]["Resource"], "arn:aws:s3:::b");
    assert_eq!(
        policy["Statement"][1]["Action"],
        json!(["s3:ListBucketMultipartUploads"])
    );
}

#[test]
fn a_presigned_url_gets_a_session_that_outlives_it() {
    let presign = |url_seconds| Scope::Presign {
        bucket: "b".into(),
        key: "k".into(),
        action: Action::GetObject,
        url_seconds,
        purpose: Activity::Download,
    };
    assert_eq!(presign(600).session_seconds(), 900, "AWS's minimum");
    assert_eq!(presign(7200).session_seconds(), 7200);
    assert_eq!(Scope::ListBuckets.session_seconds(), 900);
    // A zip's page signs URLs with a folder scope: its session outlives them too.
    let zip = Scope::Folders {
        bucket: "b".into(),
        within: "f/".into(),
        grants: vec![("f/".into(), vec![Action::GetObject])],
        purpose: Activity::Zip,
        url_seconds: 3600,
    };
    assert_eq!(zip.session_seconds(), 3600);
    let policy: Value = serde_json::from_str(&presign(600).session_policy("aws", None)).unwrap();
    assert_eq!(policy["Statement"][0]["Action"], json!(["s3:GetObject"]));
    assert_eq!(policy["Statement"][0]["Resource"], "arn:aws:s3:::b/k");
}

#[test]
fn a_folder_scope_lists_the_bucket_and_acts_under_its_prefixes_only() {
    let scope = Scope::Folders {
        bucket: "b".into(),
        within: "from/a*b/".into(),
        grants: vec![
            (
                "from/a*b/".into(),
                vec![Action::GetObject, Action::DeleteObject],
            ),
            ("to/".into(), vec![Action::PutObject]),
            ("one.txt".into(), vec![Action::PutObject]),
        ],
        purpose: Activity::Move,
        url_seconds: 0,
    };
    let policy: Value = serde_json::from_str(&scope.session_policy("aws", None)).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Resource"], "arn:aws:s3:::b");
    assert_eq!(statements[0]["Action"][0], "s3:ListBucket");
    assert_eq!(statements[1]["Resource"], "arn:aws:s3:::b/from/a${*}b/*");
    assert_eq!(
        statements[1]["Action"],
        json!(["s3:GetObject", "s3:DeleteObject"])
    );
    assert_eq!(statements[2]["Resource"], "arn:aws:s3:::b/to/*");
    assert_eq!(statements[3]["Resource"], "arn:aws:s3:::b/one.txt");
    assert_eq!(
        (scope.action(), scope.key()),
        (Activity::Move, Some("from/a*b/"))
    );
}

#[test]
fn bucket_actions_of_a_folder_scope_name_the_bucket() {
    let scope = Scope::Folders {
        bucket: "b".into(),
        within: "in/".into(),
        grants: vec![(
            "in/".into(),
            vec![
                Action::ListBucketMultipartUploads,
                Action::ListMultipartUploadParts,
                Action::GetLifecycleConfiguration,
            ],
        )],
        purpose: Activity::UploadsList,
        url_seconds: 0,
    };
    let policy: Value = serde_json::from_str(&scope.session_policy("aws", None)).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 3);
    assert_eq!(statements[1]["Resource"], "arn:aws:s3:::b/in/*");
    assert_eq!(
        statements[1]["Action"],
        json!(["s3:ListMultipartUploadParts"])
    );
    assert_eq!(statements[2]["Resource"], "arn:aws:s3:::b");
    assert_eq!(
        statements[2]["Action"],
        json!([
            "s3:ListBucketMultipartUploads",
            "s3:GetLifecycleConfiguration"
        ])
    );
}

fn reach(bucket: &str, prefix: &str, writable: bool) -> Reach {
    Reach {
        bucket: bucket.into(),
        prefix: prefix.into(),
        writable,
        via: None,
    }
}

fn object(key: &str, actions: Vec<Action>) -> Scope {
    Scope::Object {
        bucket: "b".into(),
        key: key.into(),
        actions,
        purpose: Activity::Details,
    }
}

#[test]
fn a_request_stays_in_one_location_or_is_refused() {
    let reach = [
        reach("b", "reports/2026/", false),
        reach("b", "reports/2026/drafts/", true),
        reach("c", "", true),
    ];
    let list = |bucket: &str, prefix: &str| Scope::ListBucket {
        bucket: bucket.into(),
        prefix: prefix.into(),
    };
    assert_eq!(
        list("b", "reports/2026/").within(&reach),
        Ok(Some(&reach[0]))
    );
    assert_eq!(
        list("b", "reports/2026/q1").within(&reach),
        Ok(Some(&reach[0]))
    );
    for (bucket, prefix) in [
        ("b", "reports/"),
        ("b", "reports/2025/"),
        ("b", ""),
        ("d", ""),
    ] {
        assert_eq!(
            list(bucket, prefix).within(&reach),
            Err(AppError::OutsideLocation),
            "{bucket}/{prefix}"
        );
    }
    assert_eq!(
        Scope::ListBuckets.within(&reach),
        Err(AppError::OutsideLocation)
    );
    assert_eq!(Scope::Verify.within(&reach), Ok(None));
    let put = |key: &str| object(key, vec![Action::PutObject]);
    assert_eq!(
        put("reports/2026/a.txt").within(&reach),
        Err(AppError::ReadOnlyLocation)
    );
    // A change goes to the writable location that holds it, even inside a read-only one.
    assert_eq!(
        put("reports/2026/drafts/a.txt").within(&reach),
        Ok(Some(&reach[1]))
    );
    assert_eq!(
        put("anything").within(&reach[2..]),
        Err(AppError::OutsideLocation)
    );
    // A copy out of the location is refused whole: every key it names must be inside.
    let copy = Scope::Folders {
        bucket: "b".into(),
        within: "reports/2026/drafts/".into(),
        grants: vec![
            ("reports/2026/drafts/".into(), vec![Action::GetObject]),
            ("elsewhere/".into(), vec![Action::PutObject]),
        ],
        purpose: Activity::Copy,
        url_seconds: 0,
    };
    assert_eq!(copy.within(&reach), Err(AppError::OutsideLocation));
}

#[test]
fn a_location_fences_the_session_with_denies() {
    let location = reach("b", "team/x*y/", false);
    let scope = object("team/x*y/a.txt", vec![Action::GetObject]);
    let policy: Value =
        serde_json::from_str(&scope.session_policy("aws", Some(&location))).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(
        statements[1],
        json!({"Effect": "Deny", "Action": "s3:*",
               "NotResource": ["arn:aws:s3:::b", "arn:aws:s3:::b/team/x${*}y/*"]})
    );
    assert_eq!(
        statements[2]["NotAction"],
        json!(["s3:List*", "s3:GetBucketLocation"])
    );
    assert_eq!(
        statements[3]["Condition"],
        json!({"StringNotLike": {"s3:prefix": "team/x${*}y/*"}})
    );
    // Only the listings IAM gives an `s3:prefix`: on the others a missing key would match.
    assert_eq!(
        statements[3]["Action"],
        json!(["s3:ListBucket", "s3:ListBucketVersions"])
    );
    assert_eq!(statements[4]["NotAction"], json!(["s3:Get*", "s3:List*"]));
    // A whole-bucket, writable location needs neither the prefix nor the read-only fence.
    let whole = reach("b", "", true);
    let policy: Value = serde_json::from_str(&scope.session_policy("aws", Some(&whole))).unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 3);
}

#[test]
fn a_key_too_long_for_the_limit_is_named_by_its_location() {
    let location = reach("b", &"p/".repeat(128), true);
    let key = format!("{}{}", location.prefix, "k".repeat(1000));
    let scope = object(&key, vec![Action::GetObject, Action::PutObject]);
    let exact = scope.policy("aws", Some(&location), false);
    assert!(exact.len() > POLICY_LIMIT);
    let policy = scope.session_policy("aws", Some(&location));
    assert!(policy.len() <= POLICY_LIMIT, "{}", policy.len());
    let policy: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        format!("arn:aws:s3:::b/{}*", location.prefix)
    );
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["s3:GetObject", "s3:PutObject"])
    );
    // The longest location a bucket may have still leaves room for every fence.
    let longest = reach(&"b".repeat(63), &format!("{}/", "p".repeat(255)), false);
    let folders = Scope::Folders {
        bucket: longest.bucket.clone(),
        within: longest.prefix.clone(),
        grants: vec![(longest.prefix.clone(), vec![Action::GetObject])],
        purpose: Activity::FolderCount,
        url_seconds: 0,
    };
    assert!(folders.session_policy("aws", Some(&longest)).len() <= POLICY_LIMIT);
}

#[test]
fn verify_scope_allows_nothing() {
    let policy: Value = serde_json::from_str(&Scope::Verify.session_policy("aws", None)).unwrap();
    assert_eq!(policy["Statement"][0]["Effect"], "Deny");
}

/// The write probe names its key alone: under each location (the prefix's wildcards
/// escaped), or under any prefix once the locations would pass AWS's limit.
#[test]
fn the_write_probe_may_put_its_one_key_and_nothing_else() {
    let probe = |locations: Vec<(String, String)>| {
        let policy = Scope::WriteProbe { locations }.session_policy("aws", None);
        assert!(policy.len() <= POLICY_LIMIT, "{policy}");
        serde_json::from_str::<Value>(&policy).unwrap()
    };
    let policy = probe(vec![("b".into(), "a*b/".into())]);
    assert_eq!(
        policy["Statement"][0]["Resource"],
        json!(["arn:aws:s3:::b/a${*}b/.crossview-probe"])
    );
    assert_eq!(policy["Statement"][0]["Action"], json!(["s3:PutObject"]));
    let many = (0..100)
        .map(|n| ("bucket".into(), format!("team-{n}/")))
        .collect();
    assert_eq!(
        probe(many)["Statement"][0]["Resource"],
        "arn:aws:s3:::*/*.crossview-probe"
    );
}

#[test]
fn a_listing_under_a_folder_may_list_nothing_above_it() {
    let list = |prefix: &str| Scope::ListBucket {
        bucket: "b".into(),
        prefix: prefix.into(),
    };
    let policy: Value = serde_json::from_str(&list("a*b/?$/").session_policy("aws", None)).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Action"], json!(["s3:ListBucket"]));
    assert_eq!(
        statements[0]["Condition"]["StringLike"]["s3:prefix"],
        "a${*}b/${?}${$}/*"
    );
    // The bucket's region needs no prefix.
    assert_eq!(statements[1]["Action"], json!(["s3:GetBucketLocation"]));
    assert!(statements[1].get("Condition").is_none());
    // A bucket's top lists all of it.
    let top = list("").session_policy("aws", None);
    assert!(!top.contains("s3:prefix"), "{top}");
    // A prefix whose escaped name would pass AWS's limit lists the bucket rather than fail.
    let long = list(&"東".repeat(341)).session_policy("aws", None);
    assert!(
        long.len() <= POLICY_LIMIT && !long.contains("s3:prefix"),
        "{}",
        long.len()
    );
}
