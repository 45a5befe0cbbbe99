//! Access rules and their one evaluator, shared by the macros and [`crate::Require`].

use std::{borrow::Cow, cell::Cell, fmt, sync::Arc};

use crate::{
    authz::{PermissionName, RoleTable},
    deny::DenyKind,
    policy::{name_of, Policy, PolicyFn},
    user::AuthUser,
};

/// A role name that an app's role enum can provide, for typed roles:
/// `#[require_role(Role::Admin)]`.
///
/// ```
/// use session_core::RoleName;
/// enum Role { Admin, Editor }
/// impl RoleName for Role {
///     fn role_name(&self) -> &str {
///         match self { Role::Admin => "admin", Role::Editor => "editor" }
///     }
/// }
/// ```
pub trait RoleName {
    /// The role as stored in the session.
    fn role_name(&self) -> &str;
}

impl RoleName for str {
    fn role_name(&self) -> &str {
        self
    }
}

impl RoleName for String {
    fn role_name(&self) -> &str {
        self
    }
}

impl<T: RoleName + ?Sized> RoleName for &T {
    fn role_name(&self) -> &str {
        (**self).role_name()
    }
}

/// An access rule over the signed-in user. Every rule requires a signed-in user.
///
/// ```
/// use session_core::Rule;
/// let rule = Rule::any([Rule::role("admin"), Rule::all([Rule::role("editor"), Rule::not(Rule::role("suspended"))])]);
/// # let _ = rule;
/// ```
#[derive(Clone)]
pub struct Rule(Node);

#[derive(Clone)]
enum Node {
    Authenticated,
    Role(Cow<'static, str>),
    Permission(Cow<'static, str>),
    Any(Vec<Rule>),
    All(Vec<Rule>),
    Not(Box<Rule>),
    Check(Arc<dyn Fn(&AuthUser) -> bool + Send + Sync>),
    Policy(PolicyFn),
    Fresh(i64),
}

/// Markers telling the two kinds of [`Check`] apart; inferred, never written by apps.
#[doc(hidden)]
pub mod check_kind {
    /// `fn(&AuthUser) -> bool`.
    #[derive(Debug)]
    pub enum Sync {}
    /// A policy (an `async fn` over body-free extractors) with these parameters.
    #[derive(Debug)]
    pub struct Async<Args>(std::marker::PhantomData<Args>);
}

/// A predicate for `check = path` and [`Rule::check`]: a plain `fn(&AuthUser) -> bool`, which
/// decides without I/O, or an `async fn` such as `async fn(AuthUser, HttpRequest) -> bool`,
/// which is a [`Policy`] (the same mechanism as `policy = ..`, and named like one in rules and
/// denial events). Async checks run only when the rest of the rule cannot decide without them.
///
/// ```
/// use actix_web::{web, HttpRequest};
/// use session_core::{AuthUser, Rule};
///
/// fn is_staff(user: &AuthUser) -> bool {
///     user.id().starts_with("staff-")
/// }
///
/// async fn owns_the_post(user: AuthUser, req: HttpRequest) -> bool {
///     let owners = req.app_data::<web::Data<Vec<String>>>();
///     owners.is_some_and(|owners| owners.iter().any(|o| o == user.id()))
/// }
///
/// let rule = Rule::any([Rule::check(is_staff), Rule::check(owns_the_post)]);
/// # let _ = rule;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a guard check",
    label = "expected `fn(&AuthUser) -> bool`, or an `async fn` policy such as `async fn(AuthUser, HttpRequest) -> bool`",
    note = "a check is a function `fn(user: &AuthUser) -> bool`, or a policy: an `async fn` whose parameters are body-free extractors (AuthUser, web::Path, web::Data, HttpRequest, ...) returning `bool` or `Result<bool, E>`"
)]
pub trait Check<Kind>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_rule(self) -> Rule;
}

impl<F> Check<check_kind::Sync> for F
where
    F: Fn(&AuthUser) -> bool + Send + Sync + 'static,
{
    fn into_rule(self) -> Rule {
        Rule(Node::Check(Arc::new(self)))
    }
}

impl<F, Args> Check<check_kind::Async<Args>> for F
where
    F: Policy<Args>,
{
    fn into_rule(self) -> Rule {
        Rule::policy(self)
    }
}

/// The answers of a rule's policies, in the order [`Rule::policies`] lists them; a policy with
/// no answer (not run yet, or past the end) counts as unknown.
struct Answers<'a> {
    values: &'a [Option<bool>],
    next: Cell<usize>,
    /// Whether sync checks run; when not, they count as unknown, like unanswered policies.
    run_checks: bool,
}

impl Answers<'_> {
    fn next(&self) -> Option<bool> {
        let index = self.next.get();
        self.next.set(index + 1);
        self.values.get(index).copied().flatten()
    }
}

impl Rule {
    /// Any signed-in user.
    pub fn authenticated() -> Self {
        Self(Node::Authenticated)
    }

    /// A user with this role.
    pub fn role(role: impl Into<Cow<'static, str>>) -> Self {
        Self(Node::Role(role.into()))
    }

    /// A user with this typed role.
    pub fn role_name<R: RoleName>(role: R) -> Self {
        Self(Node::Role(Cow::Owned(role.role_name().to_owned())))
    }

    /// A user with this permission (see [`AuthUser::has_permission`]).
    pub fn permission(permission: impl Into<Cow<'static, str>>) -> Self {
        Self(Node::Permission(permission.into()))
    }

    /// A user with this typed permission.
    pub fn permission_name<P: PermissionName>(permission: P) -> Self {
        Self(Node::Permission(Cow::Owned(
            permission.permission_name().to_owned(),
        )))
    }

    /// At least one of `rules` (an empty list never passes).
    pub fn any(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self(Node::Any(rules.into_iter().collect()))
    }

    /// Every one of `rules` (an empty list passes any signed-in user).
    pub fn all(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self(Node::All(rules.into_iter().collect()))
    }

    /// The opposite of `rule` (still for signed-in users only).
    #[allow(clippy::should_implement_trait)]
    pub fn not(rule: Rule) -> Self {
        Self(Node::Not(Box::new(rule)))
    }

    /// A user for whom `check` returns `true`: a `fn(&AuthUser) -> bool`, or an `async fn`
    /// that is a [`Policy`] (see [`Check`]).
    pub fn check<Kind>(check: impl Check<Kind>) -> Self {
        check.into_rule()
    }

    /// A request for which `policy` answers `true` (or `Ok(true)`): a resource policy, an `async
    /// fn` over body-free extractors (see [`Policy`]). It runs last, only when every atom that
    /// decides without I/O leaves the rule undecided. `Ok(false)` denies; an extractor's failure
    /// answers as the extractor would; `Err` answers 503 with `Retry-After`, and is logged.
    /// Shown as `policy=<fn name>`.
    pub fn policy<P: Policy<Args>, Args>(policy: P) -> Self {
        Self(Node::Policy(policy.into_fn(name_of::<P>())))
    }

    /// A user who logged in at most `secs` seconds ago.
    pub fn fresh(secs: u64) -> Self {
        Self(Node::Fresh(i64::try_from(secs).unwrap_or(i64::MAX)))
    }

    /// Decides `user`'s access at `now`: `Ok` or the kind of denial; `None` when the answer
    /// depends on policies with no answer in `answers` (theirs, in [`Rule::policies`] order).
    ///
    /// Anonymous → `Unauthenticated`. A signed-in user refused only because of a `fresh`
    /// requirement (the rule passes when every `fresh` holds) → `Reauthenticate`; otherwise
    /// `Forbidden`.
    pub(crate) fn decide(
        &self,
        user: Option<&AuthUser>,
        now: i64,
        answers: &[Option<bool>],
    ) -> Option<Result<(), DenyKind>> {
        let Some(user) = user else {
            return Some(Err(DenyKind::Unauthenticated));
        };
        match self.evaluate(user, now) {
            Some(evaluation) => evaluation.decide(answers),
            None => self.decide_kleene(user, now, answers, true),
        }
    }

    /// [`Rule::decide`] without running any check or policy: `None` when one would decide. For
    /// the access table, which evaluates rules for made-up users and must not call the app's
    /// predicates with them.
    pub(crate) fn decide_without_checks(
        &self,
        user: Option<&AuthUser>,
        now: i64,
    ) -> Option<Result<(), DenyKind>> {
        let Some(user) = user else {
            return Some(Err(DenyKind::Unauthenticated));
        };
        self.decide_kleene(user, now, &[], false)
    }

    /// `decide` in three-valued logic, for rules with more than [`MAX_POLICY_BITS`] policies
    /// (and for the access table, with `run_checks` off).
    fn decide_kleene(
        &self,
        user: &AuthUser,
        now: i64,
        answers: &[Option<bool>],
        run_checks: bool,
    ) -> Option<Result<(), DenyKind>> {
        let holds = |now| {
            let answers = Answers {
                values: answers,
                next: Cell::new(0),
                run_checks,
            };
            self.holds(user, now, &answers)
        };
        match holds(Some(now))? {
            true => Some(Ok(())),
            false => match holds(None)? {
                true => Some(Err(DenyKind::Reauthenticate)),
                false => Some(Err(DenyKind::Forbidden)),
            },
        }
    }

    /// The atom that decided a denial of `user`, for the security event: `authenticated` when
    /// nobody is signed in, `fresh` for a reauthentication, otherwise the failing atom
    /// (`role=admin`, `permission=notes:edit`, `check=<fn>`, `not(role=suspended)`), or the
    /// `any(..)` none of whose rules held. `None` when the rule lets the user through.
    pub(crate) fn decided_by(
        &self,
        user: Option<&AuthUser>,
        now: i64,
        answers: &[Option<bool>],
    ) -> Option<String> {
        let Some(user) = user else {
            return Some("authenticated".to_owned());
        };
        let answers = Answers {
            values: answers,
            next: Cell::new(0),
            run_checks: true,
        };
        match self.decide(Some(user), now, answers.values)? {
            Ok(()) => None,
            Err(DenyKind::Reauthenticate) => Some("fresh".to_owned()),
            Err(_) => self.blame(user, now, &answers).1,
        }
    }

    /// The value (as `holds` with `now`) and, when false, the atom to blame. Visits every child
    /// in order, so policies meet their answers as in `holds`.
    fn blame(
        &self,
        user: &AuthUser,
        now: i64,
        answers: &Answers<'_>,
    ) -> (Option<bool>, Option<String>) {
        match &self.0 {
            Node::Any(rules) => {
                let values: Vec<_> = rules.iter().map(|r| r.blame(user, now, answers)).collect();
                let value = Rule(Node::Any(Vec::new())).combine(values.iter().map(|v| v.0));
                (value, (value == Some(false)).then(|| self.to_string()))
            }
            Node::All(rules) => {
                let values: Vec<_> = rules.iter().map(|r| r.blame(user, now, answers)).collect();
                let value = Rule(Node::All(Vec::new())).combine(values.iter().map(|v| v.0));
                let blamed = values.into_iter().find(|v| v.0 == Some(false));
                (value, blamed.and_then(|v| v.1))
            }
            _ => {
                let value = self.holds(user, Some(now), answers);
                (value, (value == Some(false)).then(|| self.to_string()))
            }
        }
    }

    /// Kleene `any`/`all` over child values, as in `holds`.
    fn combine(&self, values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
        let values: Vec<_> = values.collect();
        let (decisive, other) = match &self.0 {
            Node::Any(_) => (true, false),
            _ => (false, true),
        };
        if values.contains(&Some(decisive)) {
            Some(decisive)
        } else if values.contains(&None) {
            None
        } else {
            Some(other)
        }
    }

    /// Whether this rule is exactly [`Rule::authenticated`] (what `#[login_required]` writes):
    /// met by every signed-in user at any time, with no role, check or policy to consult, so a
    /// guard lets a signed-in user through without walking it.
    pub(crate) fn is_authenticated(&self) -> bool {
        matches!(self.0, Node::Authenticated)
    }

    /// The policies of this rule, in the order `holds` meets them.
    pub(crate) fn policies(&self) -> Vec<PolicyFn> {
        let mut policies = Vec::new();
        self.collect_policies(&mut policies);
        policies
    }

    fn collect_policies(&self, out: &mut Vec<PolicyFn>) {
        match &self.0 {
            Node::Any(rules) | Node::All(rules) => {
                rules.iter().for_each(|r| r.collect_policies(out))
            }
            Node::Not(rule) => rule.collect_policies(out),
            Node::Policy(policy) => out.push(policy.clone()),
            Node::Authenticated
            | Node::Role(_)
            | Node::Permission(_)
            | Node::Check(_)
            | Node::Fresh(_) => {}
        }
    }

    /// The tree in three-valued (Kleene) logic: `None` = depends on an unanswered policy.
    /// With `now == None` every `fresh` counts as met. Every child is visited (no short
    /// circuit), so policies meet their answers in `policies` order.
    // `fold`, not `try_fold`: an unknown (`None`) child does not end the walk, every child must
    // be visited so policies meet their answers in order.
    #[allow(clippy::manual_try_fold)]
    fn holds(&self, user: &AuthUser, now: Option<i64>, answers: &Answers<'_>) -> Option<bool> {
        match &self.0 {
            Node::Authenticated => Some(true),
            Node::Role(role) => Some(user.has_role(role)),
            Node::Permission(permission) => Some(user.has_permission(permission)),
            // Kleene `any`/`all`, folded without short circuit (every child meets its answers).
            Node::Any(rules) => rules.iter().map(|r| r.holds(user, now, answers)).fold(
                Some(false),
                |acc, v| match (acc, v) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (None, _) | (_, None) => None,
                    _ => Some(false),
                },
            ),
            Node::All(rules) => {
                rules
                    .iter()
                    .map(|r| r.holds(user, now, answers))
                    .fold(Some(true), |acc, v| match (acc, v) {
                        (Some(false), _) | (_, Some(false)) => Some(false),
                        (None, _) | (_, None) => None,
                        _ => Some(true),
                    })
            }
            Node::Not(rule) => rule.holds(user, now, answers).map(|v| !v),
            Node::Check(check) => answers.run_checks.then(|| check(user)),
            Node::Policy(_) => answers.next(),
            Node::Fresh(secs) => {
                Some(now.is_none_or(|now| now.saturating_sub(user.auth_time()) <= *secs))
            }
        }
    }
}

impl Rule {
    /// Whether a signed-in user may be refused for something else than `fresh`: the rule names
    /// roles, permissions, checks or `not(..)` (conservative: `any(authenticated, role=a)` says
    /// yes). What an OpenAPI document lists as a possible 403.
    #[cfg(feature = "utoipa")]
    pub(crate) fn can_forbid(&self) -> bool {
        match &self.0 {
            Node::Authenticated | Node::Fresh(_) => false,
            Node::Any(rules) | Node::All(rules) => rules.iter().any(Rule::can_forbid),
            _ => true,
        }
    }

    /// The atoms whose answer only the app's code gives (checks and any atom other than
    /// `authenticated`, roles, permissions and `fresh`), in the normalized form, each once.
    pub(crate) fn opaque_atoms(&self) -> Vec<String> {
        let mut atoms = Vec::new();
        self.collect_opaque(&mut atoms);
        atoms
    }

    fn collect_opaque(&self, out: &mut Vec<String>) {
        match &self.0 {
            Node::Any(rules) | Node::All(rules) => rules.iter().for_each(|r| r.collect_opaque(out)),
            Node::Not(rule) => rule.collect_opaque(out),
            Node::Authenticated | Node::Role(_) | Node::Permission(_) | Node::Fresh(_) => {}
            // Checks, and whatever atom the app's code answers.
            _ => {
                let atom = self.to_string();
                if !out.contains(&atom) {
                    out.push(atom);
                }
            }
        }
    }
}

/// Most policies a rule is [evaluated](Rule::evaluate) over at once: 2^6 ways they can answer,
/// one bit each in a `u64`.
pub(crate) const MAX_POLICY_BITS: usize = 6;

/// Bit `j` set when policy `i` answers `true` in assignment `j` (bit `i` of `j`).
const POLICY_PATTERNS: [u64; MAX_POLICY_BITS] = [
    0xAAAA_AAAA_AAAA_AAAA,
    0xCCCC_CCCC_CCCC_CCCC,
    0xF0F0_F0F0_F0F0_F0F0,
    0xFF00_FF00_FF00_FF00,
    0xFFFF_0000_FFFF_0000,
    0xFFFF_FFFF_0000_0000,
];

/// A rule evaluated for one user at one instant over every way its policies can answer: bit `j`
/// of a mask is the rule's value when policy `i` answers bit `i` of `j`. One walk of the tree
/// serves the decision before any policy runs and after each answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Evaluation {
    /// The rule at `now`.
    now: u64,
    /// The rule with every `fresh` met (a refusal only `fresh` causes is a reauthentication).
    met: u64,
    /// The assignments there are (bits `0..2^policies`).
    all: u64,
}

impl Evaluation {
    /// The decision given `answers` (by policy, in [`Rule::policies`] order; `None` = not run):
    /// `None` while the rule's value still depends on an unanswered policy.
    pub(crate) fn decide(&self, answers: &[Option<bool>]) -> Option<Result<(), DenyKind>> {
        // The assignments the answers so far allow.
        let possible = answers.iter().zip(POLICY_PATTERNS).fold(
            self.all,
            |set, (answer, pattern)| match answer {
                Some(true) => set & pattern,
                Some(false) => set & !pattern,
                None => set,
            },
        );
        let always = |mask: u64| mask & possible == possible;
        let never = |mask: u64| mask & possible == 0;
        if always(self.now) {
            Some(Ok(()))
        } else if !never(self.now) {
            None
        } else if always(self.met) {
            Some(Err(DenyKind::Reauthenticate))
        } else if never(self.met) {
            Some(Err(DenyKind::Forbidden))
        } else {
            None
        }
    }
}

impl Rule {
    /// The rule for `user` at `now` over every answer of its policies; `None` when it has more
    /// than [`MAX_POLICY_BITS`] policies.
    pub(crate) fn evaluate(&self, user: &AuthUser, now: i64) -> Option<Evaluation> {
        let next = Cell::new(0);
        let (now, met) = self.masks(user, now, &next);
        let all = match next.get() {
            n if n > MAX_POLICY_BITS => return None,
            MAX_POLICY_BITS => u64::MAX,
            n => (1u64 << (1u32 << n)) - 1,
        };
        Some(Evaluation { now, met, all })
    }

    /// [`Rule::evaluate`] for a rule without policies (the caller knows: [`Rule::policies`] is
    /// empty): one walk over booleans that stops as soon as the rest of an `any`/`all` cannot
    /// change either value, instead of the masks over every policy answer.
    pub(crate) fn evaluate_without_policies(&self, user: &AuthUser, now: i64) -> Evaluation {
        let splat = |value: bool| if value { 1 } else { 0 };
        let (at_now, met) = self.values(user, now);
        Evaluation {
            now: splat(at_now),
            met: splat(met),
            all: 1,
        }
    }

    /// The rule's value at `now` and with every `fresh` met, for a rule without policies (a
    /// policy would count as refused: never reached, see `evaluate_without_policies`).
    fn values(&self, user: &AuthUser, now: i64) -> (bool, bool) {
        match &self.0 {
            Node::Authenticated => (true, true),
            Node::Role(role) => {
                let value = user.has_role(role);
                (value, value)
            }
            Node::Permission(p) => {
                let value = user.has_permission(p);
                (value, value)
            }
            Node::Check(check) => {
                let value = check(user);
                (value, value)
            }
            Node::Policy(_) => (false, false),
            Node::Fresh(secs) => (now.saturating_sub(user.auth_time()) <= *secs, true),
            Node::Any(rules) => {
                let mut values = (false, false);
                for rule in rules {
                    let (x, y) = rule.values(user, now);
                    values = (values.0 | x, values.1 | y);
                    if values == (true, true) {
                        break;
                    }
                }
                values
            }
            Node::All(rules) => {
                let mut values = (true, true);
                for rule in rules {
                    let (x, y) = rule.values(user, now);
                    values = (values.0 & x, values.1 & y);
                    if values == (false, false) {
                        break;
                    }
                }
                values
            }
            Node::Not(rule) => {
                let (x, y) = rule.values(user, now);
                (!x, !y)
            }
        }
    }

    /// The masks of [`Evaluation`] (at `now`, with every `fresh` met); `next` numbers the
    /// policies in `policies` order.
    fn masks(&self, user: &AuthUser, now: i64, next: &Cell<usize>) -> (u64, u64) {
        let splat = |value: bool| if value { u64::MAX } else { 0 };
        match &self.0 {
            Node::Authenticated => (u64::MAX, u64::MAX),
            Node::Role(role) => {
                let value = splat(user.has_role(role));
                (value, value)
            }
            Node::Permission(p) => {
                let value = splat(user.has_permission(p));
                (value, value)
            }
            Node::Check(check) => {
                let value = splat(check(user));
                (value, value)
            }
            Node::Policy(_) => {
                let i = next.get();
                next.set(i + 1);
                let pattern = POLICY_PATTERNS.get(i).copied().unwrap_or(0);
                (pattern, pattern)
            }
            Node::Fresh(secs) => (
                splat(now.saturating_sub(user.auth_time()) <= *secs),
                u64::MAX,
            ),
            Node::Any(rules) => rules.iter().fold((0, 0), |(a, b), r| {
                let (x, y) = r.masks(user, now, next);
                (a | x, b | y)
            }),
            Node::All(rules) => rules.iter().fold((u64::MAX, u64::MAX), |(a, b), r| {
                let (x, y) = r.masks(user, now, next);
                (a & x, b & y)
            }),
            Node::Not(rule) => {
                let (x, y) = rule.masks(user, now, next);
                (!x, !y)
            }
        }
    }
}

/// Most distinct atoms [`Rule::under_table`] enumerates (2^12 worlds at most).
const MAX_ATOMS: usize = 12;

/// The atoms of a rule, numbered: roles and permissions by name, every check and `fresh`
/// occurrence on its own.
#[derive(Default)]
struct Atoms {
    roles: Vec<String>,
    permissions: Vec<String>,
    free: usize,
}

impl Atoms {
    fn len(&self) -> usize {
        self.roles.len() + self.permissions.len() + self.free
    }
    fn role(&self, name: &str) -> usize {
        self.roles
            .iter()
            .position(|r| r == name)
            .expect("collected")
    }
    fn permission(&self, name: &str) -> usize {
        self.roles.len()
            + self
                .permissions
                .iter()
                .position(|p| p == name)
                .expect("collected")
    }
}

impl Rule {
    /// What the role table makes of this rule: `Some` with the problem when no user can meet it,
    /// or when every signed-in user does although it names roles or permissions. The macros
    /// cannot see the table, so this is their contradiction/tautology check under a hierarchy.
    ///
    /// Sound, never a false alarm: it enumerates a superset of the possible users (any set of
    /// declared roles, any undeclared role of the rule held directly, any of the rule's
    /// permissions held by the record, every check and `fresh` independently true or false), so
    /// "never" or "always" over those holds for the real users too. `None` (no verdict) above
    /// [`MAX_ATOMS`] atoms.
    pub(crate) fn under_table(&self, table: &RoleTable) -> Option<&'static str> {
        let mut atoms = Atoms::default();
        self.collect_atoms(&mut atoms);
        if atoms.len() > MAX_ATOMS {
            return None;
        }
        let named = atoms.roles.len() + atoms.permissions.len();
        // What holding one role (or one own permission) turns on, as atom bits.
        let mut signatures: Vec<u32> = table
            .declared()
            .map(|held| {
                let roles = atoms.roles.iter().enumerate();
                let permissions = atoms.permissions.iter().enumerate();
                roles
                    .filter(|(_, r)| table.includes(held, r))
                    .map(|(i, _)| 1 << i)
                    .chain(
                        permissions
                            .filter(|(_, p)| table.grants(held, p))
                            .map(|(i, _)| 1 << (atoms.roles.len() + i)),
                    )
                    .fold(0, |a, b| a | b)
            })
            .collect();
        signatures.extend(
            (0..atoms.roles.len())
                .filter(|&i| !table.is_declared(&atoms.roles[i]))
                .map(|i| 1 << i),
        );
        signatures.extend((atoms.roles.len()..named).map(|i| 1 << i));
        let mut reachable = std::collections::BTreeSet::from([0u32]);
        for signature in signatures {
            let more: Vec<u32> = reachable.iter().map(|v| v | signature).collect();
            reachable.extend(more);
        }
        let (mut met, mut unmet) = (false, false);
        for named_bits in reachable {
            for free_bits in 0..1u32 << atoms.free {
                let bits = named_bits | free_bits << named;
                let mut next_free = named;
                match self.eval(&atoms, bits, &mut next_free) {
                    true => met = true,
                    false => unmet = true,
                }
            }
        }
        match (met, unmet) {
            (false, _) => Some("can never be met under the role table"),
            (true, false) if named > 0 => {
                Some("is met by every signed-in user under the role table")
            }
            _ => None,
        }
    }

    fn collect_atoms(&self, atoms: &mut Atoms) {
        match &self.0 {
            Node::Role(role) if !atoms.roles.iter().any(|r| r == role) => {
                atoms.roles.push(role.to_string());
            }
            Node::Permission(p) if !atoms.permissions.iter().any(|q| q == p) => {
                atoms.permissions.push(p.to_string());
            }
            Node::Check(_) | Node::Policy(_) | Node::Fresh(_) => atoms.free += 1,
            Node::Any(rules) | Node::All(rules) => {
                rules.iter().for_each(|r| r.collect_atoms(atoms))
            }
            Node::Not(rule) => rule.collect_atoms(atoms),
            Node::Authenticated | Node::Role(_) | Node::Permission(_) => {}
        }
    }

    /// The rule under `bits` (bit `i` = atom `i`); `next_free` numbers the free atoms in the
    /// order `collect_atoms` met them. Every child is visited, so the numbering stays aligned.
    fn eval(&self, atoms: &Atoms, bits: u32, next_free: &mut usize) -> bool {
        let bit = |i: usize| bits >> i & 1 == 1;
        match &self.0 {
            Node::Authenticated => true,
            Node::Role(role) => bit(atoms.role(role)),
            Node::Permission(p) => bit(atoms.permission(p)),
            Node::Check(_) | Node::Policy(_) | Node::Fresh(_) => {
                *next_free += 1;
                bit(*next_free - 1)
            }
            Node::Any(rules) => rules
                .iter()
                .map(|r| r.eval(atoms, bits, next_free))
                .fold(false, |a, b| a | b),
            Node::All(rules) => rules
                .iter()
                .map(|r| r.eval(atoms, bits, next_free))
                .fold(true, |a, b| a & b),
            Node::Not(rule) => !rule.eval(atoms, bits, next_free),
        }
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Node::Authenticated => f.write_str("authenticated"),
            Node::Role(role) => write!(f, "role = {role:?}"),
            Node::Permission(permission) => write!(f, "permission = {permission:?}"),
            Node::Any(rules) => write!(f, "any{rules:?}"),
            Node::All(rules) => write!(f, "all{rules:?}"),
            Node::Not(rule) => write!(f, "not({rule:?})"),
            Node::Check(_) => f.write_str("check = <fn>"),
            Node::Policy(policy) => write!(f, "policy = {}", policy.name),
            Node::Fresh(secs) => write!(f, "fresh = {secs}"),
        }
    }
}

/// The normalized form, one line: `all(role=admin, not(permission=notes:delete), fresh=300)`.
/// Checks show as `check=<fn>`, policies as `policy=<fn name>`; an access manifest can print
/// rules with it.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, rules: &[Rule]| {
            write!(f, "{name}(")?;
            for (i, rule) in rules.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{rule}")?;
            }
            f.write_str(")")
        };
        match &self.0 {
            Node::Authenticated => f.write_str("authenticated"),
            Node::Role(role) => write!(f, "role={role}"),
            Node::Permission(permission) => write!(f, "permission={permission}"),
            Node::Any(rules) => list(f, "any", rules),
            Node::All(rules) => list(f, "all", rules),
            Node::Not(rule) => write!(f, "not({rule})"),
            Node::Check(_) => f.write_str("check=<fn>"),
            Node::Policy(policy) => write!(f, "policy={}", policy.name),
            Node::Fresh(secs) => write!(f, "fresh={secs}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use actix_web::HttpRequest;

    use super::*;
    use crate::claims::Claims;

    fn given(answers: Option<&[bool]>) -> Vec<Option<bool>> {
        answers.map_or_else(Vec::new, |a| a.iter().map(|&b| Some(b)).collect())
    }

    fn user(roles: &[&str]) -> AuthUser {
        let claims = Claims {
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..Claims::sample()
        };
        AuthUser::new(Arc::new(claims), None, None)
    }

    async fn never(_: AuthUser, _: HttpRequest) -> bool {
        unreachable!("only counted, never run here")
    }

    fn has_a(user: &AuthUser) -> bool {
        user.has_role("a")
    }

    type Case = (
        Rule,
        &'static [&'static str],
        Option<&'static [bool]>,
        Option<Result<(), DenyKind>>,
    );

    /// `decide` over policies: unknown without answers unless the rest decides, and the
    /// answers meet their policies in `policies` order.
    #[test]
    fn three_valued_decisions() {
        let check = || Rule::check(never);
        let cases: Vec<Case> = vec![
            (check(), &[], None, None),
            (check(), &[], Some(&[true]), Some(Ok(()))),
            (check(), &[], Some(&[false]), Some(Err(DenyKind::Forbidden))),
            (
                Rule::any([Rule::role("a"), check()]),
                &["a"],
                None,
                Some(Ok(())),
            ),
            (Rule::any([Rule::role("a"), check()]), &[], None, None),
            (
                Rule::all([Rule::role("a"), check()]),
                &[],
                None,
                Some(Err(DenyKind::Forbidden)),
            ),
            (
                Rule::all([Rule::role("a"), check()]),
                &["a"],
                Some(&[true]),
                Some(Ok(())),
            ),
            (
                Rule::not(check()),
                &[],
                Some(&[true]),
                Some(Err(DenyKind::Forbidden)),
            ),
            (Rule::not(check()), &[], Some(&[false]), Some(Ok(()))),
            // Answers by position: the first check says no, the second yes.
            (
                Rule::all([Rule::not(check()), check()]),
                &[],
                Some(&[false, true]),
                Some(Ok(())),
            ),
            (
                Rule::all([Rule::not(check()), check()]),
                &[],
                Some(&[true, true]),
                Some(Err(DenyKind::Forbidden)),
            ),
            (
                Rule::any([Rule::check(has_a), check()]),
                &["a"],
                None,
                Some(Ok(())),
            ),
            (
                Rule::all([Rule::fresh(0), check()]),
                &[],
                Some(&[true]),
                Some(Err(DenyKind::Reauthenticate)),
            ),
        ];
        for (i, (rule, roles, answers, want)) in cases.into_iter().enumerate() {
            let user = user(roles);
            assert_eq!(
                rule.decide(Some(&user), 10, &given(answers)),
                want,
                "case {i}: {rule:?}"
            );
        }
        assert_eq!(
            Rule::check(never).decide(None, 10, &[]),
            Some(Err(DenyKind::Unauthenticated))
        );
    }

    #[test]
    fn verdicts_under_a_role_table() {
        let table = crate::Authorization::builder()
            .role("admin")
            .includes(["editor"])
            .grants(["notes:delete"])
            .role("editor")
            .grants(["notes:edit"])
            .table()
            .unwrap();
        let impossible = Some("can never be met under the role table");
        let always = Some("is met by every signed-in user under the role table");
        let r = Rule::role;
        let p = Rule::permission;
        let cases = [
            (Rule::all([r("admin"), Rule::not(r("editor"))]), impossible),
            (
                Rule::all([r("admin"), Rule::not(p("notes:edit"))]),
                impossible,
            ),
            (Rule::any([r("editor"), Rule::not(r("admin"))]), always),
            // Fine rules: the editor-but-not-admin rule, plain atoms, an undeclared role.
            (Rule::all([r("editor"), Rule::not(r("admin"))]), None),
            (
                Rule::all([p("notes:edit"), Rule::not(p("notes:delete"))]),
                None,
            ),
            (r("admin"), None),
            (Rule::all([r("ghost"), Rule::not(r("admin"))]), None),
            // A record may hold a permission on its own: not(role) with it is possible.
            (Rule::all([p("notes:delete"), Rule::not(r("admin"))]), None),
            // Checks and fresh are free: the hierarchy part still decides.
            (
                Rule::all([r("admin"), Rule::not(r("editor")), Rule::check(has_a)]),
                impossible,
            ),
            (Rule::all([r("admin"), Rule::fresh(60)]), None),
            (
                Rule::all([Rule::check(never), Rule::not(Rule::check(never))]),
                None,
            ),
            (Rule::authenticated(), None),
        ];
        for (i, (rule, want)) in cases.into_iter().enumerate() {
            assert_eq!(rule.under_table(&table), want, "case {i}: {rule}");
        }
    }

    /// The deciding atom of a denial, for the security event.
    #[test]
    fn denials_name_the_deciding_atom() {
        let r = Rule::role;
        let p = Rule::permission;
        type Blame = (
            Rule,
            &'static [&'static str],
            Option<&'static [bool]>,
            Option<&'static str>,
        );
        let cases: Vec<Blame> = vec![
            (r("admin"), &["editor"], None, Some("role=admin")),
            (r("admin"), &["admin"], None, None),
            (p("notes:edit"), &[], None, Some("permission=notes:edit")),
            (
                Rule::all([r("a"), Rule::not(r("suspended")), p("x")]),
                &["a", "suspended"],
                None,
                Some("not(role=suspended)"),
            ),
            (
                Rule::any([r("a"), p("x")]),
                &[],
                None,
                Some("any(role=a, permission=x)"),
            ),
            (
                Rule::all([r("a"), Rule::fresh(0)]),
                &["a"],
                None,
                Some("fresh"),
            ),
            (
                Rule::all([r("b"), Rule::fresh(0)]),
                &["a"],
                None,
                Some("role=b"),
            ),
            (
                Rule::all([Rule::check(never), Rule::check(has_a)]),
                &[],
                Some(&[true]),
                Some("check=<fn>"),
            ),
            (
                Rule::all([Rule::check(has_a), Rule::check(never)]),
                &["a"],
                Some(&[false]),
                Some("policy=never"),
            ),
        ];
        for (i, (rule, roles, answers, want)) in cases.into_iter().enumerate() {
            let user = user(roles);
            assert_eq!(
                rule.decided_by(Some(&user), 10, &given(answers)).as_deref(),
                want,
                "case {i}: {rule}"
            );
        }
        assert_eq!(
            r("a").decided_by(None, 10, &[]).as_deref(),
            Some("authenticated")
        );
    }

    #[test]
    fn display_is_normalized() {
        let rule = Rule::any([
            Rule::all([
                Rule::role("admin"),
                Rule::not(Rule::permission("notes:delete")),
                Rule::fresh(300),
            ]),
            Rule::check(has_a),
            Rule::check(never),
            Rule::authenticated(),
        ]);
        assert_eq!(
            rule.to_string(),
            "any(all(role=admin, not(permission=notes:delete), fresh=300), check=<fn>, \
             policy=never, authenticated)"
        );
    }

    /// Without policies, the boolean walk (which stops early) decides as the masks do: every
    /// atom, `fresh` inside and outside `not`, and `any`/`all` that stop at each position.
    #[test]
    fn the_walk_without_policies_agrees_with_the_masks() {
        let rules = [
            Rule::authenticated(),
            Rule::role("a"),
            Rule::check(has_a),
            Rule::fresh(5),
            Rule::not(Rule::fresh(5)),
            Rule::any([Rule::role("a"), Rule::role("b")]),
            Rule::any([Rule::fresh(5), Rule::role("b"), Rule::check(has_a)]),
            Rule::all([Rule::role("a"), Rule::not(Rule::role("b")), Rule::fresh(5)]),
            Rule::all([Rule::not(Rule::fresh(5)), Rule::role("a")]),
            Rule::any([
                Rule::all([Rule::role("a"), Rule::fresh(5)]),
                Rule::not(Rule::any([Rule::role("b"), Rule::permission("p")])),
            ]),
        ];
        for (i, rule) in rules.iter().enumerate() {
            assert!(rule.policies().is_empty(), "case {i}");
            for roles in [&[][..], &["a"][..], &["b"][..], &["a", "b"][..]] {
                let user = user(roles);
                for now in [user.auth_time(), user.auth_time() + 10] {
                    let masks = rule.evaluate(&user, now).expect("no policies");
                    let walk = rule.evaluate_without_policies(&user, now);
                    assert_eq!(walk.decide(&[]), masks.decide(&[]), "case {i} {roles:?}");
                }
            }
        }
    }

    /// The one-walk evaluation decides as three-valued logic does, with every answer and with
    /// some missing (each policy occurs once in a rule, so the two agree), and rules with more
    /// policies than it can hold are decided by three-valued logic.
    #[test]
    fn evaluation_agrees_with_three_valued_logic() {
        let p = || Rule::check(never);
        let rules = [
            p(),
            Rule::not(p()),
            Rule::any([Rule::role("a"), p()]),
            Rule::all([Rule::role("a"), p(), Rule::not(p())]),
            Rule::all([Rule::any([p(), Rule::role("b")]), Rule::fresh(5), p()]),
            Rule::any([Rule::all([p(), Rule::fresh(5)]), Rule::not(Rule::role("a"))]),
            Rule::all([p(), p(), p(), p(), p(), p()]),
        ];
        for (i, rule) in rules.iter().enumerate() {
            let k = rule.policies().len();
            for roles in [&[][..], &["a"][..], &["a", "b"][..]] {
                let user = user(roles);
                for now in [user.auth_time(), user.auth_time() + 10] {
                    let evaluation = rule.evaluate(&user, now).expect("at most 6 policies");
                    for bits in 0..1u32 << k {
                        let full: Vec<_> = (0..k).map(|j| Some(bits >> j & 1 == 1)).collect();
                        let kleene = rule.decide_kleene(&user, now, &full, true);
                        assert!(kleene.is_some(), "case {i}: every policy answered");
                        assert_eq!(
                            evaluation.decide(&full),
                            kleene,
                            "case {i} {roles:?} {bits}"
                        );
                        for cut in 0..k {
                            let mut partial = full.clone();
                            partial[cut] = None;
                            assert_eq!(
                                evaluation.decide(&partial),
                                rule.decide_kleene(&user, now, &partial, true),
                                "case {i} {roles:?} {bits} without {cut}"
                            );
                        }
                    }
                }
            }
        }
        let user = user(&[]);
        // Seven policies: no evaluation; `decide` falls back to three-valued logic.
        let seven = Rule::all((0..7).map(|_| p()));
        assert!(seven.evaluate(&user, 0).is_none());
        assert_eq!(seven.decide(Some(&user), 0, &[]), None);
        assert_eq!(
            seven.decide(Some(&user), 0, &[Some(false)]),
            Some(Err(DenyKind::Forbidden))
        );
        assert_eq!(seven.decide(Some(&user), 0, &[Some(true); 7]), Some(Ok(())));
    }

    #[test]
    fn only_the_bare_authenticated_rule_skips_evaluation() {
        assert!(Rule::authenticated().is_authenticated());
        let others = [
            Rule::all([Rule::authenticated()]),
            Rule::not(Rule::authenticated()),
            Rule::all([Rule::authenticated(), Rule::fresh(60)]),
            Rule::role("a"),
            Rule::check(never),
        ];
        for rule in others {
            assert!(!rule.is_authenticated(), "{rule}");
        }
    }

    #[test]
    fn policies_are_listed_in_evaluation_order() {
        let rule = Rule::any([
            Rule::role("a"),
            Rule::all([Rule::check(never), Rule::not(Rule::check(never))]),
            Rule::check(never),
        ]);
        assert_eq!(rule.policies().len(), 3);
        assert!(Rule::role("a").policies().is_empty());
    }
}
