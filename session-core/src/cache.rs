//! A per-worker memo of cookie values that already verified, so a browser sending the same cookie
//! again skips the MAC and the JSON parse.
//!
//! Invariants:
//! - decoding is a pure function of the cookie bytes and the configured keys, and one cache
//!   belongs to one middleware instance (fixed keys), so a hit returns exactly what decoding would;
//! - only values that fully verified are stored; time checks and revocation run on every request,
//!   hit or miss;
//! - lookup is by a keyed hash of the value's last [`TAIL`] bytes, then equality of the whole
//!   value with the stored one. For a genuine value those bytes lie inside its last segment (the
//!   MAC or GCM tag, 43 or 22 characters): at least 84 bits of a keyed PRF output the attacker
//!   has not seen. The hash is a folded 64x64->128-bit multiply of the two halves, each XORed
//!   with a random per-worker key; a slot is a near-uniform function of those secret bits. So a
//!   forged value reaches the comparison with another user's stored value only by guessing
//!   that 64-bit slot, and the comparison's timing reveals nothing. A collision between two
//!   genuine values is only a miss (the newer replaces the older; both still verify). The map
//!   does not hash the slot again (it is already spread uniformly);
//! - bounded: at most `CAPACITY` entries per worker; a full cache is emptied and refilled.

use std::{
    cell::RefCell,
    collections::HashMap,
    hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState},
    sync::Arc,
};

use crate::claims::Claims;

/// Entries kept per worker.
const CAPACITY: usize = 512;

/// Bytes at the end of a value that make its slot: inside the tag of every genuine value.
const TAIL: usize = 16;

/// The map's hasher: the slot, as it is. Slots are already keyed hashes, spread uniformly, so
/// hashing them again would only cost time.
#[derive(Default)]
pub(crate) struct SlotHasher(u64);

/// A map keyed by [`SlotKeys::slot`].
pub(crate) type SlotMap<V> = HashMap<u64, V, BuildHasherDefault<SlotHasher>>;

/// The keys of a per-worker slot hash over the tail of a keyed PRF output (a MAC segment, a
/// fingerprint MAC): random per map, drawn from `RandomState`'s OS-seeded keys.
pub(crate) struct SlotKeys([u64; 2]);

impl SlotKeys {
    pub(crate) fn new() -> Self {
        let seeds = RandomState::new();
        Self([seeds.hash_one(0u8), seeds.hash_one(1u8)])
    }

    /// The slot of `value`: a keyed hash of its last [`TAIL`] bytes (all of it when shorter),
    /// the two halves XORed with the keys, multiplied 64x64->128 and the product's halves
    /// folded. Only a slot: the caller compares the whole value.
    pub(crate) fn slot(&self, value: &[u8]) -> u64 {
        let tail: [u8; TAIL] = match value.len().checked_sub(TAIL) {
            // Every genuine value: its last bytes as they are (no copy of a variable length).
            Some(start) => value[start..].try_into().expect("TAIL bytes"),
            None => {
                let mut tail = [0u8; TAIL];
                tail[TAIL - value.len()..].copy_from_slice(value);
                tail
            }
        };
        let (a, b) = tail.split_at(TAIL / 2);
        let a = u64::from_le_bytes(a.try_into().expect("8 bytes")) ^ self.0[0];
        let b = u64::from_le_bytes(b.try_into().expect("8 bytes")) ^ self.0[1];
        let product = u128::from(a) * u128::from(b);
        // The high and low halves of the product folded: the truncations are the point.
        (product as u64) ^ ((product >> 64) as u64)
    }
}

impl Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` slots are hashed (`write_u64`); any other input still hashes, by folding.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, slot: u64) {
        self.0 = slot;
    }
}

struct Entry {
    value: Box<str>,
    claims: Arc<Claims>,
    rotated: bool,
}

/// Verified cookie values of one worker.
pub(crate) struct VerifiedCache {
    /// The slot hash's keys: random per cache.
    keys: SlotKeys,
    entries: RefCell<SlotMap<Entry>>,
}

impl VerifiedCache {
    pub(crate) fn new() -> Self {
        Self {
            keys: SlotKeys::new(),
            entries: RefCell::new(SlotMap::default()),
        }
    }

    /// The claims `value` decoded to before, if it is known.
    pub(crate) fn get(&self, value: &[u8]) -> Option<(Arc<Claims>, bool)> {
        let entries = self.entries.borrow();
        let entry = entries.get(&self.slot(value))?;
        (entry.value.as_bytes() == value).then(|| (Arc::clone(&entry.claims), entry.rotated))
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
        entries.insert(self.slot(value.as_bytes()), entry);
    }

    /// The map key of `value`: a keyed hash of its last [`TAIL`] bytes (all of it when shorter).
    fn slot(&self, bytes: &[u8]) -> u64 {
        self.keys.slot(bytes)
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
            cache.get(b"a.b.c").map(|(c, r)| (c.sid.clone(), r)),
            Some(("s1".into(), true))
        );
        assert!(cache.get(b"a.b.d").is_none());
        assert!(
            cache.get(b"x.b.c").is_none(),
            "same last segment, other value"
        );
        assert!(cache.get(b"a.b.c ").is_none());
        assert!(cache.get(b"").is_none());
    }

    #[test]
    fn a_shared_tail_is_not_a_hit() {
        // Same last TAIL bytes: same slot, so only the whole-value comparison tells them apart.
        let cache = VerifiedCache::new();
        let genuine = "h.p.tagAAAAAAAAAAAAAAAA";
        let forged = "h.q.tagAAAAAAAAAAAAAAAA";
        assert_eq!(
            cache.slot(genuine.as_bytes()),
            cache.slot(forged.as_bytes())
        );
        cache.insert(genuine, claims("s1"), false);
        assert!(cache.get(forged.as_bytes()).is_none());
        assert!(cache.get(b"xh.p.tagAAAAAAAAAAAAAAAA").is_none());
        assert!(cache.get(b"h.p.tagAAAAAAAAAAAAAAAA ").is_none());
        assert!(cache.get(genuine.as_bytes()).is_some());
    }

    #[test]
    fn slots_depend_on_the_key() {
        // Two caches (two workers) put the same value in different slots (with overwhelming
        // probability): the slot is not a public function of the value.
        let (one, two) = (VerifiedCache::new(), VerifiedCache::new());
        let value = "h.p.0123456789abcdefghij";
        assert_ne!(one.slot(value.as_bytes()), two.slot(value.as_bytes()));
    }

    #[test]
    fn stays_bounded() {
        let cache = VerifiedCache::new();
        for i in 0..CAPACITY * 3 + 7 {
            cache.insert(&format!("v{i}"), claims("s"), false);
            assert!(cache.len() <= CAPACITY);
        }
        assert!(
            cache
                .get(format!("v{}", CAPACITY * 3 + 6).as_bytes())
                .is_some(),
            "the newest is kept"
        );
    }
}
