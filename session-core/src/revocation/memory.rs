//! Revocations in this process's memory.

use std::{collections::HashMap, sync::Mutex, time::Instant};

use super::{
    list,
    store::{keep_until, SessionRecord, MAX_LISTED_SESSIONS},
    Revocations,
};
use crate::bound::StoreError;

/// Revocations in this process's memory: for single-instance apps and tests.
///
/// Expired entries are dropped on every write, so memory stays bounded by the sessions revoked
/// within one absolute timeout, plus at most [`MAX_LISTED_SESSIONS`] listed sessions per user
/// with a live session.
#[derive(Debug, Default)]
pub struct MemoryRevocations {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// sid → until
    sessions: HashMap<String, i64>,
    /// user → (generation, until, when the generation was set)
    users: HashMap<String, (u64, i64, Instant)>,
    /// The last generation handed out to any user: it outlives purged entries, so a user's next
    /// generation is above every one handed out before.
    last: u64,
    /// user → sid → the session as listed
    lists: HashMap<String, HashMap<String, SessionRecord>>,
}

impl MemoryRevocations {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every write below is a single insert: a poisoned lock still holds consistent data.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many entries are stored (revoked sessions, users' generations and listed sessions);
    /// for tests of bounded growth.
    pub fn len(&self) -> usize {
        let entries = self.entries();
        let listed: usize = entries.lists.values().map(HashMap::len).sum();
        entries.sessions.len() + entries.users.len() + listed
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Entries {
    fn purge(&mut self, now: i64) {
        self.sessions.retain(|_, until| *until > now);
        self.users.retain(|_, (_, until, _)| *until > now);
        for list in self.lists.values_mut() {
            list.retain(|_, session| session.expires > now);
        }
        self.lists.retain(|_, list| !list.is_empty());
    }

    fn generation(&self, user: &str) -> u64 {
        self.users
            .get(user)
            .map_or(0, |(generation, ..)| *generation)
    }

    /// [`Revocations::login_generation`]: one below the current generation when it was set
    /// after `began`.
    fn login_generation(&self, user: &str, began: Instant) -> u64 {
        match self.users.get(user) {
            Some((generation, _, set)) if *set >= began => generation.saturating_sub(1),
            Some((generation, ..)) => *generation,
            None => 0,
        }
    }

    fn is_revoked(&self, sid: &str, user: &str, generation: u64, now: i64) -> bool {
        let session = self.sessions.get(sid).is_some_and(|until| *until > now);
        let all = self
            .users
            .get(user)
            .is_some_and(|(current, until, _)| *until > now && generation < *current);
        session || all
    }
}

impl Revocations for MemoryRevocations {
    async fn revoke_session(&self, sid: &str, until: i64, now: i64) -> Result<(), StoreError> {
        let mut entries = self.entries();
        entries.purge(now);
        let until = keep_until(until);
        if until > now {
            let entry = entries.sessions.entry(sid.to_owned()).or_insert(until);
            *entry = (*entry).max(until);
        }
        Ok(())
    }

    async fn revoke_user(&self, user: &str, until: i64, now: i64) -> Result<u64, StoreError> {
        let mut entries = self.entries();
        entries.purge(now);
        entries.last += 1;
        let generation = entries.last;
        let until = keep_until(until);
        let entry = entries
            .users
            .entry(user.to_owned())
            .or_insert((0, until, Instant::now()));
        *entry = (generation, entry.1.max(until), Instant::now());
        Ok(generation)
    }

    async fn generation(&self, user: &str) -> Result<u64, StoreError> {
        Ok(self.entries().generation(user))
    }

    async fn login_generation(&self, user: &str, began: Instant) -> Result<u64, StoreError> {
        Ok(self.entries().login_generation(user, began))
    }

    async fn is_revoked(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let revoked = self.entries().is_revoked(sid, user, generation, now);
        Ok(revoked)
    }

    fn is_revoked_now(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Option<Result<bool, StoreError>> {
        Some(Ok(self.entries().is_revoked(sid, user, generation, now)))
    }

    async fn record_session(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut entries = self.entries();
        entries.purge(now);
        let list = entries.lists.entry(user.to_owned()).or_default();
        let record = match list.get(&session.sid) {
            Some(first) => first.refreshed_by(session),
            None => session.clone(),
        };
        list.insert(session.sid.clone(), record);
        if list.len() > MAX_LISTED_SESSIONS {
            let mut records: Vec<_> = list.values().cloned().collect();
            for sid in list::cap(&mut records) {
                list.remove(&sid);
            }
        }
        Ok(())
    }

    async fn sessions(&self, user: &str, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        let mut entries = self.entries();
        let generation = entries
            .users
            .get(user)
            .filter(|(_, until, _)| *until > now)
            .map_or(0, |(generation, ..)| *generation);
        let mut list = entries.lists.remove(user).unwrap_or_default();
        list.retain(|sid, session| {
            let revoked = entries.sessions.get(sid).is_some_and(|until| *until > now);
            session.is_listed(now, generation, revoked)
        });
        let listed = list.values().cloned().collect();
        if !list.is_empty() {
            entries.lists.insert(user.to_owned(), list);
        }
        Ok(listed)
    }

    async fn forget_session(&self, user: &str, sid: &str) -> Result<(), StoreError> {
        let mut entries = self.entries();
        if let Some(list) = entries.lists.get_mut(user) {
            list.remove(sid);
            if list.is_empty() {
                entries.lists.remove(user);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::claims::MAX_SKEW_SECS;

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        // The memory store's futures are always ready.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => unreachable!("memory store never waits"),
        }
    }

    #[test]
    fn session_revocation_expires_after_the_skew_allowance() {
        let store = MemoryRevocations::new();
        block(store.revoke_session("s1", 200, 100)).unwrap();
        assert!(block(store.is_revoked("s1", "u", 0, 150)).unwrap());
        assert!(!block(store.is_revoked("s2", "u", 0, 150)).unwrap());
        let end = 200 + MAX_SKEW_SECS;
        assert!(block(store.is_revoked("s1", "u", 0, end - 1)).unwrap());
        assert!(!block(store.is_revoked("s1", "u", 0, end)).unwrap());
        block(store.revoke_session("s3", 400, end)).unwrap();
        assert_eq!(store.len(), 1, "the expired entry was purged");
    }

    #[test]
    fn user_revocation_covers_every_generation_handed_out_before() {
        let store = MemoryRevocations::new();
        let before = block(store.generation("u")).unwrap();
        assert_eq!(before, 0);
        let first = block(store.revoke_user("u", 1000, 100)).unwrap();
        assert!(block(store.is_revoked("s", "u", before, 150)).unwrap());
        assert!(!block(store.is_revoked("s", "u", first, 150)).unwrap());
        assert_eq!(block(store.generation("u")).unwrap(), first);
        assert!(!block(store.is_revoked("s", "other", 0, 150)).unwrap());
        // Whatever `now` a later call brings (a slower clock), the generation only grows.
        let second = block(store.revoke_user("u", 900, 50)).unwrap();
        assert!(second > first);
        assert!(block(store.is_revoked("s", "u", first, 150)).unwrap());
    }

    #[test]
    fn generations_stay_above_purged_ones() {
        let store = MemoryRevocations::new();
        let first = block(store.revoke_user("u", 100, 10)).unwrap();
        // Purged once its entry expires; the next generation is still above the old one.
        block(store.revoke_session("x", 10_000, 100 + MAX_SKEW_SECS)).unwrap();
        assert_eq!(block(store.generation("u")).unwrap(), 0);
        let again = block(store.revoke_user("u", 10_000, 200)).unwrap();
        assert!(again > first);
    }
}
