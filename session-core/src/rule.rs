//! Access rules and their one evaluator, shared by the macros and [`crate::Require`].

use std::{borrow::Cow, fmt};

use crate::{deny::DenyKind, user::AuthUser};

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
    Any(Vec<Rule>),
    All(Vec<Rule>),
    Not(Box<Rule>),
    Check(fn(&AuthUser) -> bool),
    Fresh(i64),
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

    /// A user for whom `check` returns `true`.
    pub fn check(check: fn(&AuthUser) -> bool) -> Self {
        Self(Node::Check(check))
    }

    /// A user who logged in at most `secs` seconds ago.
    pub fn fresh(secs: u64) -> Self {
        Self(Node::Fresh(i64::try_from(secs).unwrap_or(i64::MAX)))
    }

    /// Decides `user`'s access at `now`: `Ok` or the kind of denial.
    ///
    /// Anonymous → `Unauthenticated`. A signed-in user refused only because of a `fresh`
    /// requirement (the rule passes when every `fresh` holds) → `Reauthenticate`; otherwise
    /// `Forbidden`.
    pub(crate) fn evaluate(&self, user: Option<&AuthUser>, now: i64) -> Result<(), DenyKind> {
        let user = user.ok_or(DenyKind::Unauthenticated)?;
        if self.holds(user, Some(now)) {
            Ok(())
        } else if self.holds(user, None) {
            Err(DenyKind::Reauthenticate)
        } else {
            Err(DenyKind::Forbidden)
        }
    }

    /// The boolean tree; with `now == None` every `fresh` counts as met.
    fn holds(&self, user: &AuthUser, now: Option<i64>) -> bool {
        match &self.0 {
            Node::Authenticated => true,
            Node::Role(role) => user.has_role(role),
            Node::Any(rules) => rules.iter().any(|r| r.holds(user, now)),
            Node::All(rules) => rules.iter().all(|r| r.holds(user, now)),
            Node::Not(rule) => !rule.holds(user, now),
            Node::Check(check) => check(user),
            Node::Fresh(secs) => {
                now.is_none_or(|now| now.saturating_sub(user.auth_time()) <= *secs)
            }
        }
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Node::Authenticated => f.write_str("authenticated"),
            Node::Role(role) => write!(f, "role = {role:?}"),
            Node::Any(rules) => write!(f, "any{rules:?}"),
            Node::All(rules) => write!(f, "all{rules:?}"),
            Node::Not(rule) => write!(f, "not({rule:?})"),
            Node::Check(_) => f.write_str("check = <fn>"),
            Node::Fresh(secs) => write!(f, "fresh = {secs}"),
        }
    }
}
