//! [`AuthSession`] configuration: a builder whose setters state their defaults.

use std::{sync::Arc, time::Duration};

use actix_web::{
    cookie::{Cookie, SameSite},
    HttpRequest,
};

use crate::{
    authz::{Authorization, IntoAuthorization, SharedRoles},
    bound::Bound,
    clock::{secs, Clock, SystemClock},
    codec::Codec,
    deny::Deny,
    error::ConfigError,
    events::{self, Hook, SecurityEvent},
    key::Key,
    live::{FingerprintKey, UserStore, UsersConfig},
    refresh::Refresh,
    revocation::{AnyRevocations, RevocationError, Revocations},
    storage::{cookie::CookieStorage, Storage},
    AuthSession,
};
#[cfg(feature = "actix-session")]
use crate::{codec::store_key::StoreKeyMacs, storage::store::StoreStorage};

/// Builds the session-store storage once the keys are known.
#[cfg(feature = "actix-session")]
type StoreConstructor = Box<dyn FnOnce(StoreKeyMacs) -> Arc<dyn Storage> + Send + Sync>;

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
    /// Where sessions live: the cookie, or server-side state.
    pub(crate) storage: Arc<dyn Storage>,
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

/// Builds an [`AuthSession`]; start with [`AuthSession::builder`].
#[must_use]
pub struct AuthSessionBuilder {
    key: Key,
    previous_keys: Vec<Key>,
    cookie_name: Option<String>,
    max_age: Duration,
    absolute_timeout: Duration,
    refresh: Option<Refresh>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    path: String,
    domain: Option<String>,
    login_url: String,
    reauth_url: Option<String>,
    home_url: String,
    deny: Deny,
    forbidden_page: Option<ForbiddenPage>,
    security_hook: Option<Hook>,
    clock: Arc<dyn Clock>,
    revocations: Option<Arc<dyn AnyRevocations>>,
    revocation_timeout: Duration,
    fail_open: bool,
    users: Option<UsersConfig>,
    users_timeout: Duration,
    users_cache_ttl: Duration,
    /// The role table, checked by `build`.
    authorization: Option<Result<Authorization, ConfigError>>,
    /// A session store chosen with `session_store`, given the store-key MACs at `build`.
    #[cfg(feature = "actix-session")]
    session_store: Option<StoreConstructor>,
    #[cfg(feature = "encrypted")]
    encrypted: bool,
    /// The cookie settings the app set explicitly (a storage that does not use one refuses it).
    explicit: Vec<&'static str>,
}

impl AuthSessionBuilder {
    pub(crate) fn new(key: Key) -> Self {
        Self {
            key,
            previous_keys: Vec::new(),
            cookie_name: None,
            max_age: Duration::from_secs(7 * 24 * 3600),
            absolute_timeout: Duration::from_secs(30 * 24 * 3600),
            refresh: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            domain: None,
            login_url: "/login".to_owned(),
            reauth_url: None,
            home_url: "/".to_owned(),
            deny: Deny::Auto,
            forbidden_page: None,
            security_hook: None,
            clock: Arc::new(SystemClock),
            revocations: None,
            revocation_timeout: Duration::from_millis(250),
            fail_open: false,
            users: None,
            users_timeout: Duration::from_secs(2),
            users_cache_ttl: Duration::ZERO,
            authorization: None,
            #[cfg(feature = "actix-session")]
            #[cfg(feature = "actix-session")]
            session_store: None,
            #[cfg(feature = "encrypted")]
            encrypted: false,
            explicit: Vec::new(),
        }
    }

    /// A revocation store, checked on every authenticated request; `Session::logout` revokes
    /// its session id there and [`AuthSession::revoke_user`] works. Default: none (a cookie is
    /// valid until it expires). `Arc<S>` is a store too, so the app may keep a handle.
    pub fn revocations(mut self, store: impl Revocations) -> Self {
        self.revocations = Some(Arc::new(store));
        self
    }

    /// The app's user store: with one, every request with a signed-in session loads the user's
    /// record once, before any guard, and guards judge its roles (a demotion counts on the very
    /// next request). No such user, or a changed credential fingerprint, ends the session; a
    /// store error or timeout answers 503 and keeps it. Handlers get the record with
    /// [`crate::Current`]. Default: none (guards judge the roles given at login).
    ///
    /// ```
    /// use std::{collections::HashMap, sync::Arc};
    /// use session_core::{AuthSession, Key, User, UserStore};
    /// # struct Account { id: String, roles: Vec<String> }
    /// # impl User for Account {
    /// #     fn id(&self) -> &str { &self.id }
    /// #     fn roles(&self) -> &[String] { &self.roles }
    /// # }
    /// # struct Db;
    /// # impl UserStore for Db {
    /// #     type User = Account;
    /// #     type Error = std::convert::Infallible;
    /// #     async fn load(&self, _: &str) -> Result<Option<Account>, Self::Error> { Ok(None) }
    /// # }
    /// let db = Arc::new(Db);
    /// let auth = AuthSession::builder(Key::from_bytes(&[1u8; 32]).unwrap())
    ///     .users(db.clone())
    ///     .build()
    ///     .unwrap();
    /// # let _ = auth;
    /// ```
    pub fn users<S: UserStore>(mut self, store: S) -> Self {
        self.users = Some(UsersConfig::new(store));
        self
    }

    /// The role table: which roles include which, and the permissions each grants (see
    /// [`crate::Authorization`]). `build` refuses a cycle or an unknown included role.
    pub fn authorization(mut self, roles: impl IntoAuthorization) -> Self {
        self.authorization = Some(roles.into_authorization());
        self
    }

    /// How long a request waits for the user store before answering 503. Default: 2 s.
    pub fn users_timeout(mut self, timeout: Duration) -> Self {
        self.users_timeout = timeout;
        self
    }

    /// Lets each worker reuse a loaded user record for up to `ttl` (whole seconds) instead of
    /// loading it on every request. A demotion, deletion or credential change is then seen
    /// within `ttl` rather than on the next request. Default: zero (no cache).
    pub fn users_cache_ttl(mut self, ttl: Duration) -> Self {
        self.users_cache_ttl = ttl;
        self
    }

    /// Keeps sessions in an actix-session `SessionStore` (feature `actix-session`), this crate
    /// owning the cookie: the browser holds only the store's random key under this builder's
    /// cookie name and attributes, `remember(false)` gives a browser-session cookie, no 4 KiB
    /// limit applies, and no `SessionMiddleware` is needed. With `RedisSessionStore` built with
    /// `.cache_keygen(|k| session_core::hashed_session_key("session:", k))`, Redis holds only
    /// hashes of the keys. The cookie carries the store's key with a MAC under the [`Key`]
    /// (verified under [`previous_keys`](Self::previous_keys) too), so no key is looked up
    /// unless this app issued it, and any store is safe behind it, `CookieSessionStore`
    /// included. A store that fails or takes over 2 s answers 503. Default: none (the signed
    /// cookie).
    #[cfg(feature = "actix-session")]
    pub fn session_store<S>(mut self, store: S) -> Self
    where
        S: actix_session::storage::SessionStore + Send + Sync + 'static,
    {
        self.session_store = Some(Box::new(move |macs| {
            Arc::new(StoreStorage { store, macs }) as Arc<dyn Storage>
        }));
        self
    }

    /// How long a request waits for the revocation store. Default: 250 ms.
    pub fn revocation_timeout(mut self, timeout: Duration) -> Self {
        self.revocation_timeout = timeout;
        self
    }

    /// When the revocation store fails or times out: `false` (default, fail closed) answers
    /// authenticated requests with 503; `true` lets them through as not revoked, with a warning.
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// Older keys that still verify cookies (never sign). A cookie verified by one of them is
    /// re-issued under the current key on the same response. Default: none.
    pub fn previous_keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.explicit.push("previous_keys");
        self.previous_keys = keys.into_iter().collect();
        self
    }

    /// The cookie's name. Default: `"__Host-session"` when the cookie is `Secure`, has no
    /// `Domain` and the path `/` (the browser then refuses the same name from a sibling
    /// subdomain or a plain-HTTP page: no cookie tossing), else `"session"`.
    ///
    /// A `__Host-` name requires `secure(true)`, no domain and the path `/`; a `__Secure-` name
    /// requires `secure(true)` (browsers drop such cookies otherwise): `build()` refuses both.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.explicit.push("cookie_name");
        self.cookie_name = Some(name.into());
        self
    }

    /// Idle lifetime: a session unused this long ends. Default: 7 days.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Absolute lifetime from login, whatever the refreshes. Default: 30 days.
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.absolute_timeout = timeout;
        self
    }

    /// Rolling refresh policy. Default: `Refresh::NearExpiry(max_age / 4)`.
    pub fn refresh(mut self, refresh: Refresh) -> Self {
        self.refresh = Some(refresh);
        self
    }

    /// The cookie's `Secure` flag. Default: `true` (turn off only for plain-HTTP local development).
    pub fn secure(mut self, secure: bool) -> Self {
        self.explicit.push("secure");
        self.secure = secure;
        self
    }

    /// The cookie's `HttpOnly` flag. Default: `true`.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.explicit.push("http_only");
        self.http_only = http_only;
        self
    }

    /// The cookie's `SameSite` attribute. Default: `Lax`. `None` requires `secure(true)`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.explicit.push("same_site");
        self.same_site = same_site;
        self
    }

    /// The cookie's `Path`. Default: `"/"`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.explicit.push("path");
        self.path = path.into();
        self
    }

    /// The cookie's `Domain`. Default: none (host-only cookie).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.explicit.push("domain");
        self.domain = Some(domain.into());
        self
    }

    /// Where unauthenticated browsers are sent (with `?next=<path>`). Default: `"/login"`.
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into();
        self
    }

    /// Where browsers go when a `fresh = SECS` requirement fails (with `?next=<path>`), to
    /// confirm their password. Default: none (the login URL, with `reason=reauthenticate`).
    pub fn reauth_url(mut self, url: impl Into<String>) -> Self {
        self.reauth_url = Some(url.into());
        self
    }

    /// Draws the HTML page of a 403 (signed in, but refused) for browsers, from the request
    /// (extractors such as [`crate::Session`] work on it). Default: a bare "403 Forbidden" page.
    ///
    /// ```
    /// use session_core::{AuthSession, Key};
    /// let auth = AuthSession::builder(Key::generate())
    ///     .forbidden_page(|req| format!("<!doctype html><h1>Not for you</h1><p>{}</p>", req.path()))
    ///     .build()
    ///     .unwrap();
    /// # let _ = auth;
    /// ```
    pub fn forbidden_page(
        mut self,
        page: impl Fn(&HttpRequest) -> String + Send + Sync + 'static,
    ) -> Self {
        self.forbidden_page = Some(Arc::new(page));
        self
    }

    /// A hook receiving every security event (sign-in, sign-out, refused sessions, denials,
    /// CSRF failures, ...; see [`crate::events`]), besides their `tracing` events: for shipping
    /// to an audit log. Runs on the request's thread: keep it quick (hand off to a channel).
    /// Default: none.
    pub fn on_security_event(
        mut self,
        hook: impl Fn(&SecurityEvent) + Send + Sync + 'static,
    ) -> Self {
        self.security_hook = Some(Arc::new(hook));
        self
    }

    /// Where `skip_if_authenticated` sends signed-in users by default. Default: `"/"`.
    pub fn home_url(mut self, url: impl Into<String>) -> Self {
        self.home_url = url.into();
        self
    }

    /// How denials are answered when a guard names no override. Default: [`Deny::Auto`].
    pub fn deny(mut self, deny: Deny) -> Self {
        self.deny = deny;
        self
    }

    /// The time source. Default: the system clock. Tests pass a [`crate::clock::ManualClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seal the claims (feature `encrypted`): `true` issues a JWE (`dir`, AES-256-GCM under a key
    /// derived from the secret) that the browser cannot read; `false` issues the signed JWS, whose
    /// claims anyone holding the cookie can read but nobody can change. Default: `false`.
    ///
    /// Switching either way makes every cookie issued before unreadable: users sign in again.
    ///
    /// ```
    /// use session_core::{AuthSession, Key};
    /// let auth = AuthSession::builder(Key::from_bytes(&[1u8; 32]).unwrap())
    ///     .encrypted(true)
    ///     .build()
    ///     .unwrap();
    /// # let _ = auth;
    /// ```
    #[cfg(feature = "encrypted")]
    pub fn encrypted(mut self, encrypted: bool) -> Self {
        self.explicit.push("encrypted");
        self.encrypted = encrypted;
        self
    }

    /// Where sessions live: the session store when one is set, else the cookie.
    fn storage(&mut self) -> Arc<dyn Storage> {
        #[cfg(feature = "actix-session")]
        if let Some(store) = self.session_store.take() {
            return store(StoreKeyMacs::new(&self.key, &self.previous_keys));
        }
        Arc::new(CookieStorage)
    }

    /// The cookie format these settings select: signed, or sealed with feature `encrypted`.
    fn codec(&self) -> Codec {
        #[cfg(feature = "encrypted")]
        if self.encrypted {
            return Codec::encrypted(&self.key, &self.previous_keys);
        }
        Codec::new(&self.key, &self.previous_keys)
    }

    /// Validates the settings.
    ///
    /// ```
    /// use actix_web::cookie::SameSite;
    /// use session_core::{AuthSession, Key};
    /// let key = Key::from_bytes(&[1u8; 32]).unwrap();
    /// let err = AuthSession::builder(key).same_site(SameSite::None).secure(false).build();
    /// assert!(err.is_err());
    /// ```
    pub fn build(mut self) -> Result<AuthSession, ConfigError> {
        let storage = self.storage();
        if let Some(setting) = self
            .explicit
            .iter()
            .find(|s| storage.unused_settings().contains(s))
        {
            return Err(ConfigError::invalid(setting, storage.unused_because()));
        }
        let cookie_name = self.cookie_name.clone().unwrap_or_else(|| {
            let host_only = self.secure && self.domain.is_none() && self.path == "/";
            match host_only {
                true => "__Host-session".to_owned(),
                false => "session".to_owned(),
            }
        });
        validate_cookie_name(&cookie_name)?;
        validate_prefix(
            &cookie_name,
            self.secure,
            self.domain.as_deref(),
            &self.path,
        )?;
        validate_attribute("path", &self.path)?;
        if !self.path.starts_with('/') {
            return Err(ConfigError::invalid("path", "must start with \"/\""));
        }
        if let Some(domain) = &self.domain {
            validate_attribute("domain", domain)?;
        }
        validate_url("login_url", &self.login_url)?;
        validate_url("home_url", &self.home_url)?;
        if let Some(url) = &self.reauth_url {
            validate_url("reauth_url", url)?;
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::invalid(
                "same_site",
                "SameSite=None requires secure(true); browsers drop such cookies otherwise",
            ));
        }
        let max_age = secs(self.max_age);
        let absolute_timeout = secs(self.absolute_timeout);
        if max_age < 1 {
            return Err(ConfigError::invalid(
                "max_age",
                "must be at least one second",
            ));
        }
        if absolute_timeout < max_age {
            return Err(ConfigError::invalid(
                "absolute_timeout",
                format!("({absolute_timeout}s) must not be shorter than max_age ({max_age}s)"),
            ));
        }
        if self.users_timeout.is_zero() {
            return Err(ConfigError::invalid(
                "users_timeout",
                "must be more than zero",
            ));
        }
        if self.revocation_timeout.is_zero() {
            return Err(ConfigError::invalid(
                "revocation_timeout",
                "must be more than zero",
            ));
        }
        let refresh = self
            .refresh
            .unwrap_or(Refresh::NearExpiry(self.max_age / 4));
        let fingerprint_keys = std::iter::once(&self.key)
            .chain(&self.previous_keys)
            .map(|k| FingerprintKey::new(k.fingerprint_key()))
            .collect();
        let users_cache_ttl = secs(self.users_cache_ttl);
        let roles = match &self.authorization {
            Some(Ok(authorization)) => Some(Arc::clone(authorization.table())),
            Some(Err(e)) => return Err(e.clone()),
            None => None,
        };
        Ok(AuthSession::from_config(Configuration {
            roles,
            codec: self.codec(),
            users: self.users.map(|users| UsersConfig {
                bound: Bound::closed(self.users_timeout),
                cache_ttl: users_cache_ttl,
                ..users
            }),
            fingerprint_keys,
            cookie_name,
            max_age,
            absolute_timeout,
            refresh,
            secure: self.secure,
            http_only: self.http_only,
            same_site: self.same_site,
            path: self.path,
            domain: self.domain,
            login_url: self.login_url,
            reauth_url: self.reauth_url,
            home_url: self.home_url,
            deny: self.deny,
            forbidden_page: self.forbidden_page,
            security_hook: self.security_hook,
            clock: self.clock,
            revocation: self.revocations.map(|store| RevocationConfig {
                store,
                bound: Bound::new(self.revocation_timeout, self.fail_open),
            }),
            storage,
        }))
    }
}

/// The rules browsers apply to the `__Host-` and `__Secure-` name prefixes (RFC 6265bis 4.1.3):
/// a cookie breaking them is dropped, so the session would silently never stick.
fn validate_prefix(
    name: &str,
    secure: bool,
    domain: Option<&str>,
    path: &str,
) -> Result<(), ConfigError> {
    let problem = if name.starts_with("__Host-") {
        match (secure, domain, path) {
            (false, _, _) => Some("a `__Host-` cookie requires secure(true)"),
            (_, Some(_), _) => Some("a `__Host-` cookie cannot have a domain"),
            (_, _, p) if p != "/" => Some("a `__Host-` cookie requires the path \"/\""),
            _ => None,
        }
    } else if name.starts_with("__Secure-") && !secure {
        Some("a `__Secure-` cookie requires secure(true)")
    } else {
        None
    };
    match problem {
        Some(reason) => Err(ConfigError::invalid(
            "cookie_name",
            format!("{name:?}: {reason}; browsers drop it otherwise"),
        )),
        None => Ok(()),
    }
}

/// RFC 6265 cookie-name token characters.
fn validate_cookie_name(name: &str) -> Result<(), ConfigError> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(ConfigError::invalid(
            "cookie_name",
            format!(
                "{name:?} is not a valid cookie name (letters, digits and !#$%&'*+-.^_`|~ only)"
            ),
        ));
    }
    Ok(())
}

fn validate_attribute(setting: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty()
        || !value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
    {
        return Err(ConfigError::invalid(
            setting,
            format!("{value:?} must be non-empty printable ASCII without ';' or ','"),
        ));
    }
    Ok(())
}

/// A redirect target from configuration: a same-origin path, or an absolute http(s) URL.
fn validate_url(setting: &'static str, url: &str) -> Result<(), ConfigError> {
    let absolute = url.starts_with("https://") || url.starts_with("http://");
    if !absolute && crate::redirect::safe_next(url).is_none() {
        return Err(ConfigError::invalid(
            setting,
            format!("{url:?} must be a path starting with a single \"/\" or an http(s) URL"),
        ));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::invalid(
            setting,
            format!("{url:?} contains spaces or control characters"),
        ));
    }
    Ok(())
}
