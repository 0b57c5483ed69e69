//! Who is calling, by address: the peer of the connection, or the client a
//! trusted proxy names in `X-Forwarded-For`. Per-address limits count by it;
//! a header from anyone else is ignored, so it cannot be forged to dodge
//! them.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::{ApiError, AppState};

/// One trusted network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let address: IpAddr = address.parse().ok()?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().ok().filter(|p| *p <= bits)?,
            None => bits,
        };
        Some(Self { address, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip, bits) = match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                (u128::from(u32::from(net)), u128::from(u32::from(ip)), 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => (u128::from(net), u128::from(ip), 128),
            _ => return false,
        };
        let shift = bits - u32::from(self.prefix);
        if shift >= 128 {
            return true;
        }
        net >> shift == ip >> shift
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`server.trusted_proxies`:
/// addresses or CIDR networks).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Vec<Network>,
}

impl TrustedProxies {
    /// Parses the configured list; an entry that is no address or network
    /// is an error naming it.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let networks = entries
            .iter()
            .map(|entry| {
                Network::parse(entry).ok_or_else(|| {
                    format!("server.trusted_proxies: `{entry}` is not an address or network")
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { networks })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|network| network.contains(ip))
    }

    /// The client's address: `peer` unless it is a trusted proxy; then the
    /// right-most `X-Forwarded-For` entry that is not itself a trusted proxy
    /// (entries to its left were written by the client and prove nothing).
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            let Ok(hop) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

impl TrustedProxies {
    /// The client address of `req` (its peer, through trusted proxies);
    /// `None` when the peer is unknown.
    pub fn client_of(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        let forwarded_for = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok());
        Some(self.client_ip(peer, forwarded_for))
    }
}

/// The calling client's address, as [`TrustedProxies::client_ip`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let client = match req.app_data::<web::Data<AppState>>() {
            Some(state) => state.trusted_proxies.client_of(req),
            None => req.peer_addr().map(|addr| addr.ip()),
        };
        ready(
            client
                .map(Self)
                .ok_or_else(|| ApiError::invalid("the client address is unknown")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_peer_that_is_no_trusted_proxy_is_the_client_whatever_it_forwards() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".to_owned()]).unwrap();
        assert_eq!(
            proxies.client_ip(ip("203.0.113.7"), Some("198.51.100.1")),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let proxies =
            TrustedProxies::parse(&["10.0.0.0/8".to_owned(), "192.0.2.1".to_owned()]).unwrap();
        let forwarded = "1.1.1.1, 203.0.113.7, 10.2.3.4";
        assert_eq!(
            proxies.client_ip(ip("192.0.2.1"), Some(forwarded)),
            ip("203.0.113.7")
        );
        assert_eq!(proxies.client_ip(ip("10.9.9.9"), None), ip("10.9.9.9"));
        assert_eq!(
            proxies.client_ip(ip("10.9.9.9"), Some("garbage, 203.0.113.8")),
            ip("203.0.113.8")
        );
    }

    #[test]
    fn networks_match_by_prefix_and_family() {
        let v6 = Network::parse("2001:db8::/32");
        assert!(v6.is_some_and(|n| n.contains(ip("2001:db8:1::5"))));
        assert!(v6.is_some_and(|n| !n.contains(ip("10.0.0.1"))));
        let all = Network::parse("0.0.0.0/0");
        assert!(all.is_some_and(|n| n.contains(ip("8.8.8.8"))));
        assert!(Network::parse("10.0.0.0/33").is_none());
        assert!(TrustedProxies::parse(&["proxy.internal".to_owned()]).is_err());
    }
}
