//! Custom endpoints (S3-compatible stores such as MinIO or Ceph RGW): what a user may type, and
//! where the operator lets Crossview send requests signed with its own identity. Without the
//! second, a connection could aim Crossview at the cloud's metadata service or at anything on
//! its private network (server-side request forgery).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use http::Uri;

use crate::{config::Config, error::AppError};

/// Empty → `None` (AWS). Otherwise an origin, re-serialized as `scheme://host[:port]` with the
/// host lower-cased: https only (http too in development), and no user info, path, query,
/// fragment, wildcard or anything but a host name or IP address in the host.
pub fn parse(input: &str, development: bool) -> Result<Option<String>, AppError> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    Origin::parse(input, development).map(|origin| Some(origin.to_string()))
}

/// Refuses an endpoint the operator does not allow: custom endpoints off, a host outside
/// `CUSTOM_ENDPOINT_HOSTS`, or an address (literal or resolved now) that is link-local (cloud
/// metadata), or loopback, private or unique-local without the list naming the host exactly.
/// Checked when an endpoint is saved and again before every request that uses it.
pub async fn allowed(config: &Config, endpoint: &str) -> Result<(), AppError> {
    if !config.allow_custom_endpoints {
        return Err(AppError::EndpointNotAllowed);
    }
    let origin = Origin::parse(endpoint, config.development)?;
    let pattern = config
        .custom_endpoint_hosts
        .iter()
        .find(|pattern| origin.matches(pattern))
        .ok_or(AppError::EndpointNotAllowed)?;
    let named_exactly = !pattern.starts_with("*.");
    let addresses: Vec<IpAddr> = match origin.ip() {
        Some(ip) => vec![ip],
        None => tokio::net::lookup_host((origin.host.as_str(), origin.port))
            .await
            .map_err(|_| AppError::EndpointUnresolvable)?
            .map(|addr| addr.ip())
            .collect(),
    };
    reachable(named_exactly, &addresses)
}

/// The DNS resolver of Crossview's one HTTP client. A name that `CUSTOM_ENDPOINT_HOSTS` covers
/// resolves only if every address it has now passes the endpoint rules, and the client connects
/// to exactly those addresses: the check before a request is not enough alone, since a name may
/// resolve elsewhere a moment later (DNS rebinding). Other names (AWS's own) resolve as usual;
/// an IP address in a URL is never resolved, and [`allowed`] has checked it.
#[derive(Clone, Debug)]
pub struct VettedResolver<R> {
    hosts: std::sync::Arc<[String]>,
    inner: R,
}

impl<R> VettedResolver<R> {
    pub fn new(hosts: &[String], inner: R) -> Self {
        VettedResolver {
            hosts: hosts.into(),
            inner,
        }
    }
}

impl<R: ResolveDns + Clone> ResolveDns for VettedResolver<R> {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move {
            let addresses = self.inner.resolve_dns(name).await?;
            let name = name.to_ascii_lowercase();
            let Some(named_exactly) = covered(&self.hosts, name.trim_end_matches('.')) else {
                return Ok(addresses);
            };
            match reachable(named_exactly, &addresses) {
                Ok(()) => Ok(addresses),
                Err(_) => Err(ResolveDnsError::new(format!(
                    "{name} resolves to an address custom endpoints may not reach"
                ))),
            }
        })
    }
}

/// The system's resolver (getaddrinfo, off the async threads).
#[derive(Clone, Debug, Default)]
pub struct SystemDns;

impl ResolveDns for SystemDns {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        DnsFuture::new(async move {
            match tokio::net::lookup_host((name, 0)).await {
                Ok(found) => Ok(found.map(|addr| addr.ip()).collect()),
                Err(err) => Err(ResolveDnsError::new(err)),
            }
        })
    }
}

/// Whether the operator's patterns cover host `name` (whatever the port): `Some(true)` if one
/// names it exactly, `Some(false)` if only a `*.` pattern does.
fn covered(patterns: &[String], name: &str) -> Option<bool> {
    let host_of = |pattern: &str| split_host_port(pattern).map(|(host, _)| host);
    let exact = patterns
        .iter()
        .filter(|p| !p.starts_with("*."))
        .any(|p| host_of(p).as_deref() == Some(name));
    let under = patterns
        .iter()
        .filter_map(|p| p.strip_prefix("*."))
        .any(|p| host_of(p).is_some_and(|suffix| below(name, &suffix)));
    match (exact, under) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}

/// Whether `host` is a name below `suffix` (`a.example.com` below `example.com`; not
/// `example.com` itself, nor `badexample.com`).
fn below(host: &str, suffix: &str) -> bool {
    host.strip_suffix(suffix)
        .is_some_and(|label| label.len() > 1 && label.ends_with('.'))
}

/// Whether a host's addresses may be reached: never link-local; internal ones only for a host
/// the operator named exactly (through a wildcard, a name that resolves inside is an attack,
/// e.g. DNS rebinding).
fn reachable(named_exactly: bool, addresses: &[IpAddr]) -> Result<(), AppError> {
    let refused = addresses.iter().any(|&ip| match Range::of(ip) {
        Range::LinkLocal => true,
        Range::Internal => !named_exactly,
        Range::Public => false,
    });
    match refused {
        true => Err(AppError::EndpointNotAllowed),
        false => Ok(()),
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Origin {
    https: bool,
    /// Lower-cased; an IPv6 address without its brackets.
    host: String,
    /// The port requests go to (the scheme's own when none is written).
    port: u16,
    port_written: bool,
}

impl Origin {
    fn parse(input: &str, development: bool) -> Result<Origin, AppError> {
        let uri: Uri = input.parse().map_err(|_| AppError::EndpointInvalid)?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if development => false,
            _ => return Err(AppError::EndpointInvalid),
        };
        let authority = uri.authority().ok_or(AppError::EndpointInvalid)?;
        let bare = matches!(uri.path(), "" | "/") && uri.query().is_none() && !input.contains('#');
        if !bare || authority.as_str().contains('@') {
            return Err(AppError::EndpointInvalid);
        }
        let (host, port) = split_host_port(authority.as_str()).ok_or(AppError::EndpointInvalid)?;
        Ok(Origin {
            https,
            host,
            port: port.unwrap_or(if https { 443 } else { 80 }),
            port_written: port.is_some(),
        })
    }

    fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `minio.internal:9000`, `10.0.0.5:7480`, `[fd00::5]:9000`, or `*.example.com` (any name
    /// below example.com, not example.com itself). A pattern without a port admits only the
    /// scheme's own port.
    fn matches(&self, pattern: &str) -> bool {
        let (host, port) = match pattern.strip_prefix("*.") {
            Some(rest) => match split_host_port(rest) {
                Some((suffix, port)) => (below(&self.host, &suffix), port),
                None => return false,
            },
            None => match split_host_port(pattern) {
                Some((host, port)) => (host == self.host, port),
                None => return false,
            },
        };
        let default = if self.https { 443 } else { 80 };
        host && port.unwrap_or(default) == self.port
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let host = match self.ip() {
            Some(IpAddr::V6(_)) => format!("[{}]", self.host),
            _ => self.host.clone(),
        };
        match self.port_written {
            true => write!(f, "{scheme}://{host}:{}", self.port),
            false => write!(f, "{scheme}://{host}"),
        }
    }
}

/// `host[:port]` → the lower-cased host (a DNS name of letters, digits, `-` and `.`, or an IP
/// address) and the port if written. Anything else — wildcards, `;`, `%`, spaces — is refused.
fn split_host_port(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            v6.parse::<Ipv6Addr>().ok()?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':')?),
            };
            (v6.to_owned(), port)
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        },
    };
    let port = match port {
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|&p| p != 0)?)
        }
        Some(_) => return None,
        None => None,
    };
    let host = host.to_ascii_lowercase();
    let name_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    (name_ok || host.parse::<IpAddr>().is_ok()).then_some((host, port))
}

/// The IPv4 address an IPv6 one carries and is routed to: NAT64's well-known prefix
/// (`64:ff9b::/96`, RFC 6052), 6to4 (`2002::/16`) and the deprecated IPv4-compatible form
/// (`::a.b.c.d`). Each is classified as that IPv4 address, so none is a way around the rules
/// for the metadata service or private networks. (NAT64's local-use `64:ff9b:1::/48`, whose
/// embedding depends on the operator's prefix length, is internal as a whole.)
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(last),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        [0, 0, 0, 0, 0, 0, ..] => Some(last),
        _ => None,
    }
}

/// Where an address points, for the endpoint rules.
#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Link-local: the cloud's metadata service lives here (169.254.169.254, fd00:ec2::254).
    LinkLocal,
    /// Loopback, private, unique-local, shared (CGNAT), unspecified, multicast or reserved.
    Internal,
    Public,
}

impl Range {
    fn of(ip: IpAddr) -> Range {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| embedded_v4(v6)) {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(v6),
            },
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Range {
        let [a, b, ..] = ip.octets();
        if ip.is_link_local() {
            Range::LinkLocal
        } else if ip.is_loopback()
            || ip.is_private()
            || ip.is_unspecified()
            || ip.is_broadcast()
            || ip.is_multicast()
            || a == 0
            || a >= 240
            || (a == 100 && (64..128).contains(&b))
        {
            Range::Internal
        } else {
            Range::Public
        }
    }

    fn of_v6(ip: Ipv6Addr) -> Range {
        let first = ip.segments()[0];
        // fd00:ec2::254 is unique-local by its prefix, but it is EC2's metadata service.
        if (first & 0xffc0) == 0xfe80 || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
            Range::LinkLocal
        } else if ip.is_loopback()
            || ip.is_unspecified()
            || ip.is_multicast()
            || (first & 0xfe00) == 0xfc00
            || ip.segments()[..3] == [0x64, 0xff9b, 1]
        {
            Range::Internal
        } else {
            Range::Public
        }
    }
}

#[cfg(test)]
mod tests {
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
        let accepted =
            tokio::time::timeout(std::time::Duration::from_secs(3), listener.accept()).await;
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
}
