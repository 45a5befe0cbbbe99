//! Login throttling: limits on failed sign-ins per account name and per client address, with
//! locks that double while the failures go on.
//!
//! The app asks the throttle **before** it checks a password and reports a success **after**:
//!
//! ```no_run
//! use actix_web::{web, HttpRequest, HttpResponse};
//! use session_core::{throttle::{Throttle, ThrottleError}, Login, Session};
//!
//! # fn password_is_right(_: &str, _: &str) -> bool { false }
//! # #[derive(serde::Deserialize)] struct Form { username: String, password: String }
//! async fn login(
//!     req: HttpRequest,
//!     throttle: web::Data<Throttle>,
//!     session: Session,
//!     form: web::Form<Form>,
//! ) -> Result<HttpResponse, actix_web::Error> {
//!     // 429 (`Retry-After`, JSON or HTML) when this account or address has failed too often.
//!     let attempt = throttle.check(&req, &form.username).await?;
//!     if !password_is_right(&form.username, &form.password) {
//!         attempt.failed();
//!         return Ok(HttpResponse::Unauthorized().finish());
//!     }
//!     attempt.succeeded().await; // resets the account's failures
//!     session.login(Login::new(form.username.clone()))?;
//!     Ok(HttpResponse::SeeOther().insert_header(("Location", "/")).finish())
//! }
//! # let key = session_core::Key::generate();
//! # let throttle = Throttle::builder(&key)
//! #     .per_account(5, std::time::Duration::from_secs(15 * 60))
//! #     .build()
//! #     .unwrap();
//! ```
//!
//! What is counted (the exact rules: [`store::decide`]):
//! - every attempt let through is charged to its account's and its address's counters *before*
//!   the password is checked, so however many attempts arrive at once, at most `max_failures`
//!   per window reach the password check; a success forgets the account's counter and refunds
//!   the address's, so only failures count in the end;
//! - an attempt on a full counter is refused (429) and locks it: first for the `lockout`'s
//!   first duration, then twice as long each time, up to its maximum;
//! - refused attempts are never charged, and never reach the password check.
//!
//! The throttle never asks whether an account exists: names are normalized (trimmed,
//! lowercase) and counted by a keyed hash (a key derived from the app's [`crate::Key`]), so
//! known and unknown names get the same answers and the store never holds a raw name or
//! address.
//!
//! # Why not `governor`
//!
//! `governor` (GCRA, keyed) answers "may this request go ahead" by consuming a cell on every
//! check; it has no way to look before and report after, nor to reset a key on success, nor to
//! lock a key for longer after each burst, and its state lives in one process. A login needs
//! all four: failures, not requests, should count; a successful sign-in should clear them; a
//! guesser should wait longer and longer; instances behind a load balancer should share the
//! count. So this is a failure counter per fixed window with a growing lock, decided by pure
//! functions ([`store::decide`]) that the memory store runs in Rust and the Redis store in Lua.

mod address;
mod answer;
mod backend;
mod counter;
mod memory;
mod policy;
#[cfg(feature = "redis")]
mod redis;
pub mod store;

use std::{fmt, net::IpAddr, sync::Arc, time::Duration};

use actix_web::{http::header::HeaderName, HttpRequest};

#[cfg(feature = "redis")]
pub use self::redis::RedisThrottleStore;
pub use self::{
    address::ClientAddress,
    answer::{wait_text, ThrottleError, ThrottleErrorKind},
    backend::ThrottleStore,
    memory::MemoryThrottleStore,
};
use self::{
    backend::AnyThrottleStore,
    counter::Keyring,
    store::{Counter, CounterKey, Limit, Verdict},
};
use crate::{
    bound::Bound,
    clock::{secs, Clock, SystemClock},
    deny::wants_html,
    error::ConfigError,
    events::SecurityEvent,
    key::Key,
    state::RequestState,
};

/// Reports a refused attempt as a [`SecurityEvent::Throttled`] through the request's session
/// layer (when the [`crate::AuthSession`] middleware is registered); `refused` passes through.
fn announce(
    req: &HttpRequest,
    account: Option<&str>,
    address: Option<IpAddr>,
    refused: ThrottleError,
) -> ThrottleError {
    if refused.kind() == ThrottleErrorKind::TooManyAttempts {
        if let Ok(state) = RequestState::from_request(req) {
            state.config.emit(SecurityEvent::throttled(
                account.unwrap_or_default(),
                address.map(|ip| ip.to_string()),
                refused.retry_after().as_secs(),
            ));
        }
    }
    refused
}

/// A login throttle: cheap to clone (one `Arc`), share one per purpose (sign-in, registration)
/// across the app's workers. Build it with [`Throttle::builder`].
#[derive(Clone)]
pub struct Throttle {
    inner: Arc<Inner>,
}

struct Inner {
    keyring: Keyring,
    account: Option<Limit>,
    address: Option<Limit>,
    client_address: ClientAddress,
    store: Arc<dyn AnyThrottleStore>,
    clock: Arc<dyn Clock>,
    /// The store's timeout, and whether a failing store lets attempts through uncounted.
    bound: Bound,
}

impl fmt::Debug for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("keyring", &self.inner.keyring)
            .field("account", &self.inner.account)
            .field("address", &self.inner.address)
            .field("client_address", &self.inner.client_address)
            .finish_non_exhaustive()
    }
}

impl Throttle {
    /// Starts a configuration whose counter keys are derived from `key` (instances sharing a
    /// store must share the key; a new key starts every counter afresh).
    pub fn builder(key: &Key) -> ThrottleBuilder {
        ThrottleBuilder::new(key)
    }

    /// Before checking `account`'s password: counts the attempt against the account and the
    /// client's address, or refuses it ([`ThrottleError`]: 429, or 503 when the store fails
    /// and the throttle fails closed), answering in HTML when the client asked for it.
    pub async fn check(&self, req: &HttpRequest, account: &str) -> Result<Attempt, ThrottleError> {
        let address = self.client_address(req);
        let checked = self.check_client(Some(account), address).await;
        checked.map_err(|e| announce(req, Some(account), address, e.html(wants_html(req))))
    }

    /// Like [`Throttle::check`] for attempts that name no account (registrations, password
    /// reset requests): counts against the client's address only.
    pub async fn check_address(&self, req: &HttpRequest) -> Result<Attempt, ThrottleError> {
        let address = self.client_address(req);
        let checked = self.check_client(None, address).await;
        checked.map_err(|e| announce(req, None, address, e.html(wants_html(req))))
    }

    /// The check itself, for callers without an `HttpRequest`: counts against `account` (if
    /// given and limited) and `address` (`None`: one shared counter for "address unknown").
    /// Refusals answer in JSON.
    pub async fn check_client(
        &self,
        account: Option<&str>,
        address: Option<IpAddr>,
    ) -> Result<Attempt, ThrottleError> {
        let inner = &self.inner;
        let address = inner.address.map(|limit| Counter {
            key: inner.keyring.address(address),
            limit,
        });
        let account = inner.account.zip(account).map(|(limit, name)| Counter {
            key: inner.keyring.account(name),
            limit,
        });
        let counters: Vec<Counter> = address.into_iter().chain(account).collect();
        let now = inner.clock.now();
        let attempt = Attempt {
            throttle: Some(self.clone()),
            account: account.map(|c| c.key),
            address,
            charged_at: now,
        };
        if counters.is_empty() {
            return Ok(attempt);
        }
        let decided = async { inner.store.attempt(&counters, now).await.map(Some) };
        let what = "throttle store failed";
        match inner.bound.call_or(decided, None, what).await {
            Ok(Some(Verdict::Allowed)) => Ok(attempt),
            Ok(Some(Verdict::Refused { retry_after })) => {
                tracing::warn!(
                    scope = inner.keyring.scope(),
                    retry_after,
                    "attempt refused by the throttle"
                );
                Err(ThrottleError::too_many_attempts(retry_after))
            }
            // Failed open (logged): let through, counted nowhere.
            Ok(None) => Ok(Attempt {
                throttle: None,
                ..attempt
            }),
            Err(e) => {
                tracing::error!(error = %e, "throttle store failed; failing closed");
                Err(ThrottleError::unavailable())
            }
        }
    }

    /// The address `req` is counted under: the peer's, or the configured trusted proxy
    /// header's ([`ClientAddress`]); `None` when neither is known.
    pub fn client_address(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.inner.client_address.of(req)
    }
}

/// An attempt the throttle let through, already counted as a failure. Report a success with
/// [`Attempt::succeeded`]; a failure needs nothing more ([`Attempt::failed`] says so in code),
/// so an attempt abandoned halfway (an error, a dropped connection) counts as a failure.
#[derive(Debug)]
#[must_use = "report a success with `.succeeded().await`, or say `.failed()`"]
pub struct Attempt {
    /// `None` when the throttle failed open: nothing was counted.
    throttle: Option<Throttle>,
    account: Option<CounterKey>,
    address: Option<Counter>,
    /// When the attempt was charged: a success refunds only that window.
    charged_at: i64,
}

impl Attempt {
    /// The password was right: forgets the account's failures and gives the address back the
    /// attempt. Never refuses the sign-in: if the store fails, that is logged, and the counters
    /// expire by themselves.
    pub async fn succeeded(self) {
        let Some(throttle) = &self.throttle else {
            return;
        };
        let (forget, refund): (Vec<_>, Vec<_>) = (
            self.account.into_iter().collect(),
            self.address.into_iter().collect(),
        );
        let now = throttle.inner.clock.now();
        let call = throttle
            .inner
            .store
            .succeeded(&forget, &refund, self.charged_at, now);
        if let Err(e) = throttle.inner.bound.call(call).await {
            tracing::warn!(error = %e, "throttle store failed to record a success");
        }
    }

    /// The password was wrong (or the attempt is to count anyway): the failure counted at
    /// [`Throttle::check`] stands. The same as dropping the attempt.
    pub fn failed(self) {}
}

/// Settings of a [`Throttle`]; every setter states its default.
pub struct ThrottleBuilder {
    secret: [u8; 32],
    scope: String,
    account: Option<(u32, Duration)>,
    address: Option<(u32, Duration)>,
    lockout: (Duration, Duration),
    client_address: Result<ClientAddress, ConfigError>,
    store: Option<Arc<dyn AnyThrottleStore>>,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    fail_open: bool,
}

impl fmt::Debug for ThrottleBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThrottleBuilder")
            .field("scope", &self.scope)
            .field("account", &self.account)
            .field("address", &self.address)
            .field("lockout", &self.lockout)
            .finish_non_exhaustive()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

impl ThrottleBuilder {
    fn new(key: &Key) -> Self {
        Self {
            secret: *key.throttle_key(),
            scope: "login".to_owned(),
            account: Some((5, 15 * MINUTE)),
            address: Some((50, 15 * MINUTE)),
            lockout: (MINUTE, 60 * MINUTE),
            client_address: Ok(ClientAddress::Peer),
            store: None,
            clock: Arc::new(SystemClock),
            timeout: Duration::from_millis(250),
            fail_open: false,
        }
    }

    /// At most `max_failures` failed attempts per account name per `window`. Default: 5 per
    /// 15 minutes.
    pub fn per_account(mut self, max_failures: u32, window: Duration) -> Self {
        self.account = Some((max_failures, window));
        self
    }

    /// At most `max_failures` failed attempts per client address (IPv6: per /64) per
    /// `window`, whichever accounts they name. Default: 50 per 15 minutes.
    pub fn per_address(mut self, max_failures: u32, window: Duration) -> Self {
        self.address = Some((max_failures, window));
        self
    }

    /// No per-account limit: for throttles of attempts that name no account, or apps that limit
    /// accounts elsewhere.
    pub fn without_per_account(mut self) -> Self {
        self.account = None;
        self
    }

    /// No per-address limit: for apps that cannot tell clients apart (behind a proxy that sends
    /// no trustworthy header, every client shares one address).
    pub fn without_per_address(mut self) -> Self {
        self.address = None;
        self
    }

    /// How long a full counter locks: `first` the first time, twice as long each following time
    /// (until the counter is forgotten), never longer than `max`. Default: 1 minute up to 1 hour.
    pub fn lockout(mut self, first: Duration, max: Duration) -> Self {
        self.lockout = (first, max);
        self
    }

    /// Where the client's address comes from. Default: [`ClientAddress::Peer`].
    pub fn client_address(mut self, source: ClientAddress) -> Self {
        self.client_address = Ok(source);
        self
    }

    /// Reads the client's address from the `hop`-th entry from the right of `header` (e.g.
    /// `X-Forwarded-For`, `hop = 1` for one proxy), written by your own reverse proxies:
    /// [`ClientAddress::ForwardedHeader`]. Only behind proxies that set or append that header
    /// on every request; otherwise clients choose their own address. Default: the peer.
    pub fn trusted_proxy_header(mut self, header: &str, hop: usize) -> Self {
        self.client_address = HeaderName::try_from(header)
            .map(|name| ClientAddress::ForwardedHeader { name, hop })
            .map_err(|_| {
                ConfigError::invalid(
                    "trusted_proxy_header",
                    format!("{header:?} is not a valid header name"),
                )
            });
        self
    }

    /// Where counters are kept (`Arc<S>` is a store too, so throttles may share one). Default:
    /// a [`MemoryThrottleStore`] of [`MemoryThrottleStore::DEFAULT_CAPACITY`] counters, private
    /// to this throttle.
    pub fn store(mut self, store: impl ThrottleStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Where "now" comes from. Default: the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How long an attempt waits for the store. Default: 250 ms.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When the store fails or times out: `false` (default, fail closed) refuses the attempt
    /// with 503; `true` lets it through uncounted, with a warning in the log.
    pub fn fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// Separates this throttle's counters from other throttles' on the same store and key
    /// (`"login"`, `"register"`, ...). Default: `"login"`.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Checks the settings and builds the throttle.
    pub fn build(self) -> Result<Throttle, ConfigError> {
        let (first, max) = (secs(self.lockout.0), secs(self.lockout.1));
        if first < 1 {
            return Err(ConfigError::invalid(
                "lockout",
                "the first lock must last at least one second",
            ));
        }
        if max < first {
            return Err(ConfigError::invalid(
                "lockout",
                format!("the longest lock ({max}s) must not be shorter than the first ({first}s)"),
            ));
        }
        let limit = |setting, limit: Option<(u32, Duration)>| {
            limit
                .map(|(max_failures, window)| {
                    if max_failures == 0 {
                        return Err(ConfigError::invalid(
                            setting,
                            "max_failures must be at least 1",
                        ));
                    }
                    if secs(window) < 1 {
                        return Err(ConfigError::invalid(
                            setting,
                            "the window must be at least one second",
                        ));
                    }
                    Ok(Limit::new(max_failures, secs(window), first, max))
                })
                .transpose()
        };
        let account = limit("per_account", self.account)?;
        let address = limit("per_address", self.address)?;
        if account.is_none() && address.is_none() {
            return Err(ConfigError::invalid(
                "per_account",
                "without per_account and per_address the throttle would count nothing",
            ));
        }
        let client_address = self.client_address?;
        if let ClientAddress::ForwardedHeader { hop: 0, .. } = client_address {
            return Err(ConfigError::invalid(
                "trusted_proxy_header",
                "hop counts from 1 (the rightmost entry)",
            ));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::invalid("timeout", "must be more than zero"));
        }
        if self.scope.is_empty() {
            return Err(ConfigError::invalid("scope", "must not be empty"));
        }
        Ok(Throttle {
            inner: Arc::new(Inner {
                keyring: Keyring::new(self.secret, self.scope),
                account,
                address,
                client_address,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(MemoryThrottleStore::new())),
                clock: self.clock,
                bound: Bound::new(self.timeout, self.fail_open),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> ThrottleBuilder {
        Throttle::builder(&Key::from_bytes(&[3; 32]).unwrap())
    }

    #[test]
    fn settings_that_cannot_work_are_refused_by_build() {
        let s = Duration::from_secs;
        let table = [
            (builder().lockout(Duration::ZERO, s(60)), "lockout"),
            (builder().lockout(s(61), s(60)), "lockout"),
            (builder().per_account(0, s(60)), "per_account"),
            (
                builder().per_address(5, Duration::from_millis(10)),
                "per_address",
            ),
            (
                builder().without_per_account().without_per_address(),
                "per_account",
            ),
            (
                builder().trusted_proxy_header("bad header", 1),
                "trusted_proxy_header",
            ),
            (
                builder().trusted_proxy_header("x-forwarded-for", 0),
                "trusted_proxy_header",
            ),
            (builder().timeout(Duration::ZERO), "timeout"),
            (builder().scope(""), "scope"),
        ];
        for (builder, want) in table {
            let debug = format!("{builder:?}");
            match builder.build() {
                Err(ConfigError::Invalid { setting, .. }) => assert_eq!(setting, want, "{debug}"),
                other => panic!("{debug}: {other:?}"),
            }
        }
        assert!(builder().build().is_ok(), "the defaults work");
    }

    #[test]
    fn debug_shows_no_key_material() {
        let throttle = builder().build().unwrap();
        let text = format!("{throttle:?}");
        assert!(text.contains("login") && !text.contains("secret"), "{text}");
    }
}
