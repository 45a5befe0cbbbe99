//! Attribute macros for `session-core`. Use them through `session_core`, which re-exports them:
//! `use session_core::prelude::*;` brings them all into scope.
//!
//! Each attribute turns an `async fn` handler into a guarded one by inserting an extractor as its
//! first parameter. Actix runs extractors in parameter order and stops at the first failure, so a
//! denied request is answered before any other extractor runs: its body is never read.
//!
//! # Where the attributes work
//!
//! - On free `async fn` handlers, above or below actix-web's `#[get]`, `#[post]`, `#[route]`, ...,
//!   beside `#[tracing::instrument]`, and on plain functions registered with
//!   `web::get().to(handler)`. **Write them above the route attribute**: only then does the
//!   attribute see the route, so the access manifest (`session_core::access`) lists its method and
//!   path and guarded registration (`session_core::access::guarded`) accepts the handler. Below
//!   it, actix's macro has already moved the handler into its service and the guard works, but
//!   the manifest lists the handler without a route.
//! - Stacked attributes combine with AND; their guards run top to bottom, before every other
//!   extractor.
//! - **Not on associated functions in an `impl` block.** The expansion defines a zero-sized struct
//!   beside the handler, and Rust allows no struct inside an `impl`. The attribute says so in one
//!   error on the function's name (it finds the function in its source file); methods taking
//!   `self` are refused with their own message. Write a free function that calls the associated
//!   one instead.
//! - Each attribute adds one parameter, and actix handlers take at most 16.
//!
//! # Expansion
//!
//! ```text
//! #[login_required]
//! async fn dashboard(user: AuthUser) -> impl Responder { .. }
//! ```
//! becomes a hidden zero-sized struct implementing `GuardSpec` (the rule, built once, on first use)
//! and the same function with one more parameter,
//! `__session_guard_<hash>: Guarded<__session_guard_dashboard_<hash>>`; or, as here, for a guard
//! that requires a signed-in user and a handler whose next parameter is typed `AuthUser`, that
//! parameter folded into the guard's: `Guarded { user, .. }: Guarded<.._dashboard_<hash>, AuthUser>`,
//! one extractor that checks the guard and hands over the user it judged. The rule tree is written
//! out as Rust code; nothing is parsed at run time. A `redirect` or `status` also becomes a
//! `const` item that the runtime's own rules check while compiling, so the guard has no failure
//! path at run time. Generated code names everything through
//! `::session_core::__private`, so it compiles in crates that shadow `std`, `core` or prelude
//! names.
//!
//! The lowest of these attributes on a handler (and `#[public]`) also registers the handler in
//! the access manifest (`inventory::submit!` of a `session_core::access::Entry`: its name,
//! location, the routes of the actix attributes below it, and every guard of the stack).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
mod context;
mod coverage;
mod expand;
mod fallback;
mod policy;
mod rule;
mod truth;
mod validate;

use proc_macro::TokenStream;

use crate::args::Kind;

/// Admits only signed-in users.
///
/// ```
/// use actix_web::{get, Responder};
/// use session_core::prelude::*;
///
/// #[get("/dashboard")]
/// #[login_required] // HTML: 303 to /login?next=/dashboard; API: 401 {"error":"unauthenticated"}
/// async fn dashboard(user: AuthUser) -> impl Responder {
///     format!("hello {}", user.id())
/// }
///
/// #[get("/account")]
/// #[login_required(redirect = "/signin")] // 303 to /signin?next=/account
/// async fn account() -> impl Responder {
///     "account"
/// }
///
/// #[get("/api/me")]
/// #[login_required(status = 401)] // always 401 JSON, even for browsers
/// async fn me(user: AuthUser) -> impl Responder {
///     user.id().to_owned()
/// }
/// ```
///
/// Arguments, all optional:
/// - `redirect = "/path"`: deny by redirecting there (with `next=`) instead of the configured login
///   URL. A same-origin path starting with a single `/`.
/// - `status = N`: without `redirect`, the status of every denial (400..=599; a JSON body for API
///   clients, an HTML page for browsers); with it, the redirect status (301, 302, 303, 307 or 308).
///
/// These are the rules `session_core::GuardBuilder::build` applies at run time, from the same code
/// (`session_rules`); here a value they refuse is a compile error on the value.
///
/// Cannot be combined with `#[skip_if_authenticated]`. Not for associated functions in an `impl`
/// block (see the crate documentation).
#[proc_macro_attribute]
pub fn login_required(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::guard(Kind::LoginRequired, args.into(), item.into()).into()
}

/// Admits only anonymous visitors; signed-in users are redirected (303) elsewhere, except a
/// request carrying `reason=reauthenticate` (where a `fresh` rule sends a user whose login is
/// too old), so the login page doubles as the re-authentication page.
///
/// ```
/// use actix_web::{get, Responder};
/// use session_core::prelude::*;
///
/// #[get("/login")]
/// #[skip_if_authenticated(redirect = "/dashboard")] // default: the configured home URL
/// async fn login_form() -> impl Responder {
///     "<form method=post>...</form>"
/// }
/// ```
///
/// Argument, optional: `redirect = "/path"` (a same-origin path starting with a single `/`).
/// Cannot be combined with `#[login_required]`, `#[require_role]` or `#[authorize]`: no request
/// could pass both. Not for associated functions in an `impl` block.
#[proc_macro_attribute]
pub fn skip_if_authenticated(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::guard(Kind::SkipIfAuthenticated, args.into(), item.into()).into()
}

/// Admits signed-in users holding a role.
///
/// The role is a string, or a value of the app's own role type implementing
/// `session_core::RoleName`, so a misspelt variant is a compile error.
///
/// ```
/// use actix_web::{delete, get, Responder};
/// use session_core::prelude::*;
///
/// enum Role {
///     Admin,
/// }
///
/// impl RoleName for Role {
///     fn role_name(&self) -> &str {
///         match self {
///             Role::Admin => "admin",
///         }
///     }
/// }
///
/// #[get("/admin")]
/// #[require_role("admin")]
/// async fn admin() -> impl Responder {
///     "admin"
/// }
///
/// #[delete("/admin/cache")]
/// #[require_role(Role::Admin, status = 404)] // hide the route from everyone else
/// async fn clear_cache() -> impl Responder {
///     "cleared"
/// }
/// ```
///
/// After the role, the optional `redirect = ".."` and `status = N` of [`macro@login_required`].
/// Anonymous requests get the not-signed-in answer, signed-in users without the role 403.
#[proc_macro_attribute]
pub fn require_role(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::guard(Kind::RequireRole, args.into(), item.into()).into()
}

/// Admits signed-in users holding a permission: listed by their record
/// (`session_core::User::permissions`) or granted to one of their roles, or to a role those
/// include, by the role table (`session_core::Authorization`).
///
/// The permission is a string, or a value of the app's own permission type implementing
/// `session_core::PermissionName`, so a misspelt variant is a compile error.
///
/// ```
/// use actix_web::{post, Responder};
/// use session_core::prelude::*;
///
/// enum Perm {
///     NotesDelete,
/// }
///
/// impl PermissionName for Perm {
///     fn permission_name(&self) -> &str {
///         match self {
///             Perm::NotesDelete => "notes:delete",
///         }
///     }
/// }
///
/// #[post("/notes/{id}/edit")]
/// #[require_permission("notes:edit")]
/// async fn edit() -> impl Responder {
///     "edited"
/// }
///
/// #[post("/notes/{id}/delete")]
/// #[require_permission(Perm::NotesDelete, status = 404)]
/// async fn delete() -> impl Responder {
///     "deleted"
/// }
/// ```
///
/// After the permission, the optional `redirect = ".."` and `status = N` of
/// [`macro@login_required`]. Anonymous requests get the not-signed-in answer, signed-in users
/// without the permission 403.
#[proc_macro_attribute]
pub fn require_permission(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::guard(Kind::RequirePermission, args.into(), item.into()).into()
}

/// Admits signed-in users for whom a rule holds.
///
/// ```
/// use actix_web::{post, web, Responder};
/// use session_core::prelude::*;
///
/// fn same_team(user: &AuthUser) -> bool {
///     user.id().starts_with("team-")
/// }
///
/// #[post("/admin/users")]
/// #[authorize(any(role = "admin", all(role = "editor", not(role = "suspended"))), fresh = 600)]
/// async fn create_user(body: web::Json<serde_json::Value>) -> impl Responder {
///     body.to_string()
/// }
///
/// #[post("/team/notes")]
/// #[authorize(check = same_team, status = 404)]
/// async fn add_note() -> impl Responder {
///     "ok"
/// }
/// ```
///
/// The rule (exactly one; combine several with `all` or `any`):
/// - `authenticated`: any signed-in user;
/// - `role = "name"` or `role = Role::Variant` (a type implementing `session_core::RoleName`);
///   with a role table (`session_core::Authorization`), a role is also held through the roles
///   that include it;
/// - `permission = "name"` or `permission = Perm::Variant` (a type implementing
///   `session_core::PermissionName`), as for [`macro@require_permission`];
/// - `any(rule, ..)`, `all(rule, ..)`: at least one rule each;
/// - `not(rule)`;
/// - `check = path::to::function`, a `fn(&AuthUser) -> bool` (decides without I/O); an `async fn`
///   here is a policy, as below;
/// - `policy = path::to::function`, a resource policy: an `async fn` whose parameters are
///   extractors that never read the body (`AuthUser`, `Current<U>`, `web::Path<T>`,
///   `web::Query<T>`, `web::Data<T>`, headers, `HttpRequest`; see [`macro@policy`]) returning
///   `bool` or `Result<bool, E>`. Policies run last, only when the rest of the rule cannot decide
///   without them; an extractor's failure is its own answer (a bad path segment: 404), `false`
///   denies (403, or `status`), `Err` answers 503 with `Retry-After` and is logged.
///
/// Options:
/// - `fresh = SECS`: the user must also have signed in within the last `SECS` seconds; otherwise
///   the answer is the not-signed-in one with `reason=reauthenticate`;
/// - `redirect = ".."` and `status = N` as for [`macro@login_required`].
///
/// A rule that no signed-in user can meet (`all(role = "a", not(role = "a"))`,
/// `not(authenticated)`), or that every signed-in user meets although it names roles or checks
/// (`any(role = "a", not(role = "a"))`), is a compile error: the macro evaluates it for every
/// combination of its roles and checks (up to 12 distinct ones). A role written as a string and
/// one written as an enum variant count as different roles. The role table is not visible to
/// the macro: a rule that only the hierarchy makes impossible
/// (`all(role = "admin", not(role = "editor"))` when admin includes editor) is reported by the
/// runtime instead.
///
/// Stacked `#[authorize]`, `#[require_role]`, `#[require_permission]` and `#[login_required]`
/// attributes combine with AND.
#[proc_macro_attribute]
pub fn authorize(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::guard(Kind::Authorize, args.into(), item.into()).into()
}

/// Marks a handler as deliberately open to everyone, anonymous visitors included.
///
/// It changes nothing at run time. It says, in the code, that the missing guard is no oversight:
/// the handler is listed as public in the access manifest, and guarded registration accepts it.
///
/// ```
/// use actix_web::{get, Responder};
/// use session_core::prelude::*;
///
/// #[public]
/// #[get("/health")]
/// async fn health() -> impl Responder {
///     "ok"
/// }
/// ```
///
/// Takes no arguments. Cannot be combined with a guard attribute (`#[login_required]`,
/// `#[skip_if_authenticated]`, `#[require_role]`, `#[require_permission]`, `#[authorize]`).
#[proc_macro_attribute]
pub fn public(args: TokenStream, item: TokenStream) -> TokenStream {
    coverage::public(args.into(), item.into()).into()
}

/// Marks an `async fn` as a resource policy for `policy = ..` in [`macro@authorize`] (or
/// `session_core::Rule::policy` / `Require::policy`), and checks its signature where it is
/// written: it is `async`, returns `bool` or `Result<bool, E>`, and every parameter is an
/// extractor that never reads the request body (`session_core::BodyFree`). A policy runs
/// before the handler, with an empty payload, so `web::Json`, `web::Form`, `Bytes` or `String`
/// parameters are a compile error on the parameter.
///
/// ```
/// use actix_web::{get, web, Responder};
/// use session_core::prelude::*;
///
/// #[policy]
/// async fn owns_note(user: AuthUser, id: web::Path<u32>, owners: web::Data<Vec<String>>) -> bool {
///     owners.get(*id as usize).is_some_and(|owner| owner == user.id())
/// }
///
/// #[get("/notes/{id}")]
/// #[authorize(any(permission = "notes:read", policy = owns_note), status = 404)]
/// async fn show(id: web::Path<u32>) -> impl Responder {
///     format!("note {id}")
/// }
/// ```
///
/// The function is otherwise unchanged, and can still be called like any other.
#[proc_macro_attribute]
pub fn policy(args: TokenStream, item: TokenStream) -> TokenStream {
    policy::policy(args.into(), item.into()).into()
}
