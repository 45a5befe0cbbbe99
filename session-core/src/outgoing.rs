//! What the response writes for the request's session: the one pure decision behind every
//! `Set-Cookie` (or server-side write) the middleware makes, in DESIGN order: logout, then a
//! change (login, renew, data), then the rolling refresh, then the re-issue after a key rotation.

use crate::refresh::{is_due, next_expiry, Refresh};

/// What the handler did to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing.
    None,
    /// The session was changed; `exists` when something is left to issue.
    Updated { exists: bool },
    /// The session ended (a logout, or a session that ended on arrival).
    LoggedOut,
}

/// The session the request arrived with, as far as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrived {
    /// Its idle expiry.
    pub(crate) exp: i64,
    /// Its absolute deadline.
    pub(crate) deadline: i64,
    /// It verified under a previous key.
    pub(crate) rotated: bool,
}

/// The settings the decision reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) refresh: Refresh,
    pub(crate) max_age: i64,
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// Leave the session as the client has it.
    Nothing,
    /// Remove it (a removal cookie, or purge the server-side state).
    Remove,
    /// Issue the changed session.
    Changed,
    /// Issue the incoming session with a new idle expiry.
    Refresh,
    /// Issue the incoming session as it is, under the current key.
    Resign,
}

/// What to write for `change` to the session that `arrived`, at `now`.
pub(crate) fn decide(change: Change, arrived: Option<Arrived>, policy: Policy, now: i64) -> Write {
    match change {
        Change::LoggedOut | Change::Updated { exists: false } => Write::Remove,
        Change::Updated { exists: true } => Write::Changed,
        Change::None => {
            let Some(arrived) = arrived else {
                return Write::Nothing;
            };
            let extends = next_expiry(now, policy.max_age, arrived.deadline) > arrived.exp;
            if is_due(policy.refresh, arrived.exp, now) && extends {
                Write::Refresh
            } else if arrived.rotated {
                Write::Resign
            } else {
                Write::Nothing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const NOW: i64 = 1000;

    fn arrived(exp: i64, deadline: i64, rotated: bool) -> Option<Arrived> {
        Some(Arrived {
            exp,
            deadline,
            rotated,
        })
    }

    #[test]
    fn decision_table() {
        let near = Policy {
            refresh: Refresh::NearExpiry(Duration::from_secs(100)),
            max_age: 400,
        };
        let every = Policy {
            refresh: Refresh::EveryRequest,
            ..near
        };
        let never = Policy {
            refresh: Refresh::Never,
            ..near
        };
        let changed = Change::Updated { exists: true };
        let emptied = Change::Updated { exists: false };
        let cases = [
            // Logout and change win over everything, rotated or due or not.
            (
                Change::LoggedOut,
                arrived(1050, 9000, true),
                near,
                Write::Remove,
            ),
            (Change::LoggedOut, None, near, Write::Remove),
            (emptied, arrived(1300, 9000, false), near, Write::Remove),
            (changed, arrived(1050, 9000, true), near, Write::Changed),
            (changed, None, never, Write::Changed),
            // Nothing changed: refresh when due and it extends the session...
            (Change::None, None, every, Write::Nothing),
            (
                Change::None,
                arrived(1300, 9000, false),
                near,
                Write::Nothing,
            ),
            (
                Change::None,
                arrived(1100, 9000, false),
                near,
                Write::Refresh,
            ),
            (
                Change::None,
                arrived(1300, 9000, false),
                every,
                Write::Refresh,
            ),
            (
                Change::None,
                arrived(1050, 9000, true),
                near,
                Write::Refresh,
            ),
            // ... not past the absolute deadline ...
            (
                Change::None,
                arrived(1050, 1050, false),
                near,
                Write::Nothing,
            ),
            (
                Change::None,
                arrived(1050, 1051, false),
                near,
                Write::Refresh,
            ),
            (Change::None, arrived(1050, 1050, true), near, Write::Resign),
            // ... else re-sign a session a previous key verified.
            (Change::None, arrived(1300, 9000, true), near, Write::Resign),
            (
                Change::None,
                arrived(1050, 9000, true),
                never,
                Write::Resign,
            ),
            (
                Change::None,
                arrived(1050, 9000, false),
                never,
                Write::Nothing,
            ),
        ];
        for (i, (change, arrived, policy, want)) in cases.into_iter().enumerate() {
            assert_eq!(
                decide(change, arrived, policy, NOW),
                want,
                "case {i}: {change:?} {arrived:?} {policy:?}"
            );
        }
    }
}
