//! The per-request session state: what a request's session looked like on arrival, what the
//! handler did to it, and the cookie the response must carry. Shared by every extractor and
//! guard of one request; the storage, the revocation policy and the middleware read it.

use std::{
    cell::RefCell,
    rc::Rc,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex, MutexGuard,
    },
    time::Instant,
};

use actix_web::{
    dev::{Extensions, ServiceRequest},
    HttpRequest,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    claims::Claims,
    deny::{is_htmx, wants_html, AuthError, DenyContext, DenyKind, Overrides},
    error::SessionError,
    gate::Gate,
    live::LiveUser,
    outgoing::{self, Write},
    refresh::next_expiry,
    settings::Configuration,
};

/// What a request's session looked like on arrival and what the handler did to it.
///
/// Put once per request where the extractors find it by the middleware (as an `Arc` in a data
/// container of the request, see [`StatePool`]), and shared by every extractor and guard of that
/// request.
pub(crate) struct RequestState {
    pub(crate) config: Arc<Configuration>,
    /// The storage's limit on one session's size (a cookie's 4 KiB), if any.
    size_limit: Option<usize>,
    /// "Now" for this request: every check in one request sees the same instant.
    pub(crate) now: i64,
    /// When the request reached the session layer, before its handler ran (monotonic): a login
    /// in this request counts as begun then ([`crate::revocation::Revocations::login_generation`]).
    /// Invariant: `Some` exactly when `config` has a revocation store, its only reader (both are
    /// set together, from the same `config`, in `new` and `reset`); `None` saves the clock read.
    began: Option<Instant>,
    /// The verified, in-time claims the request arrived with.
    pub(crate) incoming: Option<Arc<Claims>>,
    /// The incoming cookie verified under a previous key.
    pub(crate) rotated: bool,
    /// With a user store: the record loaded for the incoming session's user.
    pub(crate) live: Option<LiveUser>,
    pub(crate) pending: Mutex<Pending>,
    /// A set-up mistake an extractor met (`Current<U>` without a matching user store). The
    /// middleware answers it as the response even when the extractor's error was swallowed by
    /// `Option<Current<U>>`, so a wiring mistake never reads as "nobody signed in".
    mistake: Mutex<Option<SessionError>>,
    /// Whether `mistake` was ever set in this request: the common request takes no lock to learn
    /// that there is none. Set (`Release`) after the mistake is stored, read (`Acquire`) before
    /// it is taken, so a set flag always finds the mistake.
    has_mistake: AtomicBool,
    /// The gate of the last guard of this request that had to wait (see [`crate::gate`]).
    gate: Mutex<Option<Gate>>,
    /// Whether `gate` was ever set in this request (as `has_mistake` for `mistake`): a request
    /// whose guards all decided at once takes no lock to learn that none is shut.
    has_gate: AtomicBool,
}

/// The start of a request, recorded only when a revocation store will read it.
fn began(config: &Configuration) -> Option<Instant> {
    config.revocation.as_ref().map(|_| Instant::now())
}

/// The session a request arrived with, as the middleware found it.
pub(crate) struct Incoming {
    pub(crate) claims: Option<Arc<Claims>>,
    /// Verified under a previous key.
    pub(crate) rotated: bool,
    /// The user record loaded for it (with a user store).
    pub(crate) live: Option<LiveUser>,
    /// The request carried a session that has ended (user gone, credentials changed): the
    /// response removes its cookie unless the handler starts a new one.
    pub(crate) ended: bool,
}

impl Incoming {
    pub(crate) fn anonymous() -> Self {
        Self {
            claims: None,
            rotated: false,
            live: None,
            ended: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// Nothing changed by the handler.
    None,
    /// `claims` are to be issued as a new cookie.
    Updated,
    /// The session ended; nothing since.
    LoggedOut,
}

impl Change {
    /// The change a request starts with: none, or the removal of a session that ended on arrival.
    fn on_arrival(ended: bool) -> Self {
        match ended {
            true => Change::LoggedOut,
            false => Change::None,
        }
    }
}

pub(crate) struct Pending {
    /// The working copy of the session once the handler changed it (`change != None`); until
    /// then the incoming claims stand, uncopied.
    pub(crate) claims: Option<Claims>,
    pub(crate) change: Change,
}

impl Pending {
    /// The session as it stands now: the working copy once changed, else the incoming claims.
    pub(crate) fn current<'a>(&'a self, incoming: Option<&'a Claims>) -> Option<&'a Claims> {
        match self.change {
            Change::None => incoming,
            Change::Updated | Change::LoggedOut => self.claims.as_ref(),
        }
    }
}

/// The cookie the response must carry, if any.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Issue(Claims),
    Remove,
}

impl RequestState {
    pub(crate) fn new(
        config: Arc<Configuration>,
        size_limit: Option<usize>,
        now: i64,
        incoming: Incoming,
    ) -> Self {
        let change = Change::on_arrival(incoming.ended);
        let began = began(&config);
        Self {
            config,
            size_limit,
            now,
            began,
            pending: Mutex::new(Pending {
                claims: None,
                change,
            }),
            incoming: incoming.claims,
            rotated: incoming.rotated,
            live: incoming.live,
            mistake: Mutex::new(None),
            has_mistake: AtomicBool::new(false),
            gate: Mutex::new(None),
            has_gate: AtomicBool::new(false),
        }
    }

    /// Makes a state no request holds any more the state of a new one, field by field (no move of
    /// the whole struct): the same state [`RequestState::new`] builds. The destructuring names
    /// every field, so a field added later cannot be left over from the earlier request.
    fn reset(
        &mut self,
        config: &Arc<Configuration>,
        size_limit: Option<usize>,
        now: i64,
        arrived: Incoming,
    ) {
        let RequestState {
            config: kept_config,
            size_limit: kept_limit,
            now: kept_now,
            began,
            incoming,
            rotated,
            live,
            pending,
            mistake,
            has_mistake,
            gate,
            has_gate,
        } = self;
        if !Arc::ptr_eq(kept_config, config) {
            *kept_config = Arc::clone(config);
        }
        *kept_limit = size_limit;
        *kept_now = now;
        *began = self::began(config);
        // A lock poisoned by a panic in the earlier request is not carried over.
        pending.clear_poison();
        mistake.clear_poison();
        gate.clear_poison();
        let pending = pending.get_mut().unwrap_or_else(|e| e.into_inner());
        pending.claims = None;
        pending.change = Change::on_arrival(arrived.ended);
        *incoming = arrived.claims;
        *rotated = arrived.rotated;
        *live = arrived.live;
        *mistake.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
        *gate.get_mut().unwrap_or_else(|e| e.into_inner()) = None;
        *has_mistake.get_mut() = false;
        *has_gate.get_mut() = false;
    }

    /// When the request reached the session layer; read only with a revocation store, which is
    /// exactly when it was recorded (see the field).
    pub(crate) fn began(&self) -> Instant {
        self.began
            .expect("the start of a request is recorded whenever revocations are configured")
    }

    /// The gate of an earlier guard of this request that has not let it through yet.
    pub(crate) fn shut_gate(&self) -> Option<Gate> {
        if !self.has_gate.load(Ordering::Acquire) {
            return None;
        }
        let gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
        gate.as_ref().filter(|g| !g.is_open()).cloned()
    }

    /// Records the gate of a guard that has to wait; later guards wait for it.
    pub(crate) fn set_gate(&self, gate: Gate) {
        *self.gate.lock().unwrap_or_else(|e| e.into_inner()) = Some(gate);
        self.has_gate.store(true, Ordering::Release);
    }

    /// Records a set-up mistake; see [`RequestState::take_mistake`].
    pub(crate) fn record_mistake(&self, mistake: SessionError) {
        *self.mistake.lock().unwrap_or_else(|e| e.into_inner()) = Some(mistake);
        self.has_mistake.store(true, Ordering::Release);
    }

    /// The set-up mistake an extractor recorded during this request, if any.
    pub(crate) fn take_mistake(&self) -> Option<SessionError> {
        if !self.has_mistake.load(Ordering::Acquire) {
            return None;
        }
        self.mistake
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    pub(crate) fn from_request(req: &HttpRequest) -> Result<Arc<Self>, SessionError> {
        req.app_data::<Arc<Self>>()
            .cloned()
            .ok_or(SessionError::MiddlewareMissing)
    }

    /// Whether the handler changed the session (login, logout, data, ...).
    pub(crate) fn handler_changed(&self) -> bool {
        self.lock().change != Change::None
    }

    /// The signed-in session the request arrived with.
    pub(crate) fn signed_in(&self) -> Option<&Claims> {
        self.incoming.as_deref().filter(|c| c.is_authenticated())
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic in another extractor while holding the lock leaves consistent data (every
        // mutation below is applied whole or not at all), so a poisoned lock is safe to reuse.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `change` to the working claims; rolled back if the result does not fit a cookie.
    pub(crate) fn update(
        &self,
        change: impl FnOnce(&mut Option<Claims>),
    ) -> Result<(), SessionError> {
        let mut pending = self.lock();
        let mut claims = pending.current(self.incoming.as_deref()).cloned();
        change(&mut claims);
        if let (Some(c), Some(limit)) = (&claims, self.size_limit) {
            // Browsers drop a cookie whose name and value together exceed the limit.
            let value = self.config.codec.encode(&self.stamped(c.clone()));
            let len = self.config.cookie_name.len() + value.len();
            if len > limit {
                return Err(SessionError::TooLarge { len, limit });
            }
        }
        pending.change = match (&claims, &pending.change) {
            (None, Change::None) if self.incoming.is_none() => Change::None,
            (None, _) => Change::LoggedOut,
            (Some(_), _) => Change::Updated,
        };
        pending.claims = claims;
        Ok(())
    }

    /// `claims` with a fresh issue time and idle expiry, capped by the absolute deadline.
    fn stamped(&self, claims: Claims) -> Claims {
        let mut claims = self.rebound(claims);
        let deadline = claims.absolute_deadline(self.config.absolute_timeout);
        claims.iat = self.now;
        claims.exp = next_expiry(self.now, self.config.max_age, deadline);
        claims
    }

    /// The fingerprint MAC of the incoming session under the current key, when `claims` continue
    /// it (same session id) and its live user's fingerprint just matched: a cookie re-issued after
    /// a key rotation stays bound once the old key is retired.
    fn rebound(&self, mut claims: Claims) -> Claims {
        let (Some(live), Some(incoming)) = (&self.live, &self.incoming) else {
            return claims;
        };
        if claims.sid == incoming.sid {
            claims.fp = self.config.fingerprint_mac(live.fingerprint());
        }
        claims
    }

    /// The response's session write, as `outgoing::decide` orders it: logout, then login / renew /
    /// data change, then rolling refresh, then key-rotation re-issue. At most one.
    pub(crate) fn outgoing(&self) -> Option<Outgoing> {
        let pending = self.lock();
        let change = match pending.change {
            Change::None => outgoing::Change::None,
            Change::Updated => outgoing::Change::Updated {
                exists: pending.claims.is_some(),
            },
            Change::LoggedOut => outgoing::Change::LoggedOut,
        };
        let incoming = self.incoming.as_deref();
        let arrived = incoming.map(|c| outgoing::Arrived {
            exp: c.exp,
            deadline: c.absolute_deadline(self.config.absolute_timeout),
            rotated: self.rotated,
        });
        let policy = outgoing::Policy {
            refresh: self.config.refresh,
            max_age: self.config.max_age,
        };
        match outgoing::decide(change, arrived, policy, self.now) {
            Write::Nothing => None,
            Write::Remove => Some(Outgoing::Remove),
            Write::Changed => pending
                .claims
                .clone()
                .map(|claims| Outgoing::Issue(self.stamped(claims))),
            Write::Refresh => incoming.map(|c| Outgoing::Issue(self.stamped(c.clone()))),
            Write::Resign => incoming.map(|c| {
                let mut resigned = self.rebound(c.clone());
                resigned.iat = self.now;
                Outgoing::Issue(resigned)
            }),
        }
    }

    /// The session id `outgoing` ends, with the last moment a cookie of it could be valid: set on
    /// logout and on a login that replaces an authenticated session.
    pub(crate) fn ended_session(&self, outgoing: &Outgoing) -> Option<(&str, i64)> {
        let incoming = self.incoming.as_deref().filter(|c| c.is_authenticated())?;
        let ended = match outgoing {
            Outgoing::Remove => true,
            Outgoing::Issue(claims) => claims.sid != incoming.sid,
        };
        let deadline = incoming.absolute_deadline(self.config.absolute_timeout);
        ended.then_some((incoming.sid.as_str(), deadline))
    }
}

/// One worker's request states, each in the data container the request carries it in, reused
/// once no request holds it any more: a request on the fast path allocates nothing for its state
/// (no `Arc`, and no extension map, whose table actix-web allocates afresh for every request).
///
/// Invariants:
/// - A slot is reused only when nothing else holds it: the container's `Rc` is unique (no
///   request carries it, `Rc::get_mut`) and so is the state's `Arc` (no extractor, guard or
///   task kept it, `Arc::get_mut`). Every field is then reset (`RequestState::reset`), so
///   nothing of an earlier request (its claims, its user, its pending change, a recorded mistake
///   or gate, a poisoned lock) survives into the next.
/// - A slot is only ever reachable from the one request it was attached to: actix-web drops the
///   request's containers when the request ends (`HttpRequest`'s drop), and a request that is
///   still alive keeps its container's `Rc` shared, so its slot is skipped.
/// - At most [`StatePool::SLOTS`] slots are kept; a request beyond them (that many requests of
///   one worker in flight at once) gets a container of its own, dropped with it.
/// - An idle slot keeps its last request's values (claims, user record) in memory until it is
///   reused or the worker stops, as the worker's memos do; nothing reads them meanwhile.
///
/// `ServiceRequest::add_data_container` needs the request's `HttpRequest` not to be cloned yet,
/// as actix-web's own router (`match_info_mut`) and scoped `app_data` do for every request.
#[derive(Default)]
pub(crate) struct StatePool {
    slots: RefCell<Vec<Rc<Extensions>>>,
}

impl StatePool {
    /// How many states one worker keeps for reuse.
    pub(crate) const SLOTS: usize = 64;

    /// Attaches the state of a request arriving with `incoming` to `req` (found by
    /// [`RequestState::from_request`]), in a free slot when there is one.
    pub(crate) fn attach(
        &self,
        req: &mut ServiceRequest,
        config: &Arc<Configuration>,
        size_limit: Option<usize>,
        now: i64,
        incoming: Incoming,
    ) -> Arc<RequestState> {
        let mut slots = self.slots.borrow_mut();
        for slot in slots.iter_mut() {
            let Some(container) = Rc::get_mut(slot) else {
                continue;
            };
            let Some(shared) = container.get_mut::<Arc<RequestState>>() else {
                continue;
            };
            let Some(free) = Arc::get_mut(shared) else {
                continue;
            };
            free.reset(config, size_limit, now, incoming);
            let shared = Arc::clone(shared);
            req.add_data_container(Rc::clone(slot));
            return shared;
        }
        let shared = Arc::new(RequestState::new(
            Arc::clone(config),
            size_limit,
            now,
            incoming,
        ));
        let mut container = Extensions::new();
        container.insert(Arc::clone(&shared));
        let container = Rc::new(container);
        if slots.len() < Self::SLOTS {
            slots.push(Rc::clone(&container));
        }
        req.add_data_container(container);
        shared
    }

    /// Slots kept (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.borrow().len()
    }
}

/// The denial of `kind` for `req` under the app's configuration.
pub(crate) fn deny_for(
    req: &HttpRequest,
    state: &RequestState,
    kind: DenyKind,
    overrides: &Overrides,
) -> AuthError {
    let config = &state.config;
    let next = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    let denial = AuthError::new(
        kind,
        overrides,
        &DenyContext {
            mode: config.deny,
            login_url: &config.login_url,
            reauth_url: config.reauth_url.as_deref(),
            home_url: &config.home_url,
            wants_html: wants_html(req),
            htmx: is_htmx(req),
            next,
        },
    );
    match &config.forbidden_page {
        Some(page) if denial.is_forbidden_page() => denial.with_page(page(req)),
        _ => denial,
    }
}

/// Reads the session data value under `key` as a `T`.
pub(crate) fn from_value<T: DeserializeOwned>(key: &str, value: &Value) -> Result<T, SessionError> {
    T::deserialize(value).map_err(|source| SessionError::Deserialize {
        key: key.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::{AuthSession, Key};

    fn config() -> Arc<Configuration> {
        AuthSession::builder(Key::from_bytes(&[3u8; 32]).expect("long enough"))
            .build()
            .expect("valid")
            .shared_config()
    }

    fn attach(
        pool: &StatePool,
        req: &mut ServiceRequest,
        config: &Arc<Configuration>,
        now: i64,
    ) -> Arc<RequestState> {
        pool.attach(req, config, None, now, Incoming::anonymous())
    }

    #[test]
    fn an_extractor_finds_the_attached_state() {
        let (config, pool) = (config(), StatePool::default());
        let mut req = TestRequest::default().to_srv_request();
        assert!(RequestState::from_request(req.request()).is_err());
        let attached = attach(&pool, &mut req, &config, 7);
        let found = RequestState::from_request(req.request()).expect("attached");
        assert!(Arc::ptr_eq(&attached, &found));
        assert_eq!(found.now, 7);
    }

    #[test]
    fn a_slot_is_reused_whole_once_its_request_ended() {
        let (config, pool) = (config(), StatePool::default());
        let mut first = TestRequest::default().to_srv_request();
        let arrived = Incoming {
            claims: Some(Arc::new(Claims::sample())),
            rotated: true,
            live: None,
            ended: false,
        };
        let earlier = pool.attach(&mut first, &config, Some(4096), 1, arrived);
        earlier.update(|c| *c = None).expect("a logout fits");
        earlier.record_mistake(SessionError::MiddlewareMissing);
        earlier.set_gate(Gate::default());
        // A panic while holding the lock poisons it.
        let poisoner = Arc::clone(&earlier);
        let _ = std::thread::spawn(move || {
            let _held = poisoner.lock();
            panic!("poison the session lock");
        })
        .join();
        assert!(earlier.pending.is_poisoned());
        let earlier_ptr = Arc::as_ptr(&earlier);
        drop((earlier, first));

        let mut second = TestRequest::default().to_srv_request();
        let reused = attach(&pool, &mut second, &config, 2);
        assert_eq!(Arc::as_ptr(&reused), earlier_ptr, "the free slot is reused");
        assert_eq!(pool.len(), 1);
        // Nothing of the earlier request survives.
        assert_eq!((reused.now, reused.size_limit), (2, None));
        assert!(reused.incoming.is_none() && !reused.rotated && reused.live.is_none());
        assert!(!reused.pending.is_poisoned());
        assert!(!reused.handler_changed());
        assert!(reused.lock().claims.is_none());
        assert!(reused.take_mistake().is_none());
        assert!(reused.shut_gate().is_none());
        assert!(!reused.has_mistake.load(Ordering::Relaxed));
        assert!(!reused.has_gate.load(Ordering::Relaxed));
    }

    #[test]
    fn a_request_start_is_recorded_exactly_when_revocations_are_configured() {
        let with_revocations = AuthSession::builder(Key::from_bytes(&[3u8; 32]).expect("long"))
            .revocations(Arc::new(crate::revocation::MemoryRevocations::new()))
            .build()
            .expect("valid")
            .shared_config();
        let (without, pool) = (config(), StatePool::default());
        let mut first = TestRequest::default().to_srv_request();
        let state = attach(&pool, &mut first, &without, 1);
        assert!(state.began.is_none(), "nothing reads it: no clock read");
        drop((state, first));
        // The same slot, reused under a configuration with revocations, records it.
        let before = Instant::now();
        let mut second = TestRequest::default().to_srv_request();
        let state = attach(&pool, &mut second, &with_revocations, 2);
        assert_eq!(pool.len(), 1, "the slot was reused");
        assert!(state.began() >= before);
        drop((state, second));
        let mut third = TestRequest::default().to_srv_request();
        let state = attach(&pool, &mut third, &without, 3);
        assert!(state.began.is_none(), "reset with the configuration");
    }

    #[test]
    fn a_recorded_mistake_and_gate_are_found() {
        let (config, pool) = (config(), StatePool::default());
        let mut req = TestRequest::default().to_srv_request();
        let state = attach(&pool, &mut req, &config, 1);
        assert!(state.take_mistake().is_none() && state.shut_gate().is_none());
        state.record_mistake(SessionError::MiddlewareMissing);
        let gate = Gate::default();
        state.set_gate(gate.clone());
        assert!(state.shut_gate().is_some(), "a shut gate is found");
        gate.open();
        assert!(state.shut_gate().is_none(), "an open gate is not");
        assert!(matches!(
            state.take_mistake(),
            Some(SessionError::MiddlewareMissing)
        ));
        assert!(state.take_mistake().is_none(), "taken once");
    }

    #[test]
    fn a_slot_still_held_by_its_request_or_an_extractor_is_not_reused() {
        let (config, pool) = (config(), StatePool::default());
        // Held by its request (the request is alive; the state's handle is gone).
        let mut alive = TestRequest::default().to_srv_request();
        drop(attach(&pool, &mut alive, &config, 1));
        // Held by an extractor that outlived its request (e.g. moved into a task).
        let mut ended = TestRequest::default().to_srv_request();
        let kept = attach(&pool, &mut ended, &config, 2);
        drop(ended);

        let mut next = TestRequest::default().to_srv_request();
        let fresh = attach(&pool, &mut next, &config, 3);
        assert_eq!(pool.len(), 3, "neither held slot was taken");
        let alive_state = RequestState::from_request(alive.request()).expect("attached");
        assert_eq!((alive_state.now, kept.now, fresh.now), (1, 2, 3));
    }

    #[test]
    fn the_pool_keeps_at_most_its_slots() {
        let (config, pool) = (config(), StatePool::default());
        let held: Vec<_> = (0..StatePool::SLOTS + 3)
            .map(|i| {
                let mut req = TestRequest::default().to_srv_request();
                attach(&pool, &mut req, &config, i as i64);
                req
            })
            .collect();
        assert_eq!(pool.len(), StatePool::SLOTS);
        // Every request, pooled or not, finds its own state.
        for (i, req) in held.iter().enumerate() {
            let found = RequestState::from_request(req.request()).expect("attached");
            assert_eq!(found.now, i as i64);
        }
    }
}
