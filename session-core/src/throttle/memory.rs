//! Counters in this process's memory, bounded.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Mutex, MutexGuard},
};

use super::{
    store::{decide, Counter, CounterKey, Entry, Limit, Verdict},
    ThrottleStore,
};
use crate::bound::StoreError;

/// Counters in this process's memory: for single-instance apps and tests. Instances behind a
/// load balancer each count on their own; share a `RedisThrottleStore` (feature `redis`)
/// instead.
///
/// **Bounded**: at most `capacity` counters ([`Self::DEFAULT_CAPACITY`] by default), whatever a
/// flood of names or addresses brings. A counter is a 16-byte key and a 32-byte entry in a hash table
/// plus a 32-byte slot in a B-tree; with the table's and the tree's slack that is at most about
/// 200 bytes on 64-bit platforms, so about 2 MB at the default capacity. When full, a new
/// counter takes the place of, in this order: an expired one; the one closest to expiry among
/// those never locked; among the others, the one whose lock ended first, if it has ended.
///
/// **Eviction never lifts a running lock.** When every stored counter (but the attempt's own)
/// is locked right now, an attempt that needs a new counter gets
/// [`StoreError::Unavailable`], which the throttle answers as it answers any store
/// fault: 503 (fail closed, the default) or uncounted (`fail_open(true)`). Evicting a counter
/// whose lock ended forgets its strikes (its next lock starts at the first length again); see
/// SECURITY.md for what eviction can give an attacker.
///
/// ```
/// use std::sync::Arc;
/// use session_core::{throttle::{MemoryThrottleStore, Throttle}, Key};
/// let key = Key::from_bytes(&[1; 32]).unwrap();
/// let throttle = Throttle::builder(&key)
///     .store(Arc::new(MemoryThrottleStore::with_capacity(50_000)))
///     .build()
///     .unwrap();
/// # let _ = throttle;
/// ```
#[derive(Debug)]
pub struct MemoryThrottleStore {
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    capacity: usize,
    entries: HashMap<CounterKey, Entry>,
    /// Eviction order: never-locked counters first, by expiry; then the others, by the end of
    /// their last lock.
    order: BTreeSet<Slot>,
}

/// `(ever locked, expires_at or locked_until, key)`.
type Slot = (bool, i64, CounterKey);

fn slot(key: CounterKey, entry: &Entry) -> Slot {
    if entry.strikes > 0 {
        (true, entry.locked_until, key)
    } else {
        (false, entry.expires_at, key)
    }
}

impl Default for MemoryThrottleStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryThrottleStore {
    /// How many counters a [`MemoryThrottleStore::new`] keeps at most.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// An empty store of [`Self::DEFAULT_CAPACITY`] counters.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// An empty store of at most `capacity` counters (at least 2: one attempt may write two).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            table: Mutex::new(Table {
                capacity: capacity.max(2),
                entries: HashMap::new(),
                order: BTreeSet::new(),
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // Every change below keeps `entries` and `order` in step before it can panic (it
        // cannot): a poisoned lock still holds consistent data.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many counters are stored; for tests of bounded growth.
    pub fn len(&self) -> usize {
        self.table().entries.len()
    }

    /// Whether no counter is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most counters kept.
    pub fn capacity(&self) -> usize {
        self.table().capacity
    }
}

impl Table {
    fn get(&self, key: &CounterKey) -> Entry {
        self.entries.get(key).copied().unwrap_or_default()
    }

    fn remove(&mut self, key: &CounterKey) {
        if let Some(old) = self.entries.remove(key) {
            self.order.remove(&slot(*key, &old));
        }
    }

    /// Keeps `entry` under `key` (drops it when expired). Callers made room first
    /// ([`Table::make_room`]): the entry replaces its own old one, or takes a free place.
    fn put(&mut self, key: CounterKey, entry: Entry, now: i64) {
        self.remove(&key);
        if entry.is_expired(now) || self.entries.len() >= self.capacity {
            return;
        }
        self.order.insert(slot(key, &entry));
        self.entries.insert(key, entry);
    }

    /// Makes room for the counters of `keys` not stored yet, evicting others (never one of
    /// `keys`); `false`, with nothing evicted beyond what was possible, when every other
    /// counter is locked right now.
    fn make_room(&mut self, keys: &[CounterKey], now: i64) -> bool {
        let new = keys
            .iter()
            .enumerate()
            .filter(|(i, key)| !self.entries.contains_key(key) && !keys[..*i].contains(key))
            .count();
        while self.entries.len() + new > self.capacity {
            if !self.evict_one(now, keys) {
                return false;
            }
        }
        true
    }

    /// Evicts one counter not in `protect`: an expired one, else the never-locked one closest
    /// to expiry, else the one whose lock ended first. Invariant: never a counter whose lock
    /// is running (`locked_until > now`); `false` when only such counters remain.
    fn evict_one(&mut self, now: i64, protect: &[CounterKey]) -> bool {
        let unprotected = |s: &&Slot| !protect.contains(&s.2);
        let mut locked = self
            .order
            .range((true, i64::MIN, CounterKey::MIN)..)
            .filter(unprotected);
        let first_locked = locked.next().copied();
        let expired = |s: &Slot| self.entries.get(&s.2).is_some_and(|e| e.is_expired(now));
        let victim = first_locked
            .filter(expired)
            .or_else(|| {
                self.order
                    .range(..(true, i64::MIN, CounterKey::MIN))
                    .find(unprotected)
                    .copied()
            })
            // Ordered by the end of the last lock: if the first one's is still to come, so is
            // every other's.
            .or_else(|| first_locked.filter(|s| s.1 <= now));
        match victim {
            Some((_, _, key)) => {
                self.remove(&key);
                true
            }
            None => false,
        }
    }
}

impl ThrottleStore for MemoryThrottleStore {
    async fn attempt(&self, counters: &[Counter], now: i64) -> Result<Verdict, StoreError> {
        let mut table = self.table();
        let keys: Vec<CounterKey> = counters.iter().map(|c| c.key).collect();
        if !table.make_room(&keys, now) {
            return Err(StoreError::Unavailable(
                "the memory throttle store is full of running locks".to_owned(),
            ));
        }
        let mut work: Vec<(Limit, Entry)> = counters
            .iter()
            .map(|c| (c.limit, table.get(&c.key)))
            .collect();
        let verdict = decide(&mut work, now);
        for (key, (_, entry)) in keys.iter().zip(work) {
            table.put(*key, entry, now);
        }
        Ok(verdict)
    }

    async fn succeeded(
        &self,
        forget: &[CounterKey],
        refund: &[Counter],
        charged_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut table = self.table();
        for key in forget {
            table.remove(key);
        }
        for counter in refund {
            if table.entries.contains_key(&counter.key) {
                let mut entry = table.get(&counter.key);
                entry.refund(&counter.limit, charged_at, now);
                table.put(counter.key, entry, now);
            }
        }
        Ok(())
    }
}
