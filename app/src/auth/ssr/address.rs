//! Who the client is for the limits: its address, behind trusted proxies if any; and where
//! sign-in may send the browser next.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::request::Parts;

use crate::config::Config;

/// The client's address for rate limiting, for the current server function.
pub async fn client_address(config: &Config) -> Option<String> {
    let parts = leptos::prelude::use_context::<Parts>()?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0);
    client_address_of(config, &parts.headers, peer)
}

/// The client's address: the socket peer, or behind `hops` trusted proxies (`TRUST_PROXY`,
/// `TRUSTED_PROXY_HOPS`) the address the outermost of them saw.
pub fn client_address_of(
    config: &Config,
    headers: &http::HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<String> {
    if config.trust_proxy {
        let lines = headers.get_all("x-forwarded-for").iter();
        let lines = lines.filter_map(|v| v.to_str().ok());
        if let Some(client) = forwarded_client(lines, config.trusted_proxy_hops) {
            return Some(counted_as(&client));
        }
    }
    peer.map(|peer| counted_as(&peer.ip().to_string()))
}

/// An address as limits count it: an IPv6 client by its /64 (one subscriber's whole network, as
/// providers hand them out: a client must not get 2^64 fresh counters), an IPv4-mapped one as
/// its IPv4 address, anything else as given.
pub fn counted_as(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{}/64", std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        Ok(ip) => ip.to_string(),
        Err(_) => address.to_owned(),
    }
}

/// The client in `X-Forwarded-For`, read from the right across every line of the header: each
/// trusted proxy appends the address it saw, so the `hops`-th entry from the right is the one
/// the outermost trusted proxy saw. Entries further left are whatever the client claimed.
pub fn forwarded_client<'a>(lines: impl Iterator<Item = &'a str>, hops: usize) -> Option<String> {
    let entries: Vec<&str> = lines
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    let client = entries.len().checked_sub(hops.max(1))?;
    // What a proxy reports is an address; anything longer is cut, so that no header can make a
    // counter's key (a row in `attempts`) as long as it likes.
    Some(entries[client].chars().take(64).collect())
}

/// Where sign-in may send the browser: a same-site path only. One leading `/`, then neither `/`
/// nor `\` (browsers read both as the start of another host), and nothing but visible ASCII: no
/// whitespace or control character anywhere (a `Location` header cannot carry them; the pages'
/// own links are percent-encoded). Anything else goes to `/`.
pub fn safe_next(next: &str) -> &str {
    let same_site = next
        .strip_prefix('/')
        .is_some_and(|rest| !rest.starts_with(['/', '\\']))
        && next.bytes().all(|b| b.is_ascii_graphic());
    if same_site {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_read_from_the_right_across_every_forwarded_line() {
        // One proxy: it appended what it saw; the rest is the client's own claim.
        let lines = ["203.0.113.9, 10.0.0.1", "198.51.100.7"];
        assert_eq!(
            forwarded_client(lines.into_iter(), 1).as_deref(),
            Some("198.51.100.7")
        );
        // Two proxies: the outer one's observation is second from the right.
        assert_eq!(
            forwarded_client(lines.into_iter(), 2).as_deref(),
            Some("10.0.0.1")
        );
        // A spoofed first line does not win, however many entries it has.
        let spoofed = ["1.1.1.1, 2.2.2.2, 3.3.3.3", " , 198.51.100.7 "];
        assert_eq!(
            forwarded_client(spoofed.into_iter(), 1).as_deref(),
            Some("198.51.100.7")
        );
        // Fewer entries than proxies: no forwarded client (the socket peer is used).
        assert_eq!(forwarded_client(["198.51.100.7"].into_iter(), 2), None);
        assert_eq!(forwarded_client(std::iter::empty(), 1), None);
    }

    #[test]
    fn next_only_follows_local_paths() {
        assert_eq!(safe_next("/admin?x=1"), "/admin?x=1");
        assert_eq!(safe_next("/c/1/b/%C3%BC%20x"), "/c/1/b/%C3%BC%20x");
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "admin",
            "/\n",
            "/\r\nSet-Cookie: a=b",
            "/admin\t",
            " /admin",
            "/ü",
            "/a b",
        ] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
    }

    proptest::proptest! {
        /// Whatever `next` holds, the answer is a same-site path that a `Location` header can carry
        /// (leptos_axum's redirect panics on anything else): `next` itself, or `/`.
        #[test]
        fn next_is_always_a_same_site_path_a_header_can_carry(
            next in "[/\\\\a-z%:. \t\n\r\u{0}\u{7f}ü]{0,8}|\\PC{0,16}"
        ) {
            let target = safe_next(&next);
            proptest::prop_assert!(target == "/" || target == next);
            proptest::prop_assert!(http::HeaderValue::from_str(target).is_ok(), "{target:?}");
            proptest::prop_assert!(target.starts_with('/'));
            proptest::prop_assert!(!target.starts_with("//") && !target.starts_with("/\\"));
        }
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(counted_as("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            counted_as("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(counted_as("::ffff:192.0.2.9"), "192.0.2.9");
        assert_eq!(counted_as("192.0.2.9"), "192.0.2.9");
        assert_eq!(counted_as("not an address"), "not an address");
    }
}
