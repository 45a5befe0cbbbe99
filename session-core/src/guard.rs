//! Guards: a rule (or "anonymous only") plus how to answer a denial. The macros and
//! [`crate::Require`] both check requests through [`Guard::check`].
//!
//! Invariant: a [`Guard`] never answers a denied request with anything but a denial (an error
//! status, or a redirect to a same-origin path). Its answer is either the configured default or
//! one that passed `answer_problem`, through [`GuardBuilder::build`] at run time or
//! [`Answer::checked`] at compile time for macro-generated guards.

use std::{
    borrow::Cow,
    fmt,
    future::{ready, Future, Ready},
    marker::PhantomData,
    ops::Deref,
    pin::Pin,
    sync::{Arc, Mutex},
};

use actix_utils::future::Either;
use actix_web::{dev::Payload, error::InternalError, Error, FromRequest, HttpRequest};

use session_rules::{denial_status, same_origin_path, RedirectProblem, StatusProblem};

use crate::{
    deny::{unavailable, DenyKind, Overrides},
    error::{GuardError, SessionError},
    events::SecurityEvent,
    gate::Gate,
    policy::{PolicyFailure, PolicyFn},
    rule::{Evaluation, Rule},
    state::{deny_for, RequestState},
    user::{signed_in_user, AuthUser},
};

#[derive(Debug, Clone)]
enum Policy {
    Require(Rule),
    SkipIfAuthenticated,
}

/// A check run before a handler: a [`Rule`] the user must meet, or "anonymous users only", and
/// how to answer a denial.
///
/// A `Guard` always answers a denial with a denial. [`Guard::require`] and
/// [`Guard::skip_if_authenticated`] give one with the configured answers; a custom answer
/// ([`Guard::redirect`], [`Guard::status`]) goes through a [`GuardBuilder`], whose
/// [`build`](GuardBuilder::build) refuses what the macros refuse at compile time, by the same
/// rules: a status that is not an error status (a 1xx or 2xx would answer a denied request as if
/// it had passed), a 3xx status without a redirect, a redirect status other than 301, 302, 303,
/// 307 or 308, and a redirect target that is not a same-origin path.
///
/// ```
/// use session_core::{Guard, GuardError, Require, Rule};
///
/// # fn main() -> Result<(), GuardError> {
/// let admins = Guard::require(Rule::role("admin")).status(404).build()?; // hide the route
/// let members = Guard::require(Rule::authenticated())
///     .redirect("/signin")
///     .status(307)
///     .build()?;
/// let _ = (Require::guard(admins), Require::guard(members));
///
/// assert!(Guard::require(Rule::role("admin")).status(200).build().is_err());
/// assert!(Guard::skip_if_authenticated().redirect("https://evil.example").build().is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Guard {
    policy: Policy,
    overrides: Overrides,
    /// The rule's verdict under each role table it has met (by table id): computed at
    /// the first evaluation under that table, `Some` = the rule is impossible or vacuous there.
    under_tables: Arc<Mutex<Vec<TableVerdict>>>,
    /// The rule's policies in evaluation order, listed once.
    policies: Arc<[PolicyFn]>,
}

/// A role table's id, and the problem its hierarchy makes of a guard's rule, if any.
type TableVerdict = (u64, Option<&'static str>);

impl Guard {
    /// Lets through signed-in users who meet `rule`; denials get the configured answers.
    pub fn require(rule: Rule) -> Self {
        Self {
            policies: rule.policies().into(),
            policy: Policy::Require(rule),
            overrides: Overrides::default(),
            under_tables: Arc::default(),
        }
    }

    /// Lets through anonymous users only; signed-in users are redirected (303) to the configured
    /// `home_url`, or to [`Guard::redirect`] — unless the query carries `reason=reauthenticate`
    /// (a `fresh` denial's redirect), which lets them reach the login form to sign in again.
    pub fn skip_if_authenticated() -> Self {
        Self {
            policy: Policy::SkipIfAuthenticated,
            overrides: Overrides::default(),
            under_tables: Arc::default(),
            policies: Arc::new([]),
        }
    }

    /// Denials redirect to `to` (with `?next=` when not signed in) instead of the default: a
    /// same-origin path, as [`crate::safe_next`] accepts. Finish with [`GuardBuilder::build`].
    pub fn redirect(self, to: impl Into<Cow<'static, str>>) -> GuardBuilder {
        GuardBuilder { guard: self }.redirect(to)
    }

    /// With [`Guard::redirect`]: the redirect status (301, 302, 303, 307 or 308; default 303).
    /// Without: the status of every denial, 400..=599 (with a JSON or HTML body). Finish with
    /// [`GuardBuilder::build`].
    pub fn status(self, status: u16) -> GuardBuilder {
        GuardBuilder { guard: self }.status(status)
    }

    /// `self` answering denials with `answer`, which the macros checked at compile time.
    pub(crate) fn answering(mut self, answer: CheckedAnswer) -> Self {
        let Answer { redirect, status } = answer.0;
        self.overrides = Overrides {
            redirect: redirect.map(Cow::Borrowed),
            status,
        };
        self
    }

    /// Checks `req`: `Ok(())` to go on, or the denial to answer with.
    pub async fn check(&self, req: &HttpRequest) -> Result<(), Error> {
        let state = RequestState::from_request(req)?;
        let user = signed_in_user(&state);
        match self.check_now(req, &state, user.as_ref()) {
            Now::Decided(verdict) => verdict,
            Now::NeedsPolicies(evaluation) => self.check_async(req, &state, evaluation).await,
        }
    }

    /// The verdict for `user` (the request's signed-in user, as `signed_in_user` builds it from
    /// `state`) without running policies, or the rule's evaluation when it needs them. The
    /// caller builds the user, so that a guard which lets the request through can hand that
    /// same user to the handler (see [`Guarded`]).
    fn check_now(&self, req: &HttpRequest, state: &RequestState, user: Option<&AuthUser>) -> Now {
        if let Err(e) = self.fits_table(state) {
            return Now::Decided(Err(e.into()));
        }
        let (verdict, evaluation) = match (&self.policy, user) {
            // `Rule::authenticated()` holds for every signed-in user: nothing to evaluate.
            (Policy::Require(rule), Some(_)) if rule.is_authenticated() => (Some(Ok(())), None),
            (Policy::Require(rule), Some(user)) if self.policies.is_empty() => {
                let evaluation = rule.evaluate_without_policies(user, state.now);
                (evaluation.decide(&[]), None)
            }
            (Policy::Require(rule), Some(user)) => match rule.evaluate(user, state.now) {
                Some(evaluation) => (evaluation.decide(&[]), Some(evaluation)),
                None => (self.verdict(req, Some(user), state.now, &[]), None),
            },
            _ => (self.verdict(req, user, state.now, &[]), None),
        };
        let Some(verdict) = verdict else {
            return Now::NeedsPolicies(evaluation);
        };
        let decided_by = || self.decided_by(user, state.now, &[]);
        Now::Decided(self.answer(req, state, verdict, decided_by))
    }

    /// Refuses a rule that the app's role table makes impossible (or met by everyone), with an
    /// error (a logged 500) rather than a silent always-deny. Checked once per table.
    fn fits_table(&self, state: &RequestState) -> Result<(), SessionError> {
        let (Policy::Require(rule), Some(table)) = (&self.policy, &state.config.roles) else {
            return Ok(());
        };
        // A poisoned lock holds only complete entries (pushed whole), so it is safe to reuse.
        let mut seen = self
            .under_tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let problem = match seen.iter().find(|(id, _)| *id == table.id) {
            Some((_, problem)) => *problem,
            None => {
                let problem = rule.under_table(table);
                seen.push((table.id, problem));
                problem
            }
        };
        match problem {
            None => Ok(()),
            Some(problem) => Err(SessionError::RuleUnderRoleTable {
                rule: rule.to_string(),
                problem,
            }),
        }
    }

    /// Runs the rule's policies for the signed-in user, one at a time in rule order until the
    /// rule decides (a later policy is not run when an earlier one settles it), then answers.
    ///
    /// Fails closed: an extractor's refusal is the answer (as the extractor gives it), and a
    /// policy's `Err` is a logged 503 with `Retry-After` whose body never holds the error.
    ///
    /// Only ever called after `check_now` answered `None` for this request (which checked the
    /// rule against the role table).
    async fn check_async(
        &self,
        req: &HttpRequest,
        state: &RequestState,
        evaluation: Option<Evaluation>,
    ) -> Result<(), Error> {
        let user = signed_in_user(state);
        // The rule was evaluated over every answer of its policies: deciding after each answer
        // walks no tree (unless it has too many policies for that).
        let verdict_given = |answers: &[Option<bool>]| match evaluation {
            Some(evaluation) => evaluation.decide(answers),
            None => self.verdict(req, user.as_ref(), state.now, answers),
        };
        // One answer per policy, `None` until it has run: on the stack for up to 8 policies.
        let (mut few, mut many) = ([None; 8], Vec::new());
        let answers: &mut [Option<bool>] = match self.policies.len() {
            n if n <= few.len() => &mut few[..n],
            n => {
                many.resize(n, None);
                &mut many
            }
        };
        let mut verdict = None;
        if user.is_some() {
            for (i, policy) in self.policies.iter().enumerate() {
                match policy.run(req).await {
                    Ok(answer) => answers[i] = Some(answer),
                    Err(PolicyFailure::Extractor(e)) => return Err(e),
                    Err(PolicyFailure::Failed(error)) => {
                        tracing::error!(
                            policy = %policy.name,
                            path = req.path(),
                            %error,
                            "policy could not decide; answering 503"
                        );
                        let res = unavailable(req, "policy_unavailable");
                        return Err(InternalError::from_response("policy failed", res).into());
                    }
                }
                verdict = verdict_given(answers);
                if verdict.is_some() {
                    break;
                }
            }
        }
        // Every policy has run unless the rule decided, so it decides; were it not to, the
        // request would be refused, never let through.
        let verdict = verdict
            .or_else(|| verdict_given(answers))
            .unwrap_or(Err(DenyKind::Forbidden));
        let decided_by = || self.decided_by(user.as_ref(), state.now, answers);
        self.answer(req, state, verdict, decided_by)
    }

    /// The atom that decided a denial, for the security event.
    fn decided_by(
        &self,
        user: Option<&AuthUser>,
        now: i64,
        answers: &[Option<bool>],
    ) -> Option<String> {
        match &self.policy {
            Policy::Require(rule) => rule.decided_by(user, now, answers),
            Policy::SkipIfAuthenticated => None,
        }
    }

    /// The decision for `user`; `None` when a rule needs more of its policies' `answers`.
    fn verdict(
        &self,
        req: &HttpRequest,
        user: Option<&AuthUser>,
        now: i64,
        answers: &[Option<bool>],
    ) -> Option<Result<(), DenyKind>> {
        match &self.policy {
            Policy::Require(rule) => rule.decide(user, now, answers),
            // A signed-in user sent to sign in again by a `fresh` rule (`reason=reauthenticate`
            // in the query, as `deny` writes it) reaches the login page: otherwise the README's
            // own pattern is a dead end. This guard is a convenience for anonymous-only pages,
            // not access control, so letting a signed-in user see such a page grants nothing.
            Policy::SkipIfAuthenticated => Some(match user {
                Some(_) if !asks_to_reauthenticate(req) => Err(DenyKind::AlreadyAuthenticated),
                _ => Ok(()),
            }),
        }
    }

    fn answer(
        &self,
        req: &HttpRequest,
        state: &RequestState,
        verdict: Result<(), DenyKind>,
        decided_by: impl FnOnce() -> Option<String>,
    ) -> Result<(), Error> {
        verdict.map_err(|kind| {
            // Only guards announce denials: an extractor's refusal may be an `Option<..>` that
            // lets the request through.
            state.config.emit(SecurityEvent::Denied {
                kind,
                path: req.path().to_owned(),
                decided_by: decided_by(),
            });
            deny_for(req, state, kind, &self.overrides).into()
        })
    }
}

/// What the access manifest reads of a guard.
impl Guard {
    /// The rule, or `None` for anonymous-only.
    pub(crate) fn rule(&self) -> Option<&Rule> {
        match &self.policy {
            Policy::Require(rule) => Some(rule),
            Policy::SkipIfAuthenticated => None,
        }
    }

    /// The denial answer this guard gives instead of the configured one.
    #[cfg(feature = "utoipa")]
    pub(crate) fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// The verdict for `user` at `now` without running any check (the access table evaluates
    /// made-up users); `None` when a check would decide. A signed-in user on an anonymous-only
    /// page is refused, as on a request without `reason=reauthenticate`.
    pub(crate) fn verdict_without_checks(
        &self,
        user: Option<&AuthUser>,
        now: i64,
    ) -> Option<Result<(), DenyKind>> {
        match &self.policy {
            Policy::Require(rule) => rule.decide_without_checks(user, now),
            Policy::SkipIfAuthenticated => Some(match user {
                Some(_) => Err(DenyKind::AlreadyAuthenticated),
                None => Ok(()),
            }),
        }
    }
}

/// What [`Guard::check_now`] found: the answer, or that the rule needs its policies (with the
/// rule's evaluation over their answers, when it has one).
enum Now {
    Decided(Result<(), Error>),
    NeedsPolicies(Option<Evaluation>),
}

/// Whether `req`'s query carries `reason=reauthenticate`, as a `fresh` denial writes it.
fn asks_to_reauthenticate(req: &HttpRequest) -> bool {
    req.query_string()
        .split('&')
        .any(|pair| pair == "reason=reauthenticate")
}

/// A [`Guard`] with a custom denial answer, not yet checked: [`GuardBuilder::build`] checks it.
/// Made by [`Guard::redirect`] and [`Guard::status`].
#[derive(Debug, Clone)]
#[must_use = "a GuardBuilder guards nothing: call `.build()` for the Guard"]
pub struct GuardBuilder {
    guard: Guard,
}

impl GuardBuilder {
    /// See [`Guard::redirect`].
    pub fn redirect(mut self, to: impl Into<Cow<'static, str>>) -> Self {
        self.guard.overrides.redirect = Some(to.into());
        self
    }

    /// See [`Guard::status`].
    pub fn status(mut self, status: u16) -> Self {
        self.guard.overrides.status = Some(status);
        self
    }

    /// The guard, or why its answer is refused: the redirect target is not a same-origin path,
    /// or the status is not an error status (without a redirect) or a redirect status (with
    /// one). The macros refuse the same values at compile time, with the same rules
    /// (`session_rules`).
    ///
    /// ```
    /// use session_core::{Guard, GuardError, Rule};
    ///
    /// let refused = Guard::require(Rule::authenticated()).status(303).build();
    /// assert_eq!(refused.unwrap_err(), GuardError::Status { status: 303, with_redirect: false });
    /// ```
    pub fn build(self) -> Result<Guard, GuardError> {
        let Overrides { redirect, status } = &self.guard.overrides;
        match answer_problem(redirect.as_deref(), *status) {
            Ok(()) => Ok(self.guard),
            Err(AnswerProblem::Redirect(problem)) => Err(GuardError::Redirect {
                to: redirect.as_deref().unwrap_or_default().to_owned(),
                problem: problem.message(),
            }),
            Err(AnswerProblem::Status(_)) => Err(GuardError::Status {
                status: status.unwrap_or_default(),
                with_redirect: redirect.is_some(),
            }),
        }
    }
}

impl TryFrom<GuardBuilder> for Guard {
    type Error = GuardError;

    fn try_from(builder: GuardBuilder) -> Result<Self, GuardError> {
        builder.build()
    }
}

/// What is wrong with a denial answer.
enum AnswerProblem {
    Redirect(RedirectProblem),
    Status(StatusProblem),
}

/// The rules every custom denial answer follows, from the macros' or the runtime API: the
/// redirect target is a same-origin path; the status is a redirect status with a redirect and an
/// error status without one. `const`, so macro-generated guards are checked while compiling.
const fn answer_problem(redirect: Option<&str>, status: Option<u16>) -> Result<(), AnswerProblem> {
    if let Some(to) = redirect {
        if let Err(problem) = same_origin_path(to) {
            return Err(AnswerProblem::Redirect(problem));
        }
    }
    if let Some(status) = status {
        if let Err(problem) = denial_status(status, redirect.is_some()) {
            return Err(AnswerProblem::Status(problem));
        }
    }
    Ok(())
}

/// A denial answer written by a macro, before [`Answer::checked`]. Not API.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    redirect: Option<&'static str>,
    status: Option<u16>,
}

/// An [`Answer`] that passed the rules of [`GuardBuilder::build`]. Not API.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct CheckedAnswer(Answer);

impl Answer {
    /// No redirect, no status.
    pub const NONE: Self = Self {
        redirect: None,
        status: None,
    };

    /// With `redirect = to`.
    pub const fn redirect(self, to: &'static str) -> Self {
        Self {
            redirect: Some(to),
            ..self
        }
    }

    /// With `status = status`.
    pub const fn status(self, status: u16) -> Self {
        Self {
            status: Some(status),
            ..self
        }
    }

    /// The answer, checked by the rules of [`GuardBuilder::build`]; panics when they refuse it.
    /// Generated code evaluates it in a `const` item, where that panic is a compile error, so a
    /// macro-generated guard has no failure at run time and no way around the rules. (The macro
    /// has already refused such an answer with an error on the offending literal.)
    pub const fn checked(self) -> CheckedAnswer {
        match answer_problem(self.redirect, self.status) {
            Ok(()) => CheckedAnswer(self),
            Err(AnswerProblem::Redirect(problem)) => panic!("{}", problem.message()),
            Err(AnswerProblem::Status(problem)) => panic!("{}", problem.message()),
        }
    }
}

/// The check of `guard` for `req` as a future that owns what it needs: ready at once unless the
/// rule has policies to run.
pub(crate) fn checking<G>(guard: G, req: &HttpRequest) -> Checking
where
    G: Deref<Target = Guard> + 'static,
{
    match RequestState::from_request(req) {
        Ok(state) => checking_with(guard, req, state),
        Err(e) => Either::left(ready(Err(e.into()))),
    }
}

/// [`checking`] with the request's state at hand.
fn checking_with<G>(guard: G, req: &HttpRequest, state: Arc<RequestState>) -> Checking
where
    G: Deref<Target = Guard> + 'static,
{
    let user = signed_in_user(&state);
    match guard.check_now(req, &state, user.as_ref()) {
        Now::Decided(verdict) => Either::left(ready(verdict)),
        Now::NeedsPolicies(evaluation) => {
            let req = req.clone();
            Either::right(Box::pin(async move {
                guard.check_async(&req, &state, evaluation).await
            }))
        }
    }
}

/// What [`checking`] returns (`T = ()`), and what [`Guarded`] waits for (`T` = its user): a
/// verdict ready at once, or a boxed future when policies must run.
pub(crate) type Checking<T = ()> =
    Either<Ready<Result<T, Error>>, Pin<Box<dyn Future<Output = Result<T, Error>>>>>;

/// A guard known by type, so it can be an extractor parameter. Implemented by macro-generated
/// types; `guard()` returns the guard built once, at first use.
pub trait GuardSpec: 'static {
    /// The guard to check.
    fn guard() -> &'static Guard;
}

/// An extractor that succeeds only when `G`'s guard lets the request through, and then yields
/// `U`: nothing (`()`), or the signed-in [`AuthUser`] the guard judged. The macros insert it as
/// a handler's first parameter, so a denied request never reaches the other extractors (its
/// body is never read) nor the handler. For a guard that requires a signed-in user, they fold
/// the handler's first `AuthUser` parameter into it (`Guarded { user, .. }: Guarded<G, AuthUser>`),
/// so the user comes from the same request-state lookup and is the very one the rule judged.
/// (Braced, so that the pattern `Guarded { user, .. }` may leave the private field out.)
pub struct Guarded<G: GuardSpec, U: GuardedUser = ()> {
    /// What the guard hands over.
    pub user: U,
    guard: PhantomData<fn() -> G>,
}

/// What a [`Guarded`] extractor yields once its guard lets the request through: `()`, or the
/// signed-in [`AuthUser`]. Not API.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a guard attribute can hand over only `session_core::AuthUser`, not `{Self}`",
    label = "this parameter is named `AuthUser` but is not `session_core::AuthUser`",
    note = "a guard attribute takes the handler's first parameter of a type named `AuthUser` as the signed-in user; use `session_core::AuthUser` there, or rename this type"
)]
pub trait GuardedUser: Sized + 'static {
    /// What the handler gets, given the request's signed-in user (the one the guard judged);
    /// `None` when there is none to give (the caller then denies as unauthenticated).
    fn handed_over(user: Option<AuthUser>) -> Option<Self>;
}

impl GuardedUser for () {
    fn handed_over(_: Option<AuthUser>) -> Option<Self> {
        Some(())
    }
}

/// Only require-kind guards hand the user over (the macros never fold `AuthUser` into a
/// `skip_if_authenticated` guard, whose pass means "anonymous"): a require rule passes only for
/// a signed-in user, so `user` is `Some`. Were it `None` (a hand-written
/// `Guarded<anonymous-only, AuthUser>`), the request is denied as unauthenticated, like the
/// `AuthUser` extractor would; it never reaches the handler without a user.
impl GuardedUser for AuthUser {
    fn handed_over(user: Option<AuthUser>) -> Option<Self> {
        user
    }
}

impl<G: GuardSpec, U: GuardedUser> fmt::Debug for Guarded<G, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Guarded").field(G::guard()).finish()
    }
}

/// `user` handed over after a guard let the request through, or the unauthenticated denial.
fn hand_over<U: GuardedUser>(
    user: Option<AuthUser>,
    req: &HttpRequest,
    state: &RequestState,
) -> Result<U, Error> {
    U::handed_over(user).ok_or_else(|| {
        deny_for(req, state, DenyKind::Unauthenticated, &Overrides::default()).into()
    })
}

/// Invariant: a handler's other extractors learn nothing from a request a guard has not let
/// through. Actix builds all of a handler's extractors at once and polls each of them while
/// another is pending, so a guard that must wait (for a policy) shuts a [`Gate`] behind itself:
/// the body is handed on only through the gate (a body extractor waits, the body is not read),
/// and a later guard waits for it before it decides, so stacked guards answer top to bottom.
/// A guard that decides at once (no policy to wait for, no earlier guard pending) sets no gate.
///
/// The user handed over (`U`) is the one the check judged, built once from the request state
/// the check read, and handed over only when the guard lets the request through (after it
/// opened its gate, when it shut one): a denied request yields no user.
impl<G: GuardSpec, U: GuardedUser> FromRequest for Guarded<G, U> {
    type Error = Error;
    type Future = Checking<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = match RequestState::from_request(req) {
            Ok(state) => state,
            Err(e) => return Either::left(ready(Err(e.into()))),
        };
        let guard = G::guard();
        match state.shut_gate() {
            None => {
                let user = signed_in_user(&state);
                match guard.check_now(req, &state, user.as_ref()) {
                    Now::Decided(verdict) => {
                        let handed = verdict.and_then(|()| hand_over(user, req, &state));
                        Either::left(ready(handed.map(Self::new)))
                    }
                    Now::NeedsPolicies(evaluation) => {
                        let (req, waiting) = (req.clone(), Arc::clone(&state));
                        Self::waiting(&state, payload, async move {
                            guard.check_async(&req, &waiting, evaluation).await?;
                            hand_over(user, &req, &waiting)
                        })
                    }
                }
            }
            Some(earlier) => {
                let (req, waiting) = (req.clone(), Arc::clone(&state));
                Self::waiting(&state, payload, async move {
                    earlier.opened().await;
                    guard.check(&req).await?;
                    hand_over(signed_in_user(&waiting), &req, &waiting)
                })
            }
        }
    }
}

impl<G: GuardSpec, U: GuardedUser> Guarded<G, U> {
    fn new(user: U) -> Self {
        Self {
            user,
            guard: PhantomData,
        }
    }

    /// A guard that must wait for `check` (its policies, or an earlier guard): shuts a gate
    /// behind itself, which holds the body back and makes later guards wait, and opens it only
    /// when `check` lets the request through.
    fn waiting(
        state: &RequestState,
        payload: &mut Payload,
        check: impl Future<Output = Result<U, Error>> + 'static,
    ) -> Checking<Self> {
        let gate = Gate::default();
        state.set_gate(gate.clone());
        gate.hold(payload);
        Either::right(Box::pin(async move {
            let user = check.await?;
            gate.open();
            Ok(Self::new(user))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What macro-generated code does: an accepted answer becomes the guard's overrides.
    #[test]
    fn checked_answers_become_the_overrides() {
        const ANSWER: CheckedAnswer = Answer::NONE.redirect("/signin").status(307).checked();
        let guard = Guard::require(Rule::authenticated()).answering(ANSWER);
        let want = Overrides {
            redirect: Some("/signin".into()),
            status: Some(307),
        };
        assert_eq!(guard.overrides, want);
    }

    /// The macros refuse such an answer first; were one to get through, `checked` still refuses
    /// it, in the generated `const` item, which makes it a compile error.
    #[test]
    #[should_panic(expected = "must be an error status in 400..=599")]
    fn checked_refuses_a_status_that_does_not_deny() {
        let _ = Answer::NONE.status(200).checked();
    }

    #[test]
    #[should_panic(expected = "must not start with `//`")]
    fn checked_refuses_an_off_site_redirect() {
        let _ = Answer::NONE.redirect("//evil.example").checked();
    }
}
