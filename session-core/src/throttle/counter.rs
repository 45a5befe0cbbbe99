//! What the throttle counts, and under which key: account names and client addresses, each
//! turned into a keyed hash so that a store never holds a raw name or address.
//!
//! Invariant: the key of an account depends only on its normalized name (never on whether the
//! account exists), so the throttle answers alike for known and unknown names.

use std::{fmt, net::IpAddr};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::policy::Limit;

/// A counter's key: 128 bits of HMAC-SHA256 over the throttle's scope, the kind of counter and
/// the normalized name or address, under a key derived from the app's [`crate::Key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterKey([u8; 16]);

impl CounterKey {
    /// The smallest key, for ordered ranges.
    pub(crate) const MIN: Self = Self([0; 16]);

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Lowercase hex, 32 characters: how stores name the counter.
impl fmt::Display for CounterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One counter an attempt is charged to: its key and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Whose counter.
    pub key: CounterKey,
    /// Its limit.
    pub limit: Limit,
}

/// Derives counter keys for one throttle.
#[derive(Clone)]
pub(crate) struct Keyring {
    secret: [u8; 32],
    scope: String,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

// The two kinds of counter. Changing a label (or the field encoding below) starts every counter
// afresh.
const ACCOUNT: &[u8] = b"account";
const ADDRESS: &[u8] = b"address";

impl Keyring {
    pub(crate) fn new(secret: [u8; 32], scope: String) -> Self {
        Self { secret, scope }
    }

    /// The throttle's scope (`"login"`, ...), for the log.
    pub(crate) fn scope(&self) -> &str {
        &self.scope
    }

    fn key(&self, kind: &[u8], value: &[u8]) -> CounterKey {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        // Length-prefixed fields: no scope, kind or value can be confused with another.
        for field in [self.scope.as_bytes(), kind, value] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        let digest = mac.finalize().into_bytes();
        let mut key = [0; 16];
        key.copy_from_slice(&digest[..16]);
        CounterKey(key)
    }

    /// The key of the account `name`, normalized with [`normalize_account`].
    pub(crate) fn account(&self, name: &str) -> CounterKey {
        self.key(ACCOUNT, normalize_account(name).as_bytes())
    }

    /// The key of a client address (IPv6 by its /64 network); `None` (no address known) is one
    /// shared counter.
    pub(crate) fn address(&self, address: Option<IpAddr>) -> CounterKey {
        match address.map(network) {
            Some(Network::V4(bytes)) => self.key(ADDRESS, &bytes),
            Some(Network::V6(bytes)) => self.key(ADDRESS, &bytes),
            None => self.key(ADDRESS, b"unknown"),
        }
    }
}

/// An account name as the throttle counts it: surrounding whitespace removed, lowercase. Names
/// that differ only in case or spacing share one counter, so an attacker gains nothing by
/// varying them (even where the app's names are case-sensitive).
pub fn normalize_account(name: &str) -> String {
    name.trim().to_lowercase()
}

/// What one address is counted as: an IPv4 address, or the /64 network of an IPv6 one (a
/// single client usually holds a whole /64). IPv4-mapped IPv6 addresses count as IPv4.
enum Network {
    V4([u8; 4]),
    V6([u8; 8]),
}

fn network(address: IpAddr) -> Network {
    match address.to_canonical() {
        IpAddr::V4(v4) => Network::V4(v4.octets()),
        IpAddr::V6(v6) => {
            let mut prefix = [0; 8];
            prefix.copy_from_slice(&v6.octets()[..8]);
            Network::V6(prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(scope: &str) -> Keyring {
        Keyring::new([7; 32], scope.to_owned())
    }

    #[test]
    fn names_differing_in_case_or_spacing_share_a_counter() {
        let r = ring("login");
        assert_eq!(r.account("alice"), r.account("  ALICE\t"));
        assert_eq!(r.account("Ärger"), r.account("ärger"));
        assert_ne!(r.account("alice"), r.account("alice2"));
    }

    #[test]
    fn scopes_kinds_and_secrets_separate_counters() {
        assert_ne!(ring("login").account("a"), ring("register").account("a"));
        let r = ring("login");
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_ne!(r.account("10.0.0.1"), r.address(Some(v4)));
        let other = Keyring::new([8; 32], "login".to_owned());
        assert_ne!(r.account("alice"), other.account("alice"));
    }

    #[test]
    fn addresses_count_by_ipv4_or_ipv6_64_network() {
        let r = ring("login");
        let key = |s: &str| r.address(Some(s.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_ne!(key("192.0.2.7"), key("192.0.2.8"));
        assert_ne!(r.address(None), key("192.0.2.7"));
        assert_eq!(r.address(None), r.address(None));
    }

    #[test]
    fn keys_are_hex_without_the_name() {
        let text = ring("login").account("alice").to_string();
        assert_eq!(text.len(), 32);
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!text.contains("alice"));
    }
}
