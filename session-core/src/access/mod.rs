//! Who can reach what: the access manifest, read from the code.
//!
//! Every handler carrying a guard attribute (`#[login_required]`, `#[authorize(..)]`, ...) or
//! `#[public]` registers an [`Entry`] while compiling: its method and path (read from the route
//! attribute written *below* the guard), its rule, its source location. [`manifest`] lists them;
//! [`table`] evaluates them for sample [`Principal`]s with the real rule evaluator and role
//! table, so an app can snapshot who reaches which route and see a widening in review.
//!
//! ```
//! use actix_web::{get, Responder};
//! use session_core::{access::{self, Principal}, prelude::*};
//!
//! #[login_required]
//! #[get("/dashboard")]
//! async fn dashboard(user: AuthUser) -> impl Responder {
//!     user.id().to_owned()
//! }
//!
//! let entries = access::manifest()
//!     .into_iter()
//!     .filter(|entry| entry.module() == module_path!());
//! let table = access::table(
//!     entries,
//!     &[Principal::anonymous(), Principal::user("member")],
//!     None,
//! );
//! assert_eq!(
//!     table.markdown(),
//!     "| route | handler | rule | anonymous | member |\n\
//!      | --- | --- | --- | --- | --- |\n\
//!      | GET /dashboard | dashboard | authenticated | no: sign in | yes |\n"
//! );
//! ```
//!
//! Entries come from `inventory`: they are collected when the program starts, from every crate
//! linked into it, so a test binary also lists the handlers of the libraries it uses (filter by
//! [`Entry::module`]).

use std::fmt;

use crate::guard::Guard;

pub(crate) mod guarded;
#[cfg(feature = "utoipa")]
mod openapi;
mod table;
mod unlisted;

#[cfg(feature = "utoipa")]
pub use self::openapi::OpenApiSecurity;
pub use self::{
    guarded::{guarded, Covered, GuardedRoutes},
    table::{table, Principal, Reach, Table},
    unlisted::DenyUnlisted,
};

/// One guarded or public handler, as its attribute registered it.
#[derive(Debug)]
pub struct Entry {
    name: &'static str,
    module: &'static str,
    file: &'static str,
    line: u32,
    routes: &'static [Route],
    access: Access,
}

/// A method and path from a route attribute (`#[get("/notes/{id}")]` gives `GET /notes/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    method: &'static str,
    path: &'static str,
}

/// What an entry admits: everyone, or what its guards let through (in order, all must pass).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// `#[public]`.
    Public,
    /// The guards of the handler's attributes, top to bottom.
    Guarded(&'static [fn() -> &'static Guard]),
}

inventory::collect!(Entry);

impl Entry {
    /// What generated code registers. Not API.
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
        routes: &'static [Route],
        access: Access,
    ) -> Self {
        Self {
            name,
            module,
            file,
            line,
            routes,
            access,
        }
    }

    /// The handler's name.
    pub fn handler(&self) -> &'static str {
        self.name
    }

    /// The module the handler is in (`module_path!()`).
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The source file of the handler (`file!()`).
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the handler's name in [`Entry::file`].
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The routes of the route attribute below the guard; empty when the attribute saw none:
    /// a handler registered by `web::get().to(..)`, or one whose route attribute is written
    /// above the guard (actix's macro then hides it from ours; write the guard first).
    pub fn routes(&self) -> &'static [Route] {
        self.routes
    }

    /// Whether the handler is `#[public]`.
    pub fn is_public(&self) -> bool {
        matches!(self.access, Access::Public)
    }

    /// The rule in its normalized form: `public`, `anonymous` (`#[skip_if_authenticated]`),
    /// or the rule's [`Rule`](crate::Rule) `Display` (`all(role=admin, fresh=600)`); stacked guards join
    /// with `all(..)`.
    pub fn rule(&self) -> String {
        let parts: Vec<String> = self.guards().map(describe).collect();
        match parts.as_slice() {
            [] => "public".to_owned(),
            [one] => one.clone(),
            many => format!("all({})", many.join(", ")),
        }
    }

    /// The handler's guards, top to bottom (none when public).
    pub(crate) fn guards(&self) -> impl Iterator<Item = &'static Guard> {
        let guards: &'static [fn() -> &'static Guard] = match self.access {
            Access::Public => &[],
            Access::Guarded(guards) => guards,
        };
        guards.iter().map(|guard| guard())
    }

    /// The source location, `file:line`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

fn describe(guard: &Guard) -> String {
    match guard.rule() {
        Some(rule) => rule.to_string(),
        None => "anonymous".to_owned(),
    }
}

impl Route {
    /// What generated code registers. Not API.
    #[doc(hidden)]
    pub const fn new(method: &'static str, path: &'static str) -> Self {
        Self { method, path }
    }

    /// The HTTP method, upper case (`GET`).
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The path pattern as written in the attribute (`/notes/{id}`).
    pub fn path(&self) -> &'static str {
        self.path
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Every guarded or public handler of the program, sorted by path, method, then handler; those
/// without a route attribute below their guard last.
pub fn manifest() -> Vec<&'static Entry> {
    let mut entries: Vec<&'static Entry> = inventory::iter::<Entry>.into_iter().collect();
    entries.sort_by_key(|entry| {
        let first = entry.routes.first().map(|r| (r.path, r.method));
        (first.is_none(), first, entry.module, entry.name, entry.line)
    });
    entries
}
