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
mod tests;
