//! The throttle's decisions, apart from storage: pure functions of a counter's [`Entry`], its
//! [`Limit`] and the time, so every store decides alike and the rules are tested without one.
//!
//! Keep in sync with the Lua scripts in `redis.rs`, which run the same steps inside Redis; the
//! shared test matrix (`tests/tests/throttle.rs`) runs both stores through the same cases.
//!
//! One counter, step by step:
//! - an attempt is **charged** when it is let through (before the password is checked), so
//!   concurrent attempts can never pass a full counter: at most `max_failures` attempts per
//!   window reach the password check, however many arrive at once;
//! - a **success** forgets an account's counter and refunds the one attempt charged to the
//!   address, so only failures (and attempts still running) count;
//! - an attempt that finds the counter **full** (`max_failures` charged in the window) is refused
//!   and **locks** the counter for `first_lock × 2^strikes` (at most `max_lock`): each lock of
//!   the same counter lasts twice as long as the one before, until the counter is forgotten;
//! - attempts while **locked** are refused with the time left, and change nothing;
//! - an entry is **forgotten** (strikes included) when it expires: at the end of its window when
//!   it was never locked, else `max_lock` after its last lock or window ended.

use std::time::Duration;

/// How many failures one counter takes per window, and how long it then locks.
///
/// Built by [`super::ThrottleBuilder`]; stores read it through [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    max_failures: u32,
    window: i64,
    first_lock: i64,
    max_lock: i64,
}

impl Limit {
    /// A limit of `max_failures` (at least 1) per `window`, then locks from `first_lock` up to
    /// `max_lock` (seconds, each at least 1; checked by the builder).
    pub(crate) fn new(max_failures: u32, window: i64, first_lock: i64, max_lock: i64) -> Self {
        Self {
            max_failures,
            window,
            first_lock,
            max_lock,
        }
    }

    /// Failures allowed per window.
    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    /// The window, in seconds.
    pub fn window_secs(&self) -> i64 {
        self.window
    }

    /// The first lock, in seconds.
    pub fn first_lock_secs(&self) -> i64 {
        self.first_lock
    }

    /// The longest lock, in seconds.
    pub fn max_lock_secs(&self) -> i64 {
        self.max_lock
    }

    /// How long the lock after `strikes` earlier ones lasts: `first_lock × 2^strikes`, at most
    /// `max_lock`.
    pub fn lock_secs(&self, strikes: u32) -> i64 {
        let factor = 1i64.checked_shl(strikes.min(62)).unwrap_or(i64::MAX);
        self.first_lock.saturating_mul(factor).min(self.max_lock)
    }

    /// When `entry` may be forgotten: at the end of its window if it was never locked, else
    /// `max_lock` after its last lock or window ends (so its strikes outlive each lock).
    fn expiry(&self, entry: &Entry) -> i64 {
        if entry.strikes == 0 {
            entry.window_end
        } else {
            entry
                .window_end
                .max(entry.locked_until)
                .saturating_add(self.max_lock)
        }
    }
}

/// What a store keeps per counter. [`Entry::default`] is a counter never seen (or forgotten).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Entry {
    /// Attempts charged in the current window and not refunded.
    pub failures: u32,
    /// When the current window ends (Unix seconds); no window when not in the future.
    pub window_end: i64,
    /// Locked until then (Unix seconds); not locked when not in the future.
    pub locked_until: i64,
    /// Locks so far: the next one lasts [`Limit::lock_secs`]`(strikes)`.
    pub strikes: u32,
    /// When a store may drop the entry (Unix seconds); from then on it counts as absent.
    pub expires_at: i64,
}

impl Entry {
    /// The entry as it stands at `now`: forgotten once it expired.
    pub fn at(self, now: i64) -> Self {
        if self.expires_at <= now {
            Self::default()
        } else {
            self
        }
    }

    /// Gives back the attempt charged at `charged_at` under `limit` (a success from this
    /// address), if it was charged in the current window.
    ///
    /// Invariant: a success refunds only the window it was charged in. A window opened after
    /// `charged_at` (the charged one ended while the password was being checked, or a lock
    /// closed it) holds other attempts' charges, so a slow success cannot buy an extra attempt
    /// there. Windows open at the charge that finds none (`window_end = charge + window`), so
    /// the current one holds the charge exactly when it opened at or before `charged_at`.
    pub fn refund(&mut self, limit: &Limit, charged_at: i64, now: i64) {
        *self = self.at(now);
        let opened = self.window_end.saturating_sub(limit.window);
        if self.window_end > now && opened <= charged_at {
            self.failures = self.failures.saturating_sub(1);
        }
    }

    /// Whether a store should drop the entry rather than keep it.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at <= now
    }
}

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let through, and charged to every counter.
    Allowed,
    /// Refused: one of the counters is locked (or was full and is now locked).
    Refused {
        /// Seconds until the longest of those locks ends.
        retry_after: u64,
    },
}

impl Verdict {
    /// How long a refused client must wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Allowed => None,
            Self::Refused { retry_after } => Some(Duration::from_secs(*retry_after)),
        }
    }
}

/// What one counter says about an attempt.
enum Gate {
    Open,
    Locked { secs: i64 },
    Full,
}

fn gate(limit: &Limit, entry: &Entry, now: i64) -> Gate {
    if entry.locked_until > now {
        Gate::Locked {
            secs: entry.locked_until - now,
        }
    } else if entry.window_end > now && entry.failures >= limit.max_failures {
        Gate::Full
    } else {
        Gate::Open
    }
}

/// Locks a full counter; the lock's length.
fn lock(limit: &Limit, entry: &mut Entry, now: i64) -> i64 {
    let secs = limit.lock_secs(entry.strikes);
    entry.locked_until = now.saturating_add(secs);
    entry.strikes = entry.strikes.saturating_add(1);
    entry.failures = 0;
    entry.window_end = now;
    entry.expires_at = limit.expiry(entry);
    secs
}

/// Charges one attempt, opening a new window when the last one ended.
fn charge(limit: &Limit, entry: &mut Entry, now: i64) {
    if entry.window_end <= now {
        entry.failures = 0;
        entry.window_end = now.saturating_add(limit.window);
    }
    entry.failures = entry.failures.saturating_add(1);
    entry.expires_at = limit.expiry(entry);
}

/// Decides one attempt over its counters, each a limit and its entry as stored (expired or
/// not), and updates the entries in place. Refused when any counter is locked or full (full ones
/// are locked now; nothing is charged); otherwise every counter is charged one attempt.
///
/// A store runs this atomically over all the counters of the attempt and then keeps every entry
/// (or drops the ones that [`Entry::is_expired`]).
pub fn decide(counters: &mut [(Limit, Entry)], now: i64) -> Verdict {
    for (_, entry) in counters.iter_mut() {
        *entry = entry.at(now);
    }
    let mut refused = false;
    let mut retry_after = 0;
    for (limit, entry) in counters.iter_mut() {
        let wait = match gate(limit, entry, now) {
            Gate::Open => continue,
            Gate::Locked { secs } => secs,
            Gate::Full => lock(limit, entry, now),
        };
        refused = true;
        retry_after = retry_after.max(wait);
    }
    if refused {
        return Verdict::Refused {
            retry_after: u64::try_from(retry_after).unwrap_or(0).max(1),
        };
    }
    for (limit, entry) in counters.iter_mut() {
        charge(limit, entry, now);
    }
    Verdict::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;

    fn limit() -> Limit {
        // 3 per minute; locks of 10 s, 20 s, 40 s, then 60 s.
        Limit::new(3, 60, 10, 60)
    }

    fn attempt(entry: &mut Entry, now: i64) -> Verdict {
        let mut counters = [(limit(), *entry)];
        let verdict = decide(&mut counters, now);
        *entry = counters[0].1;
        verdict
    }

    fn refused(secs: u64) -> Verdict {
        Verdict::Refused { retry_after: secs }
    }

    #[test]
    fn lets_max_failures_through_then_locks() {
        let mut e = Entry::default();
        for _ in 0..3 {
            assert_eq!(attempt(&mut e, T), Verdict::Allowed);
        }
        assert_eq!(attempt(&mut e, T + 5), refused(10));
        assert_eq!(attempt(&mut e, T + 6), refused(9), "locked: the time left");
        assert_eq!(e.strikes, 1, "a refusal while locked adds no strike");
        assert_eq!(attempt(&mut e, T + 15), Verdict::Allowed, "the lock ended");
    }

    #[test]
    fn locks_double_up_to_the_maximum() {
        assert_eq!(
            (0..6).map(|s| limit().lock_secs(s)).collect::<Vec<_>>(),
            [10, 20, 40, 60, 60, 60]
        );
        assert_eq!(limit().lock_secs(u32::MAX), 60, "no overflow");
        let mut e = Entry::default();
        let mut now = T;
        for want in [10, 20, 40, 60, 60] {
            for _ in 0..3 {
                assert_eq!(attempt(&mut e, now), Verdict::Allowed);
            }
            assert_eq!(attempt(&mut e, now), refused(want));
            now += i64::try_from(want).unwrap();
        }
    }

    #[test]
    fn a_new_window_starts_after_the_old_one_ends() {
        let mut e = Entry::default();
        for _ in 0..3 {
            attempt(&mut e, T);
        }
        assert_eq!(attempt(&mut e, T + 60), Verdict::Allowed);
        assert_eq!(e.failures, 1);
        assert_eq!(e.window_end, T + 120);
    }

    #[test]
    fn strikes_are_forgotten_once_the_entry_expires() {
        let mut e = Entry::default();
        for _ in 0..3 {
            attempt(&mut e, T);
        }
        attempt(&mut e, T);
        assert_eq!(e.expires_at, T + 10 + 60, "max_lock after the lock ends");
        assert_eq!(e.at(T + 69).strikes, 1);
        assert_eq!(e.at(T + 70), Entry::default());
        let mut fresh = Entry::default();
        attempt(&mut fresh, T);
        assert_eq!(fresh.expires_at, T + 60, "never locked: the window's end");
    }

    #[test]
    fn a_refused_attempt_charges_no_counter() {
        let account = limit();
        let address = Limit::new(100, 60, 10, 60);
        let mut counters = [(address, Entry::default()), (account, Entry::default())];
        for _ in 0..3 {
            assert_eq!(decide(&mut counters, T), Verdict::Allowed);
        }
        assert_eq!(decide(&mut counters, T), refused(10));
        assert_eq!(decide(&mut counters, T), refused(10));
        assert_eq!(
            counters[0].1.failures, 3,
            "the address paid for 3 attempts only"
        );
    }

    #[test]
    fn the_longest_lock_is_the_wait() {
        let mut counters = [
            (limit(), Entry::default()),
            (
                limit(),
                Entry {
                    locked_until: T + 50,
                    strikes: 2,
                    expires_at: T + 110,
                    ..Entry::default()
                },
            ),
        ];
        assert_eq!(decide(&mut counters, T), refused(50));
        assert_eq!(
            counters[0].1,
            Entry::default(),
            "open counters are untouched"
        );
    }

    #[test]
    fn refunds_only_touch_the_current_window() {
        let mut e = Entry::default();
        attempt(&mut e, T);
        attempt(&mut e, T);
        e.refund(&limit(), T, T + 1);
        assert_eq!(e.failures, 1);
        e.refund(&limit(), T, T + 1);
        e.refund(&limit(), T, T + 1);
        assert_eq!(e.failures, 0, "never below zero");
        let mut old = Entry::default();
        attempt(&mut old, T);
        old.refund(&limit(), T, T + 60);
        assert_eq!(old, Entry::default(), "an expired entry is gone");
    }

    #[test]
    fn a_success_refunds_the_window_it_was_charged_in_not_a_later_one() {
        // Charged at T + 30 in the window T..T+60; reported after the next window opened.
        let mut e = Entry::default();
        attempt(&mut e, T);
        attempt(&mut e, T + 30);
        attempt(&mut e, T + 61);
        assert_eq!((e.failures, e.window_end), (1, T + 121));
        e.refund(&limit(), T + 30, T + 62);
        assert_eq!(e.failures, 1, "the new window keeps its charge");
        // Charged in the new window, at its very first second: refunded.
        e.refund(&limit(), T + 61, T + 62);
        assert_eq!(e.failures, 0);
        // A lock closes the window: a success charged before it refunds nothing after it.
        let mut locked = Entry::default();
        for _ in 0..3 {
            attempt(&mut locked, T);
        }
        assert_eq!(attempt(&mut locked, T + 1), refused(10));
        attempt(&mut locked, T + 11);
        locked.refund(&limit(), T, T + 12);
        assert_eq!(locked.failures, 1, "charged before the lock");
    }
}
