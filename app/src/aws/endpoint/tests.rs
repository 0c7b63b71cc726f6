use super::*;

#[test]
fn ipv6_forms_of_an_ipv4_address_are_classified_as_it() {
    let range = |ip: &str| Range::of(ip.parse().unwrap());
    for metadata in [
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "::169.254.169.254",
    ] {
        assert_eq!(range(metadata), Range::LinkLocal, "{metadata}");
    }
    for private in [
        "64:ff9b::10.0.0.1",
        "64:ff9b:1::8.8.8.8",
        "2002:c0a8:0101::",
        "::127.0.0.1",
        "::1",
        "::",
    ] {
        assert_eq!(range(private), Range::Internal, "{private}");
    }
    for public in ["64:ff9b::8.8.8.8", "2002:0808:0808::", "2600:1f18::1"] {
        assert_eq!(range(public), Range::Public, "{public}");
    }
}

fn config(hosts: &[&str], development: bool) -> Config {
    let hosts = hosts.join(",");
    let env = if development {
        "development"
    } else {
        "production"
    };
    Config::from_lookup(|key| match key {
        "DATABASE_URL" => Some("postgres://unused".into()),
        "SESSION_SECRET" => Some("s".repeat(64)),
        "CROSSVIEW_ENV" => Some(env.into()),
        "ALLOW_CUSTOM_ENDPOINTS" => Some("true".into()),
        "CUSTOM_ENDPOINT_HOSTS" => Some(hosts.clone()),
        _ => None,
    })
    .unwrap()
}

async fn assert_not_allowed(config: &Config, endpoint: &str) {
    assert_eq!(
        allowed(config, endpoint).await,
        Err(AppError::EndpointNotAllowed),
        "{endpoint}"
    );
}

#[test]
fn origins_are_accepted_and_re_serialized() {
    assert_eq!(parse("  ", false).unwrap(), None);
    for (input, expected) in [
        (
            "https://MinIO.Example.com:9000/",
            "https://minio.example.com:9000",
        ),
        ("https://s3.example.com", "https://s3.example.com"),
        ("https://[FD00::5]:9000", "https://[fd00::5]:9000"),
    ] {
        assert_eq!(parse(input, false).unwrap().as_deref(), Some(expected));
    }
    // Plain http only where the deployment itself is in development.
    assert_eq!(
        parse("http://10.0.0.5:7480", false),
        Err(AppError::EndpointInvalid)
    );
    assert_eq!(
        parse("http://10.0.0.5:7480", true).unwrap().as_deref(),
        Some("http://10.0.0.5:7480")
    );
}

#[test]
fn anything_more_than_an_origin_is_refused() {
    for bad in [
        "minio.example.com",
        "ftp://minio.example.com",
        "https://user:pw@minio.example.com",
        "https://minio.example.com/bucket",
        "https://minio.example.com/?x=1",
        "https://minio.example.com/#x",
        "https://",
        "https://*.example.com",
        "https://a;b.example.com",
        "https://minio.example.com:0",
        "https://minio.example.com:99999",
        "https://minio.example.com:",
        "https://mi%6eio.example.com",
        "https://-minio.example.com",
    ] {
        assert_eq!(parse(bad, true), Err(AppError::EndpointInvalid), "{bad}");
    }
}

#[test]
fn patterns_name_hosts_exactly_or_below_a_domain_on_one_port() {
    let origin = |s: &str| Origin::parse(s, true).unwrap();
    for (endpoint, pattern) in [
        ("https://s3.example.com", "*.example.com"),
        ("https://a.b.example.com", "*.example.com"),
        ("https://s3.example.com:8443", "*.example.com:8443"),
        ("http://minio.internal:9000", "minio.internal:9000"),
        ("http://minio.internal", "minio.internal"),
        ("https://[fd00::5]:9000", "[fd00::5]:9000"),
    ] {
        assert!(origin(endpoint).matches(pattern), "{endpoint} ~ {pattern}");
    }
    for (endpoint, pattern) in [
        ("https://example.com", "*.example.com"),
        ("https://evil-example.com", "*.example.com"),
        ("https://example.com.evil.net", "*.example.com"),
        ("https://s3.example.com:8443", "*.example.com"),
        ("https://minio.internal", "minio.internal:9000"),
        ("http://minio.internal:9001", "minio.internal:9000"),
    ] {
        assert!(
            !origin(endpoint).matches(pattern),
            "{endpoint} !~ {pattern}"
        );
    }
}

#[tokio::test]
async fn only_hosts_the_operator_lists_are_reached() {
    let cfg = config(
        &["minio.internal:9000", "*.example.com", "10.0.0.5:7480"],
        true,
    );
    assert_eq!(allowed(&cfg, "http://10.0.0.5:7480").await, Ok(()));
    for refused in [
        // Not in the list, or not on its port (refused before any name is resolved).
        "https://example.com",
        "https://evil-example.com",
        "https://s3.example.com:8443",
        "https://minio.internal",
        "http://10.0.0.6:7480",
        // Named nowhere, and internal.
        "http://127.0.0.1:9000",
        "http://169.254.169.254",
    ] {
        assert_not_allowed(&cfg, refused).await;
    }
    let mut off = cfg.clone();
    off.allow_custom_endpoints = false;
    assert_eq!(
        allowed(&off, "http://10.0.0.5:7480").await,
        Err(AppError::EndpointNotAllowed)
    );
}

#[tokio::test]
async fn internal_addresses_need_the_host_named_and_metadata_is_never_reached() {
    // Listed exactly: an internal address is what the operator meant.
    let named = config(
        &["127.0.0.1:9000", "[fd00::5]:9000", "localhost:9000"],
        true,
    );
    for ok in [
        "http://127.0.0.1:9000",
        "https://[fd00::5]:9000",
        "http://localhost:9000",
    ] {
        assert_eq!(allowed(&named, ok).await, Ok(()), "{ok}");
    }
    // Reached through a wildcard, a name that resolves inside is refused (DNS rebinding).
    let inside = ["203.0.113.9".parse().unwrap(), "10.1.2.3".parse().unwrap()];
    assert_eq!(reachable(false, &inside), Err(AppError::EndpointNotAllowed));
    assert_eq!(reachable(true, &inside), Ok(()));
    assert_eq!(reachable(false, &inside[..1]), Ok(()));
    // Link-local (the metadata service) is refused even when listed.
    let metadata = config(
        &["169.254.169.254", "[fd00:ec2::254]", "[fe80::1]:9000"],
        true,
    );
    for refused in [
        "http://169.254.169.254",
        "http://[fd00:ec2::254]",
        "http://[fe80::1]:9000",
    ] {
        assert_not_allowed(&metadata, refused).await;
    }
    assert_eq!(Range::of("100.64.0.1".parse().unwrap()), Range::Internal);
    assert_eq!(
        Range::of("::ffff:10.0.0.1".parse().unwrap()),
        Range::Internal
    );
    assert_eq!(Range::of("52.216.0.1".parse().unwrap()), Range::Public);
}

/// What a rebinding attacker's name resolves to when Crossview connects.
#[derive(Clone, Debug)]
struct Rebound(IpAddr);

impl ResolveDns for Rebound {
    fn resolve_dns<'a>(&'a self, _name: &'a str) -> DnsFuture<'a> {
        DnsFuture::ready(Ok(vec![self.0]))
    }
}

/// Whether an S3 call to `s3.rebind.test`, resolving to `ip` when the client connects,
/// reaches a listener there, with `patterns` as the operator's list; and the call's error.
async fn reaches(patterns: &[&str], ip: IpAddr) -> (bool, String) {
    use aws_sdk_s3::config::{timeout::TimeoutConfig, BehaviorVersion, Credentials, Region};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let patterns: Vec<String> = patterns
        .iter()
        .map(|p| p.replace("PORT", &port.to_string()))
        .collect();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build_with_resolver(VettedResolver::new(&patterns, Rebound(ip)));
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(format!("http://s3.rebind.test:{port}"))
        .force_path_style(true)
        .http_client(http)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(2))
                .build(),
        )
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    let call = tokio::spawn(async move {
        let err = aws_sdk_s3::Client::from_conf(config)
            .list_buckets()
            .send()
            .await
            .unwrap_err();
        format!(
            "{:?}",
            aws_smithy_types::error::display::DisplayErrorContext(err)
        )
    });
    let accepted = tokio::time::timeout(std::time::Duration::from_secs(3), listener.accept()).await;
    drop(listener);
    (accepted.is_ok(), call.await.unwrap())
}

#[tokio::test]
async fn the_http_client_connects_only_to_addresses_the_rules_admit() {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    // Named exactly, an internal address is the operator's own store: reached.
    assert!(reaches(&["s3.rebind.test:PORT"], loopback).await.0);
    // Through a wildcard, a name that resolves inside is an attack: never connected to,
    // whatever it resolved to when the endpoint was checked.
    let (reached, err) = reaches(&["*.rebind.test:PORT"], loopback).await;
    assert!(!reached && err.contains("may not reach"), "{err}");
    // The metadata service, however the name is listed.
    let metadata = IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254));
    let (_, err) = reaches(&["s3.rebind.test:PORT"], metadata).await;
    assert!(err.contains("may not reach"), "{err}");
    // A name nobody listed is not a custom endpoint: resolved as usual (AWS's own).
    assert!(reaches(&["other.example.com"], loopback).await.0);
}

#[test]
fn patterns_cover_names_exactly_or_below() {
    let patterns = ["minio.internal:9000".to_owned(), "*.example.com".to_owned()];
    assert_eq!(covered(&patterns, "minio.internal"), Some(true));
    assert_eq!(covered(&patterns, "a.example.com"), Some(false));
    assert_eq!(covered(&patterns, "example.com"), None);
    assert_eq!(covered(&patterns, "badexample.com"), None);
}
