//! The client's address, for the per-address limit: the TCP peer by default; a header set by a
//! trusted reverse proxy only when the app opts in.
//!
//! Invariant: without [`ClientAddress::ForwardedHeader`] no header is read, so a client cannot
//! choose the address it is counted under. With it, entries are taken from the right, where
//! the app's own proxies append them, never from the client-controlled left.

use std::net::{IpAddr, SocketAddr};

use actix_web::{http::header::HeaderName, HttpRequest};

/// Where the throttle reads the client's address from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAddress {
    /// The TCP peer ([`HttpRequest::peer_addr`]). The default. Behind a reverse proxy every
    /// client has the proxy's address: configure [`ClientAddress::ForwardedHeader`] there.
    #[default]
    Peer,
    /// The `hop`-th address from the right of a comma-separated header written by your reverse
    /// proxies (`X-Forwarded-For`): `hop = 1` is the rightmost entry, the address your outermost
    /// trusted proxy saw; with two proxies in a chain, each appending, use `hop = 2`, and so on.
    /// Several lines of the header count as one list, in order. When the header is missing or
    /// that entry is not an IP address, the peer address is used.
    ForwardedHeader {
        /// The header's name, e.g. `x-forwarded-for`.
        name: HeaderName,
        /// Which entry, counted from the right, from 1.
        hop: usize,
    },
}

impl ClientAddress {
    /// The address `req` is counted under, if any is known.
    pub(crate) fn of(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = || req.peer_addr().map(|a| a.ip());
        match self {
            Self::Peer => peer(),
            Self::ForwardedHeader { name, hop } => {
                let lines = req.headers().get_all(name).filter_map(|v| v.to_str().ok());
                from_right(lines, *hop).or_else(peer)
            }
        }
    }
}

/// The `hop`-th entry from the right of the comma-separated `lines` (taken as one list), if it
/// is an IP address (`192.0.2.1`, `2001:db8::1`, optionally with a port: `192.0.2.1:4711`,
/// `[2001:db8::1]:4711`).
fn from_right<'a>(lines: impl Iterator<Item = &'a str>, hop: usize) -> Option<IpAddr> {
    let entries: Vec<&str> = lines.flat_map(|line| line.split(',')).collect();
    let index = entries.len().checked_sub(hop)?;
    parse_entry(entries.get(index)?)
}

fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            let bracketed = entry.strip_prefix('[')?.strip_suffix(']')?;
            bracketed.parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn entries_are_counted_from_the_right() {
        let table: [(&[&str], usize, Option<IpAddr>); 11] = [
            (&["203.0.113.9"], 1, ip("203.0.113.9")),
            (&["6.6.6.6, 203.0.113.9"], 1, ip("203.0.113.9")),
            (&["6.6.6.6, 203.0.113.9, 10.0.0.2"], 2, ip("203.0.113.9")),
            (&["6.6.6.6", "203.0.113.9"], 1, ip("203.0.113.9")),
            (&["203.0.113.9:4711"], 1, ip("203.0.113.9")),
            (&["[2001:db8::1]:4711"], 1, ip("2001:db8::1")),
            (&["[2001:db8::1]"], 1, ip("2001:db8::1")),
            (&[" 2001:db8::1 "], 1, ip("2001:db8::1")),
            (&["203.0.113.9"], 2, None),
            (&["203.0.113.9"], 0, None),
            (&["unknown, 203.0.113.9, garbage"], 1, None),
        ];
        for (lines, hop, want) in table {
            assert_eq!(
                from_right(lines.iter().copied(), hop),
                want,
                "{lines:?} {hop}"
            );
        }
    }

    #[test]
    fn the_peer_is_used_unless_a_header_is_configured() {
        let peer: SocketAddr = "198.51.100.4:5000".parse().unwrap();
        let req = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", "6.6.6.6"))
            .to_http_request();
        assert_eq!(ClientAddress::Peer.of(&req), Some(peer.ip()));
        let forwarded = ClientAddress::ForwardedHeader {
            name: HeaderName::from_static("x-forwarded-for"),
            hop: 1,
        };
        assert_eq!(forwarded.of(&req), ip("6.6.6.6"));
        let bad = TestRequest::default()
            .peer_addr(peer)
            .insert_header(("x-forwarded-for", "not-an-address"))
            .to_http_request();
        assert_eq!(
            forwarded.of(&bad),
            Some(peer.ip()),
            "falls back to the peer"
        );
        let none = TestRequest::default().to_http_request();
        assert_eq!(forwarded.of(&none), None);
    }
}
