//! What a [`ThrottleStore`](super::ThrottleStore) backend's author needs beyond the trait: the
//! counters an attempt is charged to, what a store keeps per counter, and the pure decision
//! ([`decide`]) every store runs, so every store decides alike. Apps need none of it.

use std::fmt;

pub use super::{
    counter::{normalize_account, Counter, CounterKey},
    policy::{decide, Entry, Limit, Verdict},
};

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
