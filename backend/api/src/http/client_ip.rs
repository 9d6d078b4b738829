//! Who the client is, for rate limits: the TCP peer, or (only when the peer is a trusted
//! reverse proxy) the rightmost address in the one forwarding header the proxy writes
//! (`X-Forwarded-For` by default, or `Forwarded`) that is not itself a trusted proxy. Addresses
//! further left are written by the client and prove nothing, and the other header is never
//! read: a proxy that appends to one passes the other on as the client wrote it. IPv6 clients
//! are counted per /64, the block one subscriber usually holds.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use axum::http::header::FORWARDED;
use forwarded_header_value::ForwardedHeaderValue;
use ipnet::{IpNet, Ipv4Net};

/// The header a trusted proxy names the client in (`SHIFTING_FORWARDED_HEADER`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For`, as nginx's `$proxy_add_x_forwarded_for` writes it.
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    Forwarded,
}

impl FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(format!(
                "{other:?} is neither \"x-forwarded-for\" nor \"forwarded\""
            )),
        }
    }
}

/// The reverse proxies whose forwarding header is believed (`SHIFTING_TRUSTED_PROXIES`), and
/// which header that is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parses comma-separated CIDRs or single addresses (`10.0.0.0/8, ::1`); empty trusts none.
    /// IPv4-mapped IPv6 blocks (`::ffff:10.0.0.0/104`) mean their IPv4 block. They are read
    /// from `X-Forwarded-For` until [`Self::reading`] says otherwise.
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
                    .map(|net| canonical_net(net.trunc()))
                    .map_err(|_| format!("{entry:?} is not an IP address or CIDR block"))
            })
            .collect::<Result<_, _>>()
            .map(|nets| Self {
                nets,
                header: ForwardedHeader::default(),
            })
    }

    /// The same proxies, naming the client in `header`.
    #[must_use]
    pub fn reading(self, header: ForwardedHeader) -> Self {
        Self { header, ..self }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request that arrived from `peer` with `headers`.
    #[must_use]
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        // From the proxy nearest to us outwards: the first hop we do not run is the client.
        let mut reporter = peer;
        for hop in self.hops(headers).into_iter().rev() {
            let Some(ip) = hop.map(|ip| ip.to_canonical()) else {
                // `for=unknown`, an obfuscated name or garbage: the last proxy we trust is
                // all we know.
                return reporter;
            };
            if !self.trusts(ip) {
                return ip;
            }
            reporter = ip;
        }
        reporter
    }

    /// The addresses of the configured header, every header line in order; `None` for an
    /// entry that names no address. No header: no hops.
    fn hops(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let name = match self.header {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => FORWARDED.as_str(),
        };
        let lines: Vec<&str> = headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().unwrap_or_default())
            .collect();
        if lines.is_empty() {
            return Vec::new();
        }
        let joined = lines.join(", ");
        match self.header {
            ForwardedHeader::XForwardedFor => joined.split(',').map(xff_entry).collect(),
            ForwardedHeader::Forwarded => ForwardedHeaderValue::from_forwarded(&joined)
                .map_or_else(
                    // One unreadable element spoils the list: only the reporter is known.
                    |_| vec![None],
                    |value| value.iter().map(|hop| hop.forwarded_for_ip()).collect(),
                ),
        }
    }
}

/// An `X-Forwarded-For` entry: an address, `ip:port` or `[v6]:port` (as some proxies write
/// it); `None` for anything else.
fn xff_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    IpAddr::from_str(entry)
        .or_else(|_| SocketAddr::from_str(entry).map(|socket| socket.ip()))
        .ok()
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|v6| Ipv6Addr::from_str(v6).ok())
                .map(IpAddr::V6)
        })
}

/// An IPv4-mapped IPv6 block as the IPv4 block it maps (addresses are compared canonical).
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => v6
            .addr()
            .to_ipv4_mapped()
            .and_then(|v4| Ipv4Net::new(v4, v6.prefix_len() - 96).ok())
            .map_or(net, IpNet::V4),
        other => other,
    }
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
    fn only_the_configured_header_is_read() {
        let both = headers(&[
            (
                "forwarded",
                r#"for=1.1.1.1, for="[2001:db8:cafe::17]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "203.0.113.50"),
        ]);
        // A proxy that appends to X-Forwarded-For passes a client's own Forwarded on.
        let xff = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(xff.client(ip("127.0.0.1"), &both), ip("203.0.113.50"));
        let forwarded = xff.reading(ForwardedHeader::Forwarded);
        assert_eq!(
            forwarded.client(ip("127.0.0.1"), &both),
            ip("2001:db8:cafe::17")
        );
        let only_forwarded = headers(&[("forwarded", "for=198.51.100.9")]);
        let xff = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(
            xff.client(ip("127.0.0.1"), &only_forwarded),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn x_forwarded_for_entries_are_read_one_by_one_with_ports() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        for (chain, client) in [
            ("garbage, 198.51.100.7", "198.51.100.7"),
            ("1.1.1.1, 198.51.100.7:4711", "198.51.100.7"),
            ("[2001:db8::9]:4711", "2001:db8::9"),
            ("[2001:db8::9]", "2001:db8::9"),
            // Garbage nearest to us: only the reporter is known.
            ("198.51.100.7, garbage", "127.0.0.1"),
            ("", "127.0.0.1"),
        ] {
            let list = headers(&[("x-forwarded-for", chain)]);
            assert_eq!(
                proxies.client(ip("127.0.0.1"), &list),
                ip(client),
                "{chain}"
            );
        }
        // An unreadable (non-ASCII) line is an entry that names nobody.
        let mut map = HeaderMap::new();
        map.append("x-forwarded-for", "198.51.100.7".parse().unwrap());
        map.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff").unwrap(),
        );
        assert_eq!(proxies.client(ip("127.0.0.1"), &map), ip("127.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_blocks_mean_their_ipv4_block() {
        let proxies = TrustedProxies::parse("::ffff:10.0.0.0/104").unwrap();
        let chain = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &chain), ip("198.51.100.7"));
        assert_eq!(
            proxies.client(ip("::ffff:10.1.2.3"), &chain),
            ip("198.51.100.7")
        );
        assert_eq!(proxies.client(ip("11.0.0.1"), &chain), ip("11.0.0.1"));
    }

    #[test]
    fn the_header_is_named_in_either_case() {
        assert_eq!(
            "X-Forwarded-For".parse::<ForwardedHeader>(),
            Ok(ForwardedHeader::XForwardedFor)
        );
        assert_eq!(
            "forwarded".parse::<ForwardedHeader>(),
            Ok(ForwardedHeader::Forwarded)
        );
        assert!("x-real-ip".parse::<ForwardedHeader>().is_err());
    }

    #[test]
    fn unknown_or_unparsable_hops_fall_back_to_the_last_trusted_reporter() {
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let unknown = headers(&[("forwarded", "for=1.1.1.1, for=unknown")]);
        let forwarded = proxies.clone().reading(ForwardedHeader::Forwarded);
        assert_eq!(forwarded.client(ip("127.0.0.1"), &unknown), ip("127.0.0.1"));
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
        assert!(TrustedProxies::parse("").unwrap().nets.is_empty());
        let err = TrustedProxies::parse("10.0.0.0/8, nginx").unwrap_err();
        assert!(err.contains("\"nginx\""), "{err}");
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }
}
