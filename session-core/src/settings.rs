//! The validated settings of one [`crate::AuthSession`], shared by the middleware, extractors and
//! guards; built by [`crate::config::AuthSessionBuilder::build`].

use std::sync::Arc;

use actix_web::{
    cookie::{Cookie, SameSite},
    HttpRequest,
};

use crate::{
    authz::SharedRoles,
    bound::Bound,
    clock::Clock,
    codec::Codec,
    deny::Deny,
    events::{self, Hook, SecurityEvent},
    live::{FingerprintKey, UsersConfig},
    refresh::Refresh,
    revocation::{AnyRevocations, RevocationError},
};

/// The validated settings shared by the middleware, extractors and guards.
pub(crate) struct Configuration {
    pub(crate) codec: Codec,
    pub(crate) cookie_name: String,
    pub(crate) max_age: i64,
    pub(crate) absolute_timeout: i64,
    pub(crate) refresh: Refresh,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) login_url: String,
    pub(crate) reauth_url: Option<String>,
    pub(crate) home_url: String,
    pub(crate) deny: Deny,
    pub(crate) forbidden_page: Option<ForbiddenPage>,
    /// The app's security-event hook.
    pub(crate) security_hook: Option<Hook>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) revocation: Option<RevocationConfig>,
    /// The app's user store (live users); none = judge the cookie's login-time snapshot.
    pub(crate) users: Option<UsersConfig>,
    /// Fingerprint-MAC keys, the current key's first, then each previous key's.
    pub(crate) fingerprint_keys: Vec<FingerprintKey>,
    /// The app's role table; none = every role stands for itself only.
    pub(crate) roles: Option<SharedRoles>,
}

/// Draws the app's 403 page for a request.
pub(crate) type ForbiddenPage = Arc<dyn Fn(&HttpRequest) -> String + Send + Sync>;

/// The revocation backend and how to behave when it cannot answer.
pub(crate) struct RevocationConfig {
    pub(crate) store: Arc<dyn AnyRevocations>,
    /// The revocation timeout, and whether a failing store fails open.
    pub(crate) bound: Bound,
}

impl Configuration {
    /// A session cookie with this configuration's attributes and no lifetime set.
    pub(crate) fn cookie(&self, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::build(self.cookie_name.clone(), value)
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(self.http_only)
            .same_site(self.same_site)
            .finish();
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }

    /// The revocation store, or the error for calls that need one.
    pub(crate) fn revocation(&self) -> Result<&RevocationConfig, RevocationError> {
        self.revocation
            .as_ref()
            .ok_or(RevocationError::NotConfigured)
    }

    /// Emits a security event to `tracing` and the app's hook.
    pub(crate) fn emit(&self, event: SecurityEvent) {
        events::emit(self.security_hook.as_ref(), event);
    }

    /// The `fp` claim for a credential fingerprint, under the current key.
    pub(crate) fn fingerprint_mac(&self, fingerprint: Option<&[u8]>) -> Option<String> {
        fingerprint.map(|f| self.fingerprint_keys[0].mac(f))
    }
}
