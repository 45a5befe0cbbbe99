//! The signed claims a session cookie carries, and the pure time checks over them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a session cookie asserts. Field names follow JWT/OIDC where one exists.
///
/// Invariant: a `Claims` value only ever comes from [`crate::codec`] after its MAC verified, or from
/// this crate's own login/insert paths; nothing outside the crate can construct one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Claims {
    /// 128-bit random session id, new at every login.
    pub(crate) sid: String,
    /// The user id; absent in an anonymous session that only carries data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sub: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) roles: Vec<String>,
    /// When this cookie was issued.
    pub(crate) iat: i64,
    /// Idle expiry.
    pub(crate) exp: i64,
    /// When the session started (the login for a signed-in session): drives `fresh` and the
    /// absolute timeout.
    pub(crate) auth_time: i64,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) data: Map<String, Value>,
    /// `true` for a browser-session cookie (`remember(false)`): issued without Max-Age.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) transient: bool,
    /// With a user store: the keyed, truncated MAC of the user's credential fingerprint at
    /// login (see `live.rs`); never the fingerprint itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fp: Option<String>,
    /// With a revocation store: the user's revocation generation when the session started
    /// (absent = 0); a later `revoke_user` moves the user's generation past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) gen: Option<u64>,
}

/// Why a time check refused otherwise valid claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeFault {
    Expired { at: i64 },
    IssuedInFuture { at: i64 },
    AbsoluteTimeout { at: i64 },
}

/// How far a cookie's `iat` may lie in the future (clock skew between instances), in seconds.
pub const MAX_SKEW_SECS: i64 = 60;

impl Claims {
    /// Pure time validation: idle expiry, issue time, absolute deadline.
    pub(crate) fn check_time(&self, now: i64, absolute_secs: i64) -> Result<(), TimeFault> {
        if now >= self.exp {
            return Err(TimeFault::Expired { at: self.exp });
        }
        if self.iat > now.saturating_add(MAX_SKEW_SECS) {
            return Err(TimeFault::IssuedInFuture { at: self.iat });
        }
        let deadline = self.absolute_deadline(absolute_secs);
        if now >= deadline {
            return Err(TimeFault::AbsoluteTimeout { at: deadline });
        }
        Ok(())
    }

    /// The instant after which no refresh may extend this session.
    pub(crate) fn absolute_deadline(&self, absolute_secs: i64) -> i64 {
        self.auth_time.saturating_add(absolute_secs)
    }

    pub(crate) fn is_authenticated(&self) -> bool {
        self.sub.is_some()
    }
}

#[cfg(test)]
impl Claims {
    /// A signed-in session for unit tests: `alice`, role `admin`, issued at 1, expiring at 2.
    pub(crate) fn sample() -> Self {
        Self {
            sid: "sid".into(),
            sub: Some("alice".into()),
            roles: vec!["admin".into()],
            iat: 1,
            exp: 2,
            auth_time: 1,
            data: Map::new(),
            transient: false,
            fp: None,
            gen: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, exp: i64, auth_time: i64) -> Claims {
        Claims {
            sid: "s".into(),
            sub: Some("u".into()),
            roles: vec![],
            iat,
            exp,
            auth_time,
            data: Map::new(),
            transient: false,
            fp: None,
            gen: None,
        }
    }

    #[test]
    fn time_checks_table() {
        let abs = 1000;
        let cases = [
            (claims(100, 200, 100), 150, Ok(())),
            (claims(100, 200, 100), 199, Ok(())),
            (
                claims(100, 200, 100),
                200,
                Err(TimeFault::Expired { at: 200 }),
            ),
            (
                claims(100, 2000, 100),
                1100,
                Err(TimeFault::AbsoluteTimeout { at: 1100 }),
            ),
            (claims(100, 2000, 100), 1099, Ok(())),
            (
                claims(161, 300, 100),
                100,
                Err(TimeFault::IssuedInFuture { at: 161 }),
            ),
            (claims(160, 300, 100), 100, Ok(())),
        ];
        for (c, now, want) in cases {
            assert_eq!(c.check_time(now, abs), want, "{c:?} at {now}");
        }
    }

    #[test]
    fn serialization_omits_empty_fields() {
        let mut c = claims(1, 2, 1);
        c.sub = None;
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"sid":"s","iat":1,"exp":2,"auth_time":1}"#);
    }
}
