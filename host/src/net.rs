//! Which addresses are public: what webhooks and piece sources may reach from inside the
//! operator's network unless config allows private ones (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a request from inside the operator's network should not reach `ip` (what kind of
/// address it is: loopback, private, link-local, …), or `None` for a public address.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "an unspecified (\"this network\") address",
        (127, _, _) => "a loopback address",
        (10, _, _) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (169, 254, _) => "a link-local address (where cloud metadata services listen)",
        (100, 64..=127, _) => "a shared (carrier-grade NAT) address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
    };
    // Addresses that carry an IPv4 address reach it: judge that one.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    if segments[..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (deprecated): ::a.b.c.d.
        return non_public_v4(embedded_v4(segments[6], segments[7]));
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 well-known prefix.
        return non_public_v4(embedded_v4(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        // 6to4.
        return non_public_v4(embedded_v4(segments[1], segments[2]));
    }
    Some(match segments[0] {
        0x64 if segments[1] == 0xff9b => "a local-use NAT64 address",
        0x100 if segments[1..4] == [0, 0, 0] => "a discard-only address",
        0x2001 if segments[1] == 0 => "a Teredo tunnel address",
        0x2001 if segments[1] == 0xdb8 => "a documentation address",
        s if s & 0xfe00 == 0xfc00 => "a unique local (private) address",
        s if s & 0xffc0 == 0xfe80 => "a link-local address",
        s if s & 0xffc0 == 0xfec0 => "a site-local address",
        s if s & 0xff00 == 0xff00 => "a multicast address",
        _ => return None,
    })
}

/// The host's client for fetching on a job's behalf: follows no redirect (one could lead off an
/// allowlist), uses no proxy, names itself `kiln/<version>`, and unless `allow_private` resolves
/// names to public addresses only ([`PublicResolver`], whose refusals name `fetched` and
/// `setting`).
pub fn outbound_client(
    allow_private: bool,
    fetched: &'static str,
    setting: &'static str,
) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(PublicResolver::new(fetched, setting)));
    }
    builder.build().expect("an outbound client builds")
}

/// A DNS resolver for `reqwest` that keeps only public addresses, so a client connects only to
/// an address that was checked (no DNS-rebinding gap between the check and the connection).
/// `fetched` says what is fetched and `setting` the config key that lets private addresses
/// through, for the refusal's message.
pub struct PublicResolver {
    fetched: &'static str,
    setting: &'static str,
}

impl PublicResolver {
    /// A resolver whose refusals read "`{host}` resolves to …; `{fetched}` only from public
    /// addresses unless `{setting}` = true".
    pub fn new(fetched: &'static str, setting: &'static str) -> Self {
        Self { fetched, setting }
    }
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let (fetched, setting) = (self.fetched, self.setting);
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let public: Vec<std::net::SocketAddr> = addrs
                .into_iter()
                .filter(|addr| match non_public(addr.ip()) {
                    None => true,
                    Some(kind) => {
                        refused.get_or_insert((addr.ip(), kind));
                        false
                    }
                })
                .collect();
            if public.is_empty() {
                let why = match refused {
                    Some((ip, kind)) => format!(
                        "{host} resolves to {ip}, {kind}; {fetched} only from public addresses \
                         unless {setting} = true"
                    ),
                    None => format!("{host} resolves to no address"),
                };
                return Err(why.into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
