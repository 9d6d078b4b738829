//! Where the client may connect (SSRF protection). Wallet addresses come from users, so a
//! request must never reach loopback, private, link-local or other internal addresses, whatever
//! a hostname resolves to and wherever a redirect points. Checked on the URL (scheme, literal IP)
//! and on every resolved address at connect time, by [`GuardedResolver`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why a destination is not allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Plain `http` (or another scheme) outside the sandbox origin.
    #[error("{0} is not https")]
    NotHttps(String),
    /// The URL names an internal address.
    #[error("{0} is an internal address")]
    InternalAddress(String),
    /// Every address the host resolves to is internal.
    #[error("{0} resolves only to internal addresses")]
    ResolvesInternally(String),
    /// An exemption that is neither a host name nor a CIDR.
    #[error("{0:?} is neither a host name nor a CIDR block")]
    BadExemption(String),
}

/// The outbound policy: `https` only and no internal addresses, except the sandbox origin (in
/// sandbox mode) and the operator's explicit exemptions.
#[derive(Clone, Debug, Default)]
pub struct FetchPolicy {
    sandbox_origin: Option<Url>,
    exempt_hosts: Vec<String>,
    exempt_nets: Vec<IpNet>,
    plain_http: bool,
}

impl FetchPolicy {
    /// Real wallets only: `https`, public addresses.
    #[must_use]
    pub fn real() -> Self {
        Self::default()
    }

    /// Also allows the embedded sandbox at `origin` (scheme, host and port), over `http` and on
    /// loopback. Nothing else is relaxed.
    #[must_use]
    pub fn sandbox(origin: &Url) -> Self {
        Self {
            sandbox_origin: Some(origin.clone()),
            ..Self::default()
        }
    }

    /// Adds exemptions from the internal-address rule, for providers on private networks:
    /// host names (`wallet.internal`) or CIDR blocks (`10.1.0.0/16`, `192.168.4.7/32`).
    /// `https` stays mandatory for them.
    ///
    /// # Errors
    /// [`PolicyError::BadExemption`] for an entry that is neither.
    pub fn with_exemptions(mut self, entries: &[String]) -> Result<Self, PolicyError> {
        for entry in entries {
            let entry = entry.trim();
            if let Ok(net) = entry.parse::<IpNet>() {
                self.exempt_nets.push(net);
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                self.exempt_nets.push(IpNet::from(ip));
            } else if !entry.is_empty()
                && entry
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                self.exempt_hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(PolicyError::BadExemption(entry.to_owned()));
            }
        }
        Ok(self)
    }

    /// Also allows plain `http` (local development: a receiver on this machine). The address
    /// rule is unchanged.
    #[must_use]
    pub fn with_plain_http(mut self) -> Self {
        self.plain_http = true;
        self
    }

    fn is_sandbox(&self, url: &Url) -> bool {
        self.sandbox_origin
            .as_ref()
            .is_some_and(|origin| origin.origin() == url.origin())
    }

    fn host_is_exempt(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.exempt_hosts.contains(&host)
            || self
                .sandbox_origin
                .as_ref()
                .and_then(Url::host_str)
                .is_some_and(|h| h.eq_ignore_ascii_case(&host))
    }

    /// Whether the client may connect to `ip` for `host`.
    #[must_use]
    pub fn allows_address(&self, host: &str, ip: IpAddr) -> bool {
        !is_internal(ip)
            || self.host_is_exempt(host)
            || self.exempt_nets.iter().any(|net| net.contains(&ip))
    }

    /// Checks a URL before any connection: the scheme, and the address when the host is a
    /// literal IP (those never reach the resolver).
    ///
    /// # Errors
    /// [`PolicyError`] saying why the URL is not allowed.
    pub fn check_url(&self, url: &Url) -> Result<(), PolicyError> {
        if self.is_sandbox(url) {
            return Ok(());
        }
        // The sandbox host is exempt from the address rule only at the sandbox's own origin.
        let sandbox_host = self.sandbox_origin.as_ref().and_then(Url::host_str);
        if sandbox_host.is_some()
            && sandbox_host == url.host_str()
            && !self
                .exempt_hosts
                .iter()
                .any(|h| Some(h.as_str()) == url.host_str())
        {
            return Err(PolicyError::InternalAddress(url.to_string()));
        }
        if url.scheme() != "https" && !(self.plain_http && url.scheme() == "http") {
            return Err(PolicyError::NotHttps(url.to_string()));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        if self.allows_address(&ip.to_string(), ip) {
            Ok(())
        } else {
            Err(PolicyError::InternalAddress(url.to_string()))
        }
    }
}

/// Whether an address is anything but a public unicast address: loopback, private, link-local,
/// carrier-grade NAT, multicast, broadcast, unspecified, documentation, benchmarking or
/// reserved ranges, and the IPv6 forms that embed one (IPv4-mapped, NAT64, 6to4).
#[must_use]
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved 240.0.0.0/4
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    // NAT64 well-known prefix 64:ff9b::/96 and local-use 64:ff9b:1::/48.
    if segments[0] == 0x64 && segments[1] == 0xff9b {
        return segments[2] == 1 || is_internal_v4(embedded_v4(segments[6], segments[7]));
    }
    // 6to4 2002::/16 embeds an IPv4 address in bits 16..48.
    if segments[0] == 0x2002 {
        return is_internal_v4(embedded_v4(segments[1], segments[2]));
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation 2001:db8::/32
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard 100::/64
        || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated) ::/96
}

/// A DNS resolver that drops the addresses the policy forbids, so a hostname pointing at an
/// internal address cannot be used to reach it.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    policy: Arc<FetchPolicy>,
}

impl GuardedResolver {
    /// A resolver enforcing `policy`.
    #[must_use]
    pub fn new(policy: Arc<FetchPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| policy.allows_address(&host, addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(PolicyError::ResolvesInternally(host))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Follows redirects only within the same host and only to allowed URLs, at most five times.
#[must_use]
pub fn redirect_policy(policy: Arc<FetchPolicy>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let same_host = attempt
            .previous()
            .last()
            .is_some_and(|previous| previous.host_str() == attempt.url().host_str());
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if !same_host {
            attempt.error("redirect to another host")
        } else if let Err(err) = policy.check_url(attempt.url()) {
            attempt.error(err)
        } else {
            attempt.follow()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_internal_range_is_recognised() {
        let internal = [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.9",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "::127.0.0.1",
            "100::1",
        ];
        for ip in internal {
            assert!(is_internal(ip.parse().unwrap()), "{ip} should be internal");
        }
        let public = [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ];
        for ip in public {
            assert!(!is_internal(ip.parse().unwrap()), "{ip} should be public");
        }
    }

    #[test]
    fn real_mode_allows_only_https_to_public_addresses() {
        let policy = FetchPolicy::real();
        assert!(
            policy
                .check_url(&Url::parse("https://ilp.example/alice").unwrap())
                .is_ok()
        );
        assert!(
            policy
                .check_url(&Url::parse("https://8.8.8.8/alice").unwrap())
                .is_ok()
        );
        for url in ["http://ilp.example/alice", "ftp://ilp.example/x"] {
            assert!(
                matches!(
                    policy.check_url(&Url::parse(url).unwrap()),
                    Err(PolicyError::NotHttps(_))
                ),
                "{url}"
            );
        }
        for url in [
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest",
            "https://[::ffff:10.0.0.1]/x",
            "https://0x7f.1/x",
        ] {
            assert!(
                matches!(
                    policy.check_url(&Url::parse(url).unwrap()),
                    Err(PolicyError::InternalAddress(_))
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn sandbox_mode_allows_its_own_origin_and_nothing_else() {
        let policy = FetchPolicy::sandbox(&Url::parse("http://127.0.0.1:8080").unwrap());
        assert!(
            policy
                .check_url(&Url::parse("http://127.0.0.1:8080/sandbox/alice").unwrap())
                .is_ok()
        );
        assert!(
            policy
                .check_url(&Url::parse("http://127.0.0.1:9999/x").unwrap())
                .is_err()
        );
        assert!(
            policy
                .check_url(&Url::parse("https://127.0.0.1:8080/x").unwrap())
                .is_err()
        );
        assert!(
            policy
                .check_url(&Url::parse("http://10.0.0.1:8080/x").unwrap())
                .is_err()
        );
        assert!(policy.allows_address("127.0.0.1", "127.0.0.1".parse().unwrap()));
        assert!(!policy.allows_address("localhost", "127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn exemptions_relax_only_the_address_rule() {
        let policy = FetchPolicy::real()
            .with_exemptions(&[
                "wallet.internal".into(),
                "10.1.0.0/16".into(),
                "192.168.4.7".into(),
            ])
            .unwrap();
        assert!(policy.allows_address("wallet.internal", "10.9.9.9".parse().unwrap()));
        assert!(policy.allows_address("other.example", "10.1.2.3".parse().unwrap()));
        assert!(policy.allows_address("x", "192.168.4.7".parse().unwrap()));
        assert!(!policy.allows_address("x", "192.168.4.8".parse().unwrap()));
        assert!(
            policy
                .check_url(&Url::parse("https://10.1.2.3/x").unwrap())
                .is_ok()
        );
        assert!(
            policy
                .check_url(&Url::parse("http://wallet.internal/x").unwrap())
                .is_err(),
            "https stays mandatory"
        );
        assert!(matches!(
            FetchPolicy::real().with_exemptions(&["not a host!".into()]),
            Err(PolicyError::BadExemption(_))
        ));
    }

    #[test]
    fn plain_http_relaxes_only_the_scheme() {
        let policy = FetchPolicy::real()
            .with_plain_http()
            .with_exemptions(&["127.0.0.0/8".into()])
            .unwrap();
        for allowed in [
            "http://127.0.0.1:9/hook",
            "https://127.0.0.1/hook",
            "http://shop.example/hook",
        ] {
            assert!(
                policy.check_url(&Url::parse(allowed).unwrap()).is_ok(),
                "{allowed}"
            );
        }
        for refused in [
            "http://10.0.0.1/hook",
            "http://169.254.169.254/latest",
            "ftp://shop.example/x",
        ] {
            assert!(
                policy.check_url(&Url::parse(refused).unwrap()).is_err(),
                "{refused}"
            );
        }
        assert!(
            FetchPolicy::real()
                .check_url(&Url::parse("http://shop.example/hook").unwrap())
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_hostname_resolving_to_loopback_is_refused_at_resolution() {
        let resolver = GuardedResolver::new(Arc::new(FetchPolicy::real()));
        let err = resolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("refused");
        assert!(
            err.to_string()
                .contains("resolves only to internal addresses"),
            "{err}"
        );
        let exempt = GuardedResolver::new(Arc::new(
            FetchPolicy::real()
                .with_exemptions(&["localhost".into()])
                .unwrap(),
        ));
        let addrs: Vec<_> = exempt
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
    }
}
