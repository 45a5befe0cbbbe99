//! [`AuthSession`] configuration: a builder of twelve setters and the groups it takes
//! ([`CookieConfig`], [`Lifetime`], [`Redirects`], [`Revocation`], [`Users`]), each setter stating
//! its default.

use std::{sync::Arc, time::Duration};

use actix_web::{cookie::SameSite, HttpRequest};

use crate::{
    authz::{Authorization, IntoAuthorization},
    bound::Bound,
    clock::{secs, Clock, SystemClock},
    codec::Codec,
    deny::Deny,
    error::ConfigError,
    events::{Hook, SecurityEvent},
    key::Key,
    live::{FingerprintKey, UserStore, UsersConfig},
    refresh::Refresh,
    revocation::{AnyRevocations, Revocations},
    settings::{Configuration, ForbiddenPage, RevocationConfig},
    storage::{cookie::CookieStorage, Storage},
    AuthSession,
};
#[cfg(feature = "actix-session")]
use crate::{codec::store_key::StoreKeyMacs, storage::store::StoreStorage};

/// Builds the session-store storage once the keys are known.
#[cfg(feature = "actix-session")]
type StoreConstructor = Box<dyn FnOnce(StoreKeyMacs) -> Arc<dyn Storage> + Send + Sync>;

/// Builds an [`AuthSession`]; start with [`AuthSession::builder`].
///
/// Twelve setters; related settings come in groups, each with documented defaults:
/// [`CookieConfig`] (name, attributes, signed or sealed), [`Lifetime`] (idle and absolute
/// timeouts, rolling refresh), [`Redirects`] (login, re-authentication and home URLs),
/// [`Revocation`] (the store, its timeout and fail-open) and [`Users`] (the user store, its
/// timeout and cache).
///
/// ```
/// use std::time::Duration;
/// use actix_web::cookie::SameSite;
/// use session_core::{AuthSession, Key};
/// let auth = AuthSession::builder(Key::from_bytes(&[1u8; 32]).unwrap())
///     .cookie(|c| c.same_site(SameSite::Strict))
///     .lifetime(|l| l.max_age(Duration::from_secs(3600)))
///     .redirects(|r| r.login_url("/sign-in"))
///     .build()
///     .unwrap();
/// # let _ = auth;
/// ```
#[must_use]
pub struct AuthSessionBuilder {
    key: Key,
    previous_keys: Vec<Key>,
    cookie: CookieConfig,
    lifetime: Lifetime,
    redirects: Redirects,
    deny: Deny,
    forbidden_page: Option<ForbiddenPage>,
    security_hook: Option<Hook>,
    clock: Arc<dyn Clock>,
    revocation: Option<Revocation>,
    users: Option<Users>,
    /// The role table, checked by `build`.
    authorization: Option<Result<Authorization, ConfigError>>,
    /// A session store chosen with `session_store`, given the store-key MACs at `build`.
    #[cfg(feature = "actix-session")]
    session_store: Option<StoreConstructor>,
}

/// The session cookie: its name, attributes, and whether its claims are signed or sealed.
/// Set with [`AuthSessionBuilder::cookie`]; each setter states its default.
#[derive(Debug, Clone)]
#[must_use]
pub struct CookieConfig {
    name: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    path: String,
    domain: Option<String>,
    content: Content,
    /// The settings the app set explicitly (a storage that does not use one refuses it).
    explicit: Vec<&'static str>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: None,
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".to_owned(),
            domain: None,
            content: Content::Signed,
            explicit: Vec::new(),
        }
    }
}

impl CookieConfig {
    /// The cookie's name. Default: `"__Host-session"` when the cookie is `Secure`, has no
    /// `Domain` and the path `/` (the browser then refuses the same name from a sibling
    /// subdomain or a plain-HTTP page: no cookie tossing), else `"session"`.
    ///
    /// A `__Host-` name requires `secure(true)`, no domain and the path `/`; a `__Secure-` name
    /// requires `secure(true)` (browsers drop such cookies otherwise): `build()` refuses both.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.explicit.push("cookie_name");
        self.name = Some(name.into());
        self
    }

    /// The `Secure` flag. Default: `true` (turn off only for plain-HTTP local development).
    pub fn secure(mut self, secure: bool) -> Self {
        self.explicit.push("secure");
        self.secure = secure;
        self
    }

    /// The `HttpOnly` flag. Default: `true`.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.explicit.push("http_only");
        self.http_only = http_only;
        self
    }

    /// The `SameSite` attribute. Default: `Lax`. `None` requires `secure(true)`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.explicit.push("same_site");
        self.same_site = same_site;
        self
    }

    /// The `Path`. Default: `"/"`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.explicit.push("path");
        self.path = path.into();
        self
    }

    /// The `Domain`. Default: none (a host-only cookie).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.explicit.push("domain");
        self.domain = Some(domain.into());
        self
    }

    /// Signed or sealed claims. Default: [`Content::Signed`].
    ///
    /// ```
    /// # #[cfg(feature = "encrypted")] {
    /// use session_core::{config::Content, AuthSession, Key};
    /// let auth = AuthSession::builder(Key::from_bytes(&[1u8; 32]).unwrap())
    ///     .cookie(|c| c.content(Content::Sealed))
    ///     .build()
    ///     .unwrap();
    /// # let _ = auth;
    /// # }
    /// ```
    pub fn content(mut self, content: Content) -> Self {
        self.explicit.push("content");
        self.content = content;
        self
    }
}

/// What the cookie's claims look like to whoever holds the cookie
/// ([`CookieConfig::content`]).
///
/// Switching either way makes every cookie issued before unreadable: users sign in again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// A JWS (HS256): anyone holding the cookie can read the claims, nobody can change them.
    /// The default.
    #[default]
    Signed,
    /// A JWE (`dir`, AES-256-GCM under a key derived from the secret) the browser cannot read
    /// (feature `encrypted`).
    #[cfg(feature = "encrypted")]
    #[cfg_attr(docsrs, doc(cfg(feature = "encrypted")))]
    Sealed,
}

/// How long a session lasts ([`AuthSessionBuilder::lifetime`]).
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Lifetime {
    max_age: Duration,
    absolute_timeout: Duration,
    refresh: Option<Refresh>,
}

impl Default for Lifetime {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(7 * 24 * 3600),
            absolute_timeout: Duration::from_secs(30 * 24 * 3600),
            refresh: None,
        }
    }
}

impl Lifetime {
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
}

/// Where guards send browsers ([`AuthSessionBuilder::redirects`]).
#[derive(Debug, Clone)]
#[must_use]
pub struct Redirects {
    login_url: String,
    reauth_url: Option<String>,
    home_url: String,
}

impl Default for Redirects {
    fn default() -> Self {
        Self {
            login_url: "/login".to_owned(),
            reauth_url: None,
            home_url: "/".to_owned(),
        }
    }
}

impl Redirects {
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

    /// Where `skip_if_authenticated` sends signed-in users by default. Default: `"/"`.
    pub fn home_url(mut self, url: impl Into<String>) -> Self {
        self.home_url = url.into();
        self
    }
}

/// A revocation store with its timeout and failure policy
/// ([`AuthSessionBuilder::revocations`]); a bare store converts into one with the defaults.
#[must_use]
pub struct Revocation {
    store: Arc<dyn AnyRevocations>,
    timeout: Duration,
    fail_open: bool,
}

impl Revocation {
    /// `store` with the defaults: 250 ms timeout, fail closed.
    pub fn new(store: impl Revocations) -> Self {
        Self {
            store: Arc::new(store),
            timeout: Duration::from_millis(250),
            fail_open: false,
        }
    }

    /// How long a request waits for the store. Default: 250 ms.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When the store fails or times out: `false` (default, fail closed) answers authenticated
    /// requests with 503; `true` lets them through as not revoked, with a warning.
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }
}

impl<S: Revocations> From<S> for Revocation {
    fn from(store: S) -> Self {
        Self::new(store)
    }
}

/// The app's user store with its timeout and cache ([`AuthSessionBuilder::users`]); a bare
/// store converts into one with the defaults.
#[must_use]
pub struct Users {
    store: UsersConfig,
    timeout: Duration,
    cache_ttl: Duration,
}

impl Users {
    /// `store` with the defaults: 2 s timeout, no cache.
    pub fn new<S: UserStore>(store: S) -> Self {
        Self {
            store: UsersConfig::new(store),
            timeout: Duration::from_secs(2),
            cache_ttl: Duration::ZERO,
        }
    }

    /// How long a request waits for the store before answering 503. Default: 2 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Lets each worker reuse a loaded user record for up to `ttl` (whole seconds) instead of
    /// loading it on every request. A demotion, deletion or credential change is then seen
    /// within `ttl` rather than on the next request. Default: zero (no cache).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }
}

impl<S: UserStore> From<S> for Users {
    fn from(store: S) -> Self {
        Self::new(store)
    }
}

impl AuthSession {
    /// Starts a configuration signed with `key`.
    pub fn builder(key: Key) -> AuthSessionBuilder {
        AuthSessionBuilder::new(key)
    }
}

impl AuthSessionBuilder {
    fn new(key: Key) -> Self {
        Self {
            key,
            previous_keys: Vec::new(),
            cookie: CookieConfig::default(),
            lifetime: Lifetime::default(),
            redirects: Redirects::default(),
            deny: Deny::Auto,
            forbidden_page: None,
            security_hook: None,
            clock: Arc::new(SystemClock),
            revocation: None,
            users: None,
            authorization: None,
            #[cfg(feature = "actix-session")]
            session_store: None,
        }
    }

    /// Changes the session cookie's name, attributes or content: `f` gets the settings so far
    /// (at first [`CookieConfig::default`]) and returns them changed, so calls add up.
    ///
    /// ```
    /// use actix_web::cookie::SameSite;
    /// use session_core::{AuthSession, Key};
    /// let auth = AuthSession::builder(Key::from_bytes(&[1u8; 32]).unwrap())
    ///     .cookie(|c| c.name("sid").same_site(SameSite::Strict))
    ///     .build()
    ///     .unwrap();
    /// # let _ = auth;
    /// ```
    pub fn cookie(mut self, f: impl FnOnce(CookieConfig) -> CookieConfig) -> Self {
        self.cookie = f(self.cookie);
        self
    }

    /// Changes the idle and absolute timeouts or the rolling refresh: `f` gets the settings so
    /// far (at first [`Lifetime::default`]) and returns them changed.
    pub fn lifetime(mut self, f: impl FnOnce(Lifetime) -> Lifetime) -> Self {
        self.lifetime = f(self.lifetime);
        self
    }

    /// Changes the login, re-authentication or home URL: `f` gets the settings so far (at
    /// first [`Redirects::default`]) and returns them changed.
    pub fn redirects(mut self, f: impl FnOnce(Redirects) -> Redirects) -> Self {
        self.redirects = f(self.redirects);
        self
    }

    /// A revocation store, checked on every authenticated request; `Session::logout` revokes
    /// its session id there and [`AuthSession::revoke_user`] works. Takes a store (default
    /// timeout and fail-closed) or a [`Revocation`] with its own. Default: none (a cookie is
    /// valid until it expires). `Arc<S>` is a store too, so the app may keep a handle.
    pub fn revocations(mut self, revocation: impl Into<Revocation>) -> Self {
        self.revocation = Some(revocation.into());
        self
    }

    /// The app's user store: with one, every request with a signed-in session loads the user's
    /// record once, before any guard, and guards judge its roles (a demotion counts on the very
    /// next request). No such user, or a changed credential fingerprint, ends the session; a
    /// store error or timeout answers 503 and keeps it. Handlers get the record with
    /// [`crate::Current`]. Takes a store (2 s timeout, no cache) or a [`Users`] with its own
    /// settings. Default: none (guards judge the roles given at login).
    ///
    /// ```
    /// use std::{collections::HashMap, sync::Arc, time::Duration};
    /// use session_core::{config::Users, AuthSession, Key, User, UserStore};
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
    ///     .users(Users::new(db.clone()).timeout(Duration::from_millis(500)))
    ///     .build()
    ///     .unwrap();
    /// # let _ = auth;
    /// ```
    pub fn users(mut self, users: impl Into<Users>) -> Self {
        self.users = Some(users.into());
        self
    }

    /// The role table: which roles include which, and the permissions each grants (see
    /// [`crate::Authorization`]). `build` refuses a cycle or an unknown included role.
    pub fn authorization(mut self, roles: impl IntoAuthorization) -> Self {
        self.authorization = Some(roles.into_authorization());
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
    #[cfg_attr(docsrs, doc(cfg(feature = "actix-session")))]
    pub fn session_store<S>(mut self, store: S) -> Self
    where
        S: actix_session::storage::SessionStore + Send + Sync + 'static,
    {
        self.session_store = Some(Box::new(move |macs| {
            Arc::new(StoreStorage { store, macs }) as Arc<dyn Storage>
        }));
        self
    }

    /// Older keys that still verify cookies (never sign). A cookie verified by one of them is
    /// re-issued under the current key on the same response. Default: none.
    pub fn previous_keys(mut self, keys: impl IntoIterator<Item = Key>) -> Self {
        self.previous_keys = keys.into_iter().collect();
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
        match self.cookie.content {
            Content::Signed => Codec::new(&self.key, &self.previous_keys),
            #[cfg(feature = "encrypted")]
            Content::Sealed => Codec::encrypted(&self.key, &self.previous_keys),
        }
    }

    /// Validates the settings.
    ///
    /// ```
    /// use actix_web::cookie::SameSite;
    /// use session_core::{AuthSession, Key};
    /// let key = Key::from_bytes(&[1u8; 32]).unwrap();
    /// let builder = AuthSession::builder(key).cookie(|c| c.same_site(SameSite::None).secure(false));
    /// assert!(builder.build().is_err());
    /// ```
    pub fn build(mut self) -> Result<AuthSession, ConfigError> {
        let storage = self.storage();
        let (cookie, lifetime, redirects) = (&self.cookie, &self.lifetime, &self.redirects);
        if let Some(setting) = cookie
            .explicit
            .iter()
            .find(|s| storage.unused_settings().contains(s))
        {
            return Err(ConfigError::invalid(setting, storage.unused_because()));
        }
        let cookie_name = cookie.name.clone().unwrap_or_else(|| {
            let host_only = cookie.secure && cookie.domain.is_none() && cookie.path == "/";
            match host_only {
                true => "__Host-session".to_owned(),
                false => "session".to_owned(),
            }
        });
        validate_cookie_name(&cookie_name)?;
        validate_prefix(
            &cookie_name,
            cookie.secure,
            cookie.domain.as_deref(),
            &cookie.path,
        )?;
        validate_attribute("path", &cookie.path)?;
        if !cookie.path.starts_with('/') {
            return Err(ConfigError::invalid("path", "must start with \"/\""));
        }
        if let Some(domain) = &cookie.domain {
            validate_attribute("domain", domain)?;
        }
        validate_url("login_url", &redirects.login_url)?;
        validate_url("home_url", &redirects.home_url)?;
        if let Some(url) = &redirects.reauth_url {
            validate_url("reauth_url", url)?;
        }
        if cookie.same_site == SameSite::None && !cookie.secure {
            return Err(ConfigError::invalid(
                "same_site",
                "SameSite=None requires secure(true); browsers drop such cookies otherwise",
            ));
        }
        let max_age = secs(lifetime.max_age);
        let absolute_timeout = secs(lifetime.absolute_timeout);
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
        if self.users.as_ref().is_some_and(|u| u.timeout.is_zero()) {
            return Err(ConfigError::invalid(
                "Users::timeout",
                "must be more than zero",
            ));
        }
        if self
            .revocation
            .as_ref()
            .is_some_and(|r| r.timeout.is_zero())
        {
            return Err(ConfigError::invalid(
                "Revocation::timeout",
                "must be more than zero",
            ));
        }
        let refresh = lifetime
            .refresh
            .unwrap_or(Refresh::NearExpiry(lifetime.max_age / 4));
        let fingerprint_keys = std::iter::once(&self.key)
            .chain(&self.previous_keys)
            .map(|k| FingerprintKey::new(k.fingerprint_key()))
            .collect();
        let roles = match &self.authorization {
            Some(Ok(authorization)) => Some(Arc::clone(authorization.table())),
            Some(Err(e)) => return Err(e.clone()),
            None => None,
        };
        let codec = self.codec();
        let CookieConfig {
            secure,
            http_only,
            same_site,
            path,
            domain,
            ..
        } = self.cookie;
        let Redirects {
            login_url,
            reauth_url,
            home_url,
        } = self.redirects;
        let config = Configuration {
            roles,
            codec,
            users: self.users.map(|users| UsersConfig {
                bound: Bound::closed(users.timeout),
                cache_ttl: secs(users.cache_ttl),
                ..users.store
            }),
            fingerprint_keys,
            cookie_name,
            max_age,
            absolute_timeout,
            refresh,
            secure,
            http_only,
            same_site,
            path,
            domain,
            login_url,
            reauth_url,
            home_url,
            deny: self.deny,
            forbidden_page: self.forbidden_page,
            security_hook: self.security_hook,
            clock: self.clock,
            revocation: self.revocation.map(|r| RevocationConfig {
                store: r.store,
                bound: Bound::new(r.timeout, r.fail_open),
            }),
        };
        Ok(AuthSession::new(config, storage))
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
