//! Guards: a rule (or "anonymous only") plus how to answer a denial. The macros and
//! [`crate::Require`] both check requests through [`Guard::check`].

use std::{
    borrow::Cow,
    fmt,
    future::{ready, Ready},
    marker::PhantomData,
};

use actix_web::{dev::Payload, Error, FromRequest, HttpRequest};

use crate::{
    deny::{wants_html, AuthError, DenyContext, DenyKind, Overrides},
    rule::Rule,
    session::RequestState,
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
    pub fn check(&self, req: &HttpRequest) -> Result<(), Error> {
        let state = RequestState::from_request(req)?;
        let user = state.user();
        let verdict = match &self.policy {
            Policy::Require(rule) => rule.evaluate(user.as_ref(), state.now),
            Policy::SkipIfAuthenticated => match user {
                Some(_) => Err(DenyKind::AlreadyAuthenticated),
                None => Ok(()),
            },
        };
        verdict.map_err(|kind| {
            tracing::debug!(reason = kind.as_str(), path = %req.path(), "request denied");
            deny_for(req, &state, kind, &self.overrides).into()
        })
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
    AuthError::new(
        kind,
        overrides,
        &DenyContext {
            mode: config.deny,
            login_url: &config.login_url,
            home_url: &config.home_url,
            wants_html: wants_html(req),
            next,
        },
    )
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
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(G::guard().check(req).map(|()| Guarded(PhantomData)))
    }
}
