//! What a [`Revocations`](super::Revocations) backend's author needs beyond the trait: the
//! session record a backend keeps for "My sessions", and the bounds every backend honours.
//! Apps need none of it.

pub use super::list::{SessionRecord, MAX_LISTED_SESSIONS};
pub use crate::claims::MAX_SKEW_SECS;

/// When an entry revoking until `until` may go: never before the absolute deadline of the
/// cookies it revokes, plus the clock skew allowed between instances ([`MAX_SKEW_SECS`]).
pub fn keep_until(until: i64) -> i64 {
    until.saturating_add(MAX_SKEW_SECS)
}
