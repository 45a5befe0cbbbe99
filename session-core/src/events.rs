//! Security events: sign-in, sign-out, refused sessions, denials, CSRF failures, throttling.
//!
//! Every event is emitted as a `tracing` event under the target [`TARGET`]
//! (`session_core::security`), with an `event` field naming its kind, and, when the app
//! registered one, handed to a hook ([`crate::AuthSessionBuilder::on_security_event`]) to ship
//! to an audit log.
//!
//! Invariants: an event never carries a cookie value, a password, a CSRF token or a credential
//! fingerprint; account names (typed by anyone) are escaped and cut to [`MAX_NAME_CHARS`]
//! characters before they reach a log or the hook.
//!
//! ```
//! use session_core::{events::SecurityEvent, AuthSession, Key};
//! let auth = AuthSession::builder(Key::generate())
//!     .on_security_event(|event: &SecurityEvent| {
//!         if let SecurityEvent::SignInFailed { account, .. } = event {
//!             eprintln!("audit: failed sign-in for {account}");
//!         }
//!     })
//!     .build()
//!     .unwrap();
//! # let _ = auth;
//! ```

use std::{fmt, sync::Arc};

use crate::deny::DenyKind;

/// The `tracing` target of every security event: filter on it
/// (`RUST_LOG=session_core::security=info`) to get the stream alone.
pub const TARGET: &str = "session_core::security";

/// Account names longer than this are cut (with `…`) in events.
pub const MAX_NAME_CHARS: usize = 64;

/// Something security-relevant happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityEvent {
    /// A session was started for `user` (a login).
    SignedIn {
        /// The user id.
        user: String,
    },
    /// A sign-in was refused (reported by the app, which checks passwords).
    SignInFailed {
        /// The account name as typed, escaped.
        account: String,
        /// The client address, when known.
        address: Option<String>,
    },
    /// A sign-in attempt was refused by the login throttle before any password check.
    Throttled {
        /// The account name as typed, escaped.
        account: String,
        /// The client address, when known.
        address: Option<String>,
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// `user` ended their session (a logout).
    SignedOut {
        /// The user id.
        user: String,
    },
    /// Every session of `user` (or every other one) was ended.
    SignedOutEverywhere {
        /// The user id.
        user: String,
        /// Whether the calling session was kept.
        kept_current: bool,
    },
    /// One session of `user` was ended from another of theirs
    /// ([`crate::Session::end_session`], "My sessions").
    SessionEnded {
        /// The user id.
        user: String,
    },
    /// A session the request carried was not accepted.
    SessionRefused {
        /// Why: `bad_mac`, `expired`, `revoked`, `ambiguous`, `user_gone`,
        /// `credentials_changed`, ... (the [`crate::Rejection::reason`] names and the live-user
        /// and revocation reasons).
        reason: &'static str,
    },
    /// A guard (`login_required`, `require_role`, `authorize`, `skip_if_authenticated`,
    /// [`crate::Require`]) refused a request.
    Denied {
        /// The kind of denial.
        kind: DenyKind,
        /// The request path (without the query).
        path: String,
        /// The atom of the guard's rule that decided (`role=admin`, `permission=notes:edit`,
        /// `fresh`, `authenticated`, `not(role=suspended)`, or an `any(..)` none of whose rules
        /// held); `None` for `skip_if_authenticated`. For the operator; the client never sees it.
        decided_by: Option<String>,
    },
    /// A form post's CSRF token was missing or wrong.
    CsrfFailed {
        /// The request path (without the query), when known.
        path: Option<String>,
    },
}

impl SecurityEvent {
    /// A failed sign-in for `account` (escaped here) from `address`.
    pub fn sign_in_failed(account: &str, address: Option<String>) -> Self {
        Self::SignInFailed {
            account: escape_name(account),
            address,
        }
    }

    /// A throttled sign-in attempt for `account` (escaped here).
    pub fn throttled(account: &str, address: Option<String>, retry_after: u64) -> Self {
        Self::Throttled {
            account: escape_name(account),
            address,
            retry_after,
        }
    }

    /// The event's kind, the `event` field of its `tracing` event.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::SignedIn { .. } => "signed_in",
            Self::SignInFailed { .. } => "sign_in_failed",
            Self::Throttled { .. } => "throttled",
            Self::SignedOut { .. } => "signed_out",
            Self::SignedOutEverywhere { .. } => "signed_out_everywhere",
            Self::SessionEnded { .. } => "session_ended",
            Self::SessionRefused { .. } => "session_refused",
            Self::Denied { .. } => "denied",
            Self::CsrfFailed { .. } => "csrf_failed",
        }
    }
}

/// `name` with control characters, quotes and backslashes escaped (Rust's `escape_debug`) and
/// cut to [`MAX_NAME_CHARS`] characters, so a typed name cannot forge log lines.
pub fn escape_name(name: &str) -> String {
    let mut escaped = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == MAX_NAME_CHARS {
            escaped.push('…');
            break;
        }
        escaped.extend(c.escape_debug());
    }
    escaped
}

/// The app's hook.
pub(crate) type Hook = Arc<dyn Fn(&SecurityEvent) + Send + Sync>;

/// Emits `event` to `tracing` (target [`TARGET`]) and to the hook, if any. Refused sessions are
/// at debug level (every request with a stale cookie has one), the rest at info (warn for
/// failures an attacker causes).
pub(crate) fn emit(hook: Option<&Hook>, event: SecurityEvent) {
    let kind = event.kind();
    match &event {
        SecurityEvent::SignedIn { user }
        | SecurityEvent::SignedOut { user }
        | SecurityEvent::SessionEnded { user } => {
            tracing::info!(target: TARGET, event = kind, user = %escape_name(user));
        }
        SecurityEvent::SignedOutEverywhere { user, kept_current } => {
            tracing::info!(target: TARGET, event = kind, user = %escape_name(user), kept_current);
        }
        SecurityEvent::SignInFailed { account, address } => {
            tracing::warn!(target: TARGET, event = kind, account = %account, address = ?address);
        }
        SecurityEvent::Throttled {
            account,
            address,
            retry_after,
        } => {
            tracing::warn!(target: TARGET, event = kind, account = %account, address = ?address, retry_after);
        }
        SecurityEvent::SessionRefused { reason } => {
            tracing::debug!(target: TARGET, event = kind, reason);
        }
        SecurityEvent::Denied {
            kind: denial,
            path,
            decided_by,
        } => {
            tracing::info!(
                target: TARGET,
                event = kind,
                reason = denial.as_str(),
                path = %path,
                decided_by = decided_by.as_deref().unwrap_or("-"),
            );
        }
        SecurityEvent::CsrfFailed { path } => {
            tracing::warn!(target: TARGET, event = kind, path = ?path);
        }
    }
    if let Some(hook) = hook {
        hook(&event);
    }
}

impl fmt::Display for SecurityEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_cut() {
        let cases = [
            ("alice", "alice".to_owned()),
            ("a\nb", "a\\nb".to_owned()),
            ("x\" y=1", "x\\\" y=1".to_owned()),
            ("\u{1b}[31mred", "\\u{1b}[31mred".to_owned()),
            (&"é".repeat(70), format!("{}…", "é".repeat(64))),
        ];
        for (name, want) in cases {
            assert_eq!(escape_name(name), want, "{name:?}");
        }
    }
}
