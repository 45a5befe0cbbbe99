//! Configuration and session errors.

use std::fmt;

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use session_rules::StatusProblem;

/// The minimum length of a master secret, in bytes (re-exported by `key`, which enforces it;
/// it lives here because [`ConfigError`]'s messages state it).
pub const MIN_SECRET_LEN: usize = 32;

/// A configuration that cannot be used. Returned by [`crate::Key`] constructors and
/// [`crate::AuthSessionBuilder::build`]; nothing in configuration panics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The secret is shorter than the minimum.
    SecretTooShort {
        /// Where the secret came from (`environment variable SESSION_SECRET`, ...).
        source_name: String,
        /// Its length in bytes.
        len: usize,
        /// The minimum length in bytes.
        min: usize,
    },
    /// The environment variable holding the secret is not set.
    MissingEnv {
        /// The variable's name.
        var: String,
    },
    /// The environment variable holding the secret is not valid UTF-8.
    NotUnicode {
        /// The variable's name.
        var: String,
    },
    /// A setting has a value that cannot work; the message says which and why.
    Invalid {
        /// The builder setting, e.g. `same_site`.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The role table ([`crate::Authorization`]) has roles that include each other.
    RoleCycle {
        /// The roles on the cycle, the first repeated at the end (`a -> b -> a`).
        roles: Vec<String>,
    },
    /// A role of the role table includes a role that is not declared.
    UnknownRole {
        /// The undeclared role.
        role: String,
        /// The role that includes it.
        included_by: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            setting,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SecretTooShort {
                source_name,
                len,
                min,
            } => write!(
                f,
                "session secret from {source_name} is {len} bytes; at least {min} bytes are required \
                 (generate one with `openssl rand -base64 48`)"
            ),
            Self::MissingEnv { var } => write!(
                f,
                "environment variable {var} is not set; it must hold a session secret of at least {} bytes",
                MIN_SECRET_LEN
            ),
            Self::NotUnicode { var } => {
                write!(f, "environment variable {var} is not valid UTF-8")
            }
            Self::Invalid { setting, reason } => {
                write!(f, "invalid session configuration `{setting}`: {reason}")
            }
            Self::RoleCycle { roles } => {
                write!(f, "role hierarchy has a cycle: {}", roles.join(" -> "))
            }
            Self::UnknownRole { role, included_by } => write!(
                f,
                "role `{included_by}` includes `{role}`, which is not declared; declare it with \
                 .role(\"{role}\")"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A guard whose denial answer could let a denied request look allowed, or send it off-site.
/// Returned by [`crate::GuardBuilder::build`]; the macros refuse the same values at compile time,
/// by the same rules.
///
/// ```
/// use session_core::{Guard, GuardError, Rule};
///
/// let err = Guard::require(Rule::role("admin")).status(200).build().unwrap_err();
/// assert_eq!(err, GuardError::Status { status: 200, with_redirect: false });
/// assert_eq!(
///     err.to_string(),
///     "invalid guard: status 200 must be an error status in 400..=599 \
///      (or, with a redirect, a redirect status)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuardError {
    /// [`crate::Guard::redirect`] was given a target that is not a same-origin path (see
    /// [`crate::safe_next`]).
    Redirect {
        /// The target.
        to: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// [`crate::Guard::status`] was given a status that cannot answer a denial: without a
    /// redirect it must be an error status (400..=599), with one a redirect status (301, 302,
    /// 303, 307 or 308).
    Status {
        /// The status.
        status: u16,
        /// Whether the guard redirects.
        with_redirect: bool,
    },
}

impl fmt::Display for GuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redirect { to, problem } => {
                write!(f, "invalid guard: redirect target {to:?} {problem}")
            }
            Self::Status {
                status,
                with_redirect: true,
            } => write!(
                f,
                "invalid guard: status {status} with a redirect {}",
                StatusProblem::NotARedirectStatus.message()
            ),
            Self::Status {
                status,
                with_redirect: false,
            } => write!(
                f,
                "invalid guard: status {status} {} (or, with a redirect, a redirect status)",
                StatusProblem::NotAnErrorStatus.message()
            ),
        }
    }
}

impl std::error::Error for GuardError {}

/// A failure while using a [`crate::Session`] or reading session data.
///
/// As a [`ResponseError`] every variant is a 500 logged at error level. The body is empty, except
/// in debug builds for a set-up mistake ([`SessionError::MiddlewareMissing`],
/// [`SessionError::NoUserStore`], [`SessionError::UserType`]), whose body names the mistake and
/// the fix.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionError {
    /// A value could not be serialized into the session.
    Serialize(serde_json::Error),
    /// A stored value could not be read as the requested type.
    Deserialize {
        /// The data key.
        key: String,
        /// The serde error.
        source: serde_json::Error,
    },
    /// The session would not fit in one cookie; the change was not applied.
    TooLarge {
        /// The length of the cookie it would take (name and encoded value), in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The [`crate::AuthSession`] middleware is not registered on this app.
    MiddlewareMissing,
    /// A [`crate::Current`] was asked for, but no user store is configured
    /// ([`crate::AuthSessionBuilder::users`]).
    NoUserStore,
    /// A [`crate::Current`] was asked for with another type than the configured store's user.
    UserType {
        /// The type asked for.
        requested: &'static str,
    },
    /// A guard's rule that the role table ([`crate::Authorization`]) makes impossible (a role
    /// excluded by a rule that also requires a role including it) or met by every signed-in
    /// user; raised at the guard's first evaluation, so it never silently refuses everyone.
    RuleUnderRoleTable {
        /// The rule, in its normalized form.
        rule: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serialize(e) => write!(f, "session value does not serialize: {e}"),
            Self::Deserialize { key, source } => {
                write!(f, "session value `{key}` does not deserialize: {source}")
            }
            Self::TooLarge { len, limit } => write!(
                f,
                "session cookie would be {len} bytes, over the {limit}-byte limit; store less in the session \
                 (or keep large data server-side)"
            ),
            Self::MiddlewareMissing => f.write_str(
                "session-core's AuthSession middleware is not registered on this App: add `.wrap(auth)` to the App \
                 (`auth` being the built AuthSession)",
            ),
            Self::NoUserStore => f.write_str(
                "Current<..> needs a user store, and none is configured: register a user store with .users(..) \
                 on AuthSession::builder(..)",
            ),
            Self::UserType { requested } => write!(
                f,
                "Current<{requested}> does not match the configured user store's `User` type"
            ),
            Self::RuleUnderRoleTable { rule, problem } => write!(
                f,
                "guard rule `{rule}` {problem} (a role includes the roles it lists, and grants \
                 their permissions); fix the rule or the role table"
            ),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Serialize(e) | Self::Deserialize { source: e, .. } => Some(e),
            _ => None,
        }
    }
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        tracing::error!(error = %self, "session error");
        match self.setup_mistake(cfg!(debug_assertions)) {
            Some(body) => HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body(body),
            None => HttpResponse::InternalServerError().finish(),
        }
    }
}

impl SessionError {
    /// The 500 body for a set-up mistake (the app's wiring, not the request): the mistake and
    /// its fix, in debug builds only. Release builds, and every other error, answer an empty body
    /// (the log line above carries the detail), so a deployed app never describes its insides.
    fn setup_mistake(&self, debug_build: bool) -> Option<String> {
        let mistake = matches!(
            self,
            Self::MiddlewareMissing | Self::NoUserStore | Self::UserType { .. }
        );
        (debug_build && mistake)
            .then(|| format!("{self} (this message is shown in debug builds only)\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_mistakes_are_named_in_debug_builds_only() {
        let body = SessionError::MiddlewareMissing.setup_mistake(true).unwrap();
        assert!(body.contains("add `.wrap(auth)` to the App"), "{body}");
        let body = SessionError::NoUserStore.setup_mistake(true).unwrap();
        assert!(
            body.contains("register a user store with .users(..)"),
            "{body}"
        );
        for e in [SessionError::MiddlewareMissing, SessionError::NoUserStore] {
            assert_eq!(e.setup_mistake(false), None, "release stays opaque: {e}");
        }
        let not_setup = SessionError::TooLarge {
            len: 5000,
            limit: 4096,
        };
        assert_eq!(not_setup.setup_mistake(true), None);
    }
}
