//! Who the client is, for rate limits: the TCP peer, or (only when the peer is a trusted
//! reverse proxy) the rightmost address in `Forwarded` / `X-Forwarded-For` that is not itself a
//! trusted proxy. Addresses further left are written by the client and prove nothing. IPv6
//! clients are counted per /64, the block one subscriber usually holds.

use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use axum::http::HeaderMap;
use axum::http::header::FORWARDED;
use forwarded_header_value::ForwardedHeaderValue;
use ipnet::IpNet;

/// The reverse proxies whose forwarding headers are believed (`SHIFTING_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses comma-separated CIDRs or single addresses (`10.0.0.0/8, ::1`); empty trusts none.
    ///
    /// # Errors
    /// The first entry that is neither.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{entry:?} is not an IP address or CIDR block"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request that arrived from `peer` with `headers`.
    #[must_use]
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let Some(hops) = forwarded_hops(headers) else {
            return peer;
        };
        // From the proxy nearest to us outwards: the first hop we do not run is the client.
        let mut reporter = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = hop.forwarded_for_ip().map(|ip| ip.to_canonical()) else {
                // `for=unknown` or an obfuscated name: the last proxy we trust is all we know.
                return reporter;
            };
            if !self.trusts(ip) {
                return ip;
            }
            reporter = ip;
        }
        reporter
    }
}

/// The hops of `Forwarded` (preferred, RFC 7239) or else `X-Forwarded-For`, every header line
/// in order; `None` when neither is present or parses.
fn forwarded_hops(headers: &HeaderMap) -> Option<ForwardedHeaderValue> {
    let joined = |name: &str| {
        let lines: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        (!lines.is_empty()).then(|| lines.join(", "))
    };
    if let Some(forwarded) = joined(FORWARDED.as_str()) {
        return ForwardedHeaderValue::from_forwarded(&forwarded).ok();
    }
    joined("x-forwarded-for").and_then(|xff| ForwardedHeaderValue::from_x_forwarded_for(&xff).ok())
}

/// The key a client's requests are counted under: the IPv4 address, or the IPv6 /64.
#[must_use]
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say() {
        let none = TrustedProxies::default();
        let spoofed = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=1.2.3.4"),
        ]);
        assert_eq!(
            none.client(ip("198.51.100.7"), &spoofed),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let spoofed = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(
            proxies.client(ip("198.51.100.7"), &spoofed),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        // The client put 1.1.1.1 in the header itself; the edge proxy appended its peer.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 192.0.2.1")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &chain), ip("198.51.100.7"));
        // Two header lines are one list.
        let split = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &split), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_is_preferred_and_understood_with_quotes_ports_and_ipv6() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let both = headers(&[
            (
                "forwarded",
                r#"for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "203.0.113.50"),
        ]);
        assert_eq!(
            proxies.client(ip("127.0.0.1"), &both),
            ip("2001:db8:cafe::17")
        );
    }

    #[test]
    fn unknown_or_unparsable_hops_fall_back_to_the_last_trusted_reporter() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &unknown), ip("127.0.0.1"));
        let garbage = headers(&[("x-forwarded-for", "not an address")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &garbage), ip("127.0.0.1"));
        let missing = HeaderMap::new();
        assert_eq!(proxies.client(ip("127.0.0.1"), &missing), ip("127.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_peers_count_as_ipv4() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let chain = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            proxies.client(ip("::ffff:127.0.0.1"), &chain),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_per_64_and_ipv4_per_address() {
        assert_eq!(rate_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            rate_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            rate_key(ip("2001:db8:1:2::9"))
        );
        assert_ne!(
            rate_key(ip("2001:db8:1:3::1")),
            rate_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(rate_key(ip("198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(rate_key(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
    }

    #[test]
    fn bad_entries_are_reported_by_name() {
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        let err = TrustedProxies::parse("10.0.0.0/8, nginx").unwrap_err();
        assert!(err.contains("\"nginx\""), "{err}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }
}
