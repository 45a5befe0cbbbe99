//! Guards: a rule (or "anonymous only") plus how to answer a denial. The macros and
//! [`crate::Require`] both check requests through [`Guard::check`].

use std::{
    borrow::Cow,
    fmt,
    future::{ready, Future, Ready},
    marker::PhantomData,
    ops::Deref,
    pin::Pin,
};

use actix_utils::future::Either;
use actix_web::{dev::Payload, Error, FromRequest, HttpRequest};

use crate::{
    deny::{wants_html, AuthError, DenyContext, DenyKind, Overrides},
    rule::Rule,
    session::RequestState,
    user::AuthUser,
};

#[derive(Debug, Clone)]
enum Policy {
    Require(Rule),
    SkipIfAuthenticated,
}

/// A check run before a handler: a [`Rule`] the user must meet, or "anonymous users only".
#[derive(Debug, Clone)]
pub struct Guard {
    policy: Policy,
    overrides: Overrides,
}

impl Guard {
    /// Lets through signed-in users who meet `rule`.
    pub fn require(rule: Rule) -> Self {
        Self {
            policy: Policy::Require(rule),
            overrides: Overrides::default(),
        }
    }

    /// Lets through anonymous users only; signed-in users are redirected (303) to the configured
    /// `home_url`, or to [`Guard::redirect`].
    pub fn skip_if_authenticated() -> Self {
        Self {
            policy: Policy::SkipIfAuthenticated,
            overrides: Overrides::default(),
        }
    }

    /// Denials redirect to `to` (with `?next=` when not signed in) instead of the default.
    pub fn redirect(mut self, to: impl Into<Cow<'static, str>>) -> Self {
        self.overrides.redirect = Some(to.into());
        self
    }

    /// With [`Guard::redirect`]: the redirect status (3xx, default 303). Without: the status of
    /// every denial (with a JSON or HTML body).
    pub fn status(mut self, status: u16) -> Self {
        self.overrides.status = Some(status);
        self
    }

    /// Checks `req`: `Ok(())` to go on, or the denial to answer with.
    pub async fn check(&self, req: &HttpRequest) -> Result<(), Error> {
        match self.check_now(req) {
            Some(verdict) => verdict,
            None => self.check_async(req).await,
        }
    }

    /// The verdict without running async checks; `None` when the rule needs them.
    fn check_now(&self, req: &HttpRequest) -> Option<Result<(), Error>> {
        let state = match RequestState::from_request(req) {
            Ok(state) => state,
            Err(e) => return Some(Err(e.into())),
        };
        let verdict = self.verdict(state.user().as_ref(), state.now, None)?;
        Some(self.answer(req, &state, verdict))
    }

    /// Runs the rule's async checks for the signed-in user, then decides.
    async fn check_async(&self, req: &HttpRequest) -> Result<(), Error> {
        let state = RequestState::from_request(req)?;
        let user = state.user();
        let mut answers = Vec::new();
        if let (Policy::Require(rule), Some(user)) = (&self.policy, &user) {
            for check in rule.async_checks() {
                answers.push(check(user.clone(), req.clone()).await);
            }
        }
        // Every async check has its answer now, so the rule decides; were it not to, the
        // request would be refused, never let through.
        let verdict = self
            .verdict(user.as_ref(), state.now, Some(&answers))
            .unwrap_or(Err(DenyKind::Forbidden));
        self.answer(req, &state, verdict)
    }

    /// The policy's decision for `user`; `None` when a rule needs its async checks' `answers`.
    fn verdict(
        &self,
        user: Option<&AuthUser>,
        now: i64,
        answers: Option<&[bool]>,
    ) -> Option<Result<(), DenyKind>> {
        match &self.policy {
            Policy::Require(rule) => rule.decide(user, now, answers),
            Policy::SkipIfAuthenticated => Some(match user {
                Some(_) => Err(DenyKind::AlreadyAuthenticated),
                None => Ok(()),
            }),
        }
    }

    fn answer(
        &self,
        req: &HttpRequest,
        state: &RequestState,
        verdict: Result<(), DenyKind>,
    ) -> Result<(), Error> {
        verdict.map_err(|kind| {
            tracing::debug!(reason = kind.as_str(), path = %req.path(), "request denied");
            deny_for(req, state, kind, &self.overrides).into()
        })
    }
}

/// The check of `guard` for `req` as a future that owns what it needs: ready at once unless the
/// rule has async checks to run.
pub(crate) fn checking<G>(guard: G, req: &HttpRequest) -> Checking
where
    G: Deref<Target = Guard> + 'static,
{
    match guard.check_now(req) {
        Some(verdict) => Either::left(ready(verdict)),
        None => {
            let req = req.clone();
            Either::right(Box::pin(async move { guard.check_async(&req).await }))
        }
    }
}

/// What [`checking`] returns.
pub(crate) type Checking =
    Either<Ready<Result<(), Error>>, Pin<Box<dyn Future<Output = Result<(), Error>>>>>;

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
            next,
        },
    );
    match &config.forbidden_page {
        Some(page) if denial.is_forbidden_page() => denial.with_page(page(req)),
        _ => denial,
    }
}

/// A guard known by type, so it can be an extractor parameter. Implemented by macro-generated
/// types; `guard()` returns the guard built once, at first use.
pub trait GuardSpec: 'static {
    /// The guard to check.
    fn guard() -> &'static Guard;
}

/// An extractor that succeeds only when `G`'s guard lets the request through. The macros insert
/// it as a handler's first parameter, so a denied request never reaches the other extractors
/// (its body is never read) nor the handler.
pub struct Guarded<G: GuardSpec>(PhantomData<fn() -> G>);

impl<G: GuardSpec> fmt::Debug for Guarded<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Guarded").field(G::guard()).finish()
    }
}

impl<G: GuardSpec> FromRequest for Guarded<G> {
    type Error = Error;
    type Future = GuardedFuture<G>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        GuardedFuture {
            checking: checking(G::guard(), req),
            guard: PhantomData,
        }
    }
}

/// The future of the [`Guarded`] extractor.
#[doc(hidden)]
pub struct GuardedFuture<G> {
    checking: Checking,
    guard: PhantomData<fn() -> G>,
}

impl<G: GuardSpec> Future for GuardedFuture<G> {
    type Output = Result<Guarded<G>, Error>;

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        // `Checking` is `Unpin` (a `Ready` or a boxed future), so `GuardedFuture` is too.
        let checking = Pin::new(&mut self.get_mut().checking);
        checking
            .poll(cx)
            .map(|verdict| verdict.map(|()| Guarded(PhantomData)))
    }
}
