//! The session-store cookie (docs/cookie-format.md, "The session-store cookie"): the store's key
//! followed by `.` and a MAC of it under the app's [`Key`],
//! `<store key>.<base64url(HMAC-SHA256(store-key MAC key, store key))>`.
//!
//! Invariants:
//! - no store key is ever looked up unless this app issued it: [`StoreKeyMacs::open`] answers a
//!   key only after its MAC verified (in constant time, `Mac::verify_slice`) under the current or
//!   a previous key, so a guessed, forged or foreign key never reaches the store, and a store
//!   whose key *is* its state (actix-session's `CookieSessionStore`) cannot be fed made-up state;
//! - the MAC key is derived for this purpose only ("session-core v1 store key"), never the
//!   signing key, so a store cookie and a signed session cookie cannot stand for each other.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    base64url::{b64, b64_decode},
    key::Key,
};

type HmacSha256 = Hmac<Sha256>;

/// The MAC keys of the store cookie: the current key's first, then each previous key's. Keyed
/// once at start-up, cloned per use.
#[derive(Clone)]
pub(crate) struct StoreKeyMacs(Vec<HmacSha256>);

impl StoreKeyMacs {
    pub(crate) fn new<'a>(current: &'a Key, previous: impl IntoIterator<Item = &'a Key>) -> Self {
        let macs = std::iter::once(current)
            .chain(previous)
            .map(|key| {
                HmacSha256::new_from_slice(key.store_key_mac_key())
                    .expect("HMAC takes a key of any length")
            })
            .collect();
        Self(macs)
    }

    /// The cookie value for `store_key`, under the current key.
    pub(crate) fn seal(&self, store_key: &str) -> String {
        let mut mac = self.0[0].clone();
        mac.update(store_key.as_bytes());
        let tag = b64(&mac.finalize().into_bytes());
        format!("{store_key}.{tag}")
    }

    /// The store key a cookie value carries, and whether its MAC verified under a previous key
    /// only (the cookie is then re-issued under the current one); `None` for anything this app
    /// did not issue.
    pub(crate) fn open<'a>(&self, value: &'a str) -> Option<(&'a str, bool)> {
        let (store_key, tag) = value.rsplit_once('.')?;
        let tag = b64_decode(tag)?;
        self.0.iter().enumerate().find_map(|(i, mac)| {
            let mut mac = mac.clone();
            mac.update(store_key.as_bytes());
            mac.verify_slice(&tag).ok().map(|()| (store_key, i > 0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> Key {
        Key::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_sealed_key_opens_under_its_key_and_as_rotated_under_a_previous_one() {
        let old = StoreKeyMacs::new(&key(1), []);
        let value = old.seal("abc");
        assert_eq!(old.open(&value), Some(("abc", false)));
        let rotated = StoreKeyMacs::new(&key(2), [&key(1)]);
        assert_eq!(rotated.open(&value), Some(("abc", true)));
        assert_eq!(rotated.open(&rotated.seal("abc")), Some(("abc", false)));
    }

    #[test]
    fn every_forgery_is_refused() {
        let macs = StoreKeyMacs::new(&key(1), []);
        let value = macs.seal("k.with.dots");
        assert_eq!(macs.open(&value), Some(("k.with.dots", false)));
        let (store_key, tag) = value.rsplit_once('.').unwrap();
        let other = StoreKeyMacs::new(&key(3), []).seal(store_key);
        let mut flipped = tag.to_owned().into_bytes();
        flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
        let flipped = format!("{store_key}.{}", String::from_utf8(flipped).unwrap());
        for forged in [
            "abc".to_owned(),                                 // no MAC
            "abc.".to_owned(),                                // empty MAC
            format!("abd.{tag}"),                             // another key, this MAC
            format!("{store_key}.{}", &tag[..tag.len() - 1]), // truncated MAC
            format!("{store_key}.{tag}="),                    // padded
            flipped,                                          // one character changed
            other,                                            // another app's key
            format!("{value}.{tag}"),                         // extended
        ] {
            assert_eq!(macs.open(&forged), None, "{forged}");
        }
    }
}
