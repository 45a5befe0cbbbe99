//! Pure decisions about when and until when a cookie is (re)issued.

use std::time::Duration;

use crate::clock::secs;

/// When a valid session cookie is re-issued with a new idle expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refresh {
    /// Re-issue when less than this much idle lifetime is left (default: a quarter of `max_age`).
    NearExpiry(Duration),
    /// Re-issue on every request (a new `Set-Cookie` each time).
    EveryRequest,
    /// Never re-issue; the session ends `max_age` after login or the last change.
    Never,
}

/// Whether a cookie expiring at `exp` is due for a rolling refresh at `now`.
pub(crate) fn is_due(policy: Refresh, exp: i64, now: i64) -> bool {
    match policy {
        Refresh::Never => false,
        Refresh::EveryRequest => true,
        Refresh::NearExpiry(window) => exp.saturating_sub(now) <= secs(window),
    }
}

/// The idle expiry of a cookie issued at `now`: `max_age` ahead, but never past the absolute
/// deadline of the session.
pub(crate) fn next_expiry(now: i64, max_age_secs: i64, absolute_deadline: i64) -> i64 {
    now.saturating_add(max_age_secs).min(absolute_deadline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_table() {
        let w = Refresh::NearExpiry(Duration::from_secs(100));
        let cases = [
            (w, 1000, 899, false),
            (w, 1000, 900, true),
            (w, 1000, 999, true),
            (Refresh::EveryRequest, 1000, 0, true),
            (Refresh::Never, 1000, 999, false),
        ];
        for (policy, exp, now, want) in cases {
            assert_eq!(
                is_due(policy, exp, now),
                want,
                "{policy:?} exp={exp} now={now}"
            );
        }
    }

    #[test]
    fn expiry_is_capped_by_the_absolute_deadline() {
        assert_eq!(next_expiry(100, 50, 1000), 150);
        assert_eq!(next_expiry(100, 50, 120), 120);
        assert_eq!(next_expiry(i64::MAX - 1, 50, i64::MAX), i64::MAX);
    }
}
