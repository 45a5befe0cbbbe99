//! Where the throttle's counters live: one [`ThrottleStore`] trait, one backend per file.

use std::fmt;

use super::{
    counter::{Counter, CounterKey},
    policy::Verdict,
};
pub use crate::revocation::BoxFuture;

/// Where counters are kept. Implemented by [`super::MemoryThrottleStore`] (one process,
/// bounded) and, with the `redis` feature, `RedisThrottleStore` (shared by every instance).
///
/// Times are Unix seconds from the throttle's clock; backends need no clock of their own.
pub trait ThrottleStore: Send + Sync + 'static {
    /// Decides an attempt with [`super::decide`] over the entries of `counters`, atomically
    /// (no other attempt on these counters in between), and keeps the updated entries.
    fn attempt<'a>(
        &'a self,
        counters: &'a [Counter],
        now: i64,
    ) -> BoxFuture<'a, Result<Verdict, ThrottleStoreError>>;

    /// Records a success of the attempt charged at `charged_at`: the `forget` counters are
    /// removed (a success resets an account), the `refund` counters give back that attempt if
    /// it was charged in their current window ([`super::Entry::refund`]).
    fn succeeded<'a>(
        &'a self,
        forget: &'a [CounterKey],
        refund: &'a [Counter],
        charged_at: i64,
        now: i64,
    ) -> BoxFuture<'a, Result<(), ThrottleStoreError>>;
}

/// The throttle's store could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThrottleStoreError {
    /// The backend failed (connection refused, protocol error, ...).
    Unavailable(String),
    /// The backend did not answer within the configured timeout.
    Timeout,
}

impl fmt::Display for ThrottleStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(e) => write!(f, "throttle store unavailable: {e}"),
            Self::Timeout => f.write_str("throttle store did not answer in time"),
        }
    }
}

impl std::error::Error for ThrottleStoreError {}
