//! What macro-generated code calls. Not public API: names here may change in any release.

pub use std::sync::LazyLock;

pub use inventory;

pub use crate::{
    access::{guarded::CoverageSeal, Access, Covered, Entry, Route},
    guard::{Answer, CheckedAnswer, Guard, GuardSpec, Guarded, GuardedUser},
    rule::{RoleName, Rule},
    user::AuthUser,
};

/// Nothing at run time; `#[policy]` calls it once per parameter so that a parameter that may
/// read the body is a compile error on that parameter.
pub const fn body_free<T: crate::BodyFree>() {}

/// Nothing at run time; `#[policy]` calls it with the return type so that a wrong one is a
/// compile error there.
pub const fn policy_output<T: crate::PolicyOutput>() {}

/// `guard` answering denials with `answer`, which a `const` item checked: how a macro gives its
/// guard `redirect = ".."` and `status = N`.
pub fn answering(guard: Guard, answer: CheckedAnswer) -> Guard {
    guard.answering(answer)
}

/// Entry points for the criterion benchmarks in `session-core/benches` (not API).
pub mod bench {
    use std::sync::Arc;

    use serde_json::{Map, Value};

    use crate::{claims::Claims, rule::Rule, user::AuthUser, AuthSession};

    fn claims(auth: &AuthSession, id: &str, roles: &[&str], data_bytes: usize) -> Claims {
        let now = auth.config().clock.now();
        let mut data = Map::new();
        if data_bytes > 0 {
            data.insert("blob".to_owned(), Value::String("x".repeat(data_bytes)));
        }
        Claims {
            sid: "AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
            sub: Some(id.to_owned()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            iat: now,
            exp: now + 3600,
            auth_time: now,
            data,
            transient: false,
            fp: None,
            gen: None,
        }
    }

    /// A cookie value for `id` with `roles` and a `data_bytes`-long data value, as the
    /// middleware would issue it.
    pub fn encode(auth: &AuthSession, id: &str, roles: &[&str], data_bytes: usize) -> String {
        auth.config()
            .codec
            .encode(&claims(auth, id, roles, data_bytes))
    }

    /// What the middleware does with a cookie value on every request: verify, decode, time
    /// checks. `true` when accepted.
    pub fn verify(auth: &AuthSession, value: &str) -> bool {
        crate::storage::cookie::verify(auth.config(), value, auth.config().clock.now()).is_ok()
    }

    /// A signed-in user with `roles`, for rule evaluation.
    pub fn user(auth: &AuthSession, roles: &[&str]) -> AuthUser {
        AuthUser::new(
            Arc::new(claims(auth, "u", roles, 0)),
            None,
            auth.config().roles.clone(),
        )
    }

    /// Evaluates `rule` for `user` now: `true` when allowed.
    pub fn evaluate(rule: &Rule, user: &AuthUser) -> bool {
        rule.decide(Some(user), user.auth_time(), &[]) == Some(Ok(()))
    }
}
