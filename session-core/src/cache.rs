//! A per-worker memo of cookie values that already verified, so a browser sending the same cookie
//! again skips the MAC and the JSON parse.
//!
//! Invariants:
//! - decoding is a pure function of the cookie bytes and the configured keys, and one cache
//!   belongs to one middleware instance (fixed keys), so a hit returns exactly what decoding would;
//! - only values that fully verified are stored; time checks and revocation run on every request,
//!   hit or miss;
//! - lookup is by a keyed (randomly seeded SipHash) hash of the value's last segment (the MAC or
//!   GCM tag: 256 or 128 random-looking bits, cheaper to hash than the whole value), then equality
//!   of the whole value with the stored one: an attacker cannot make a forged value reach the
//!   comparison without a 64-bit collision under an unknown key, so its timing reveals nothing;
//! - bounded: at most `CAPACITY` entries per worker; a full cache is emptied and refilled.

use std::{
    cell::RefCell,
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::Arc,
};

use crate::claims::Claims;

/// Entries kept per worker.
const CAPACITY: usize = 512;

struct Entry {
    value: Box<str>,
    claims: Arc<Claims>,
    rotated: bool,
}

/// Verified cookie values of one worker.
pub(crate) struct VerifiedCache {
    hasher: RandomState,
    entries: RefCell<HashMap<u64, Entry>>,
}

impl VerifiedCache {
    pub(crate) fn new() -> Self {
        Self {
            hasher: RandomState::new(),
            entries: RefCell::new(HashMap::new()),
        }
    }

    /// The claims `value` decoded to before, if it is known.
    pub(crate) fn get(&self, value: &str) -> Option<(Arc<Claims>, bool)> {
        let entries = self.entries.borrow();
        let entry = entries.get(&self.slot(value))?;
        (*entry.value == *value).then(|| (Arc::clone(&entry.claims), entry.rotated))
    }

    /// Remembers that `value` verified to `claims`.
    pub(crate) fn insert(&self, value: &str, claims: Arc<Claims>, rotated: bool) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        let entry = Entry {
            value: value.into(),
            claims,
            rotated,
        };
        entries.insert(self.slot(value), entry);
    }

    /// The map key of `value`: a keyed hash of its last segment.
    fn slot(&self, value: &str) -> u64 {
        let tag = value.rsplit_once('.').map_or(value, |(_, tag)| tag);
        self.hasher.hash_one(tag)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sid: &str) -> Arc<Claims> {
        Arc::new(Claims {
            sid: sid.into(),
            ..Claims::sample()
        })
    }

    #[test]
    fn hit_only_for_the_exact_value() {
        let cache = VerifiedCache::new();
        cache.insert("a.b.c", claims("s1"), true);
        assert_eq!(
            cache.get("a.b.c").map(|(c, r)| (c.sid.clone(), r)),
            Some(("s1".into(), true))
        );
        assert!(cache.get("a.b.d").is_none());
        assert!(
            cache.get("x.b.c").is_none(),
            "same last segment, other value"
        );
        assert!(cache.get("a.b.c ").is_none());
        assert!(cache.get("").is_none());
    }

    #[test]
    fn stays_bounded() {
        let cache = VerifiedCache::new();
        for i in 0..CAPACITY * 3 + 7 {
            cache.insert(&format!("v{i}"), claims("s"), false);
            assert!(cache.len() <= CAPACITY);
        }
        assert!(
            cache.get(&format!("v{}", CAPACITY * 3 + 6)).is_some(),
            "the newest is kept"
        );
    }
}
