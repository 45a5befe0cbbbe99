//! Generated code must name everything by absolute path: it compiles even where `std`, `core`,
//! `session_core` and the prelude's names mean something else.
#![deny(warnings)]
#![allow(dead_code, non_camel_case_types)]

mod std {}
mod core {}
mod session_core {}
mod alloc {}

type Result = ();
type Option = ();
type String = ();
type Box = ();
type Vec = ();
type Send = ();
type Sync = ();
type Sized = ();
struct LazyLock;
struct Guard;
struct Guarded;
struct GuardSpec;
struct Rule;
static GUARD: () = ();

mod handlers {
    pub(crate) enum Role {
        Admin,
    }

    impl ::session_core::RoleName for Role {
        fn role_name(&self) -> &str {
            match self {
                Role::Admin => "admin",
            }
        }
    }

    pub(crate) fn is_alice(user: &::session_core::AuthUser) -> bool {
        user.id() == "alice"
    }
}

use handlers::{is_alice, Role};

#[::session_core::login_required(redirect = "/signin", status = 302)]
async fn dashboard() -> &'static str {
    "dashboard"
}

#[::session_core::skip_if_authenticated(redirect = "/")]
async fn login_form() -> &'static str {
    "form"
}

#[::session_core::require_role(Role::Admin)]
async fn admin() -> &'static str {
    "admin"
}

#[::session_core::authorize(any(role = "a", all(check = is_alice, not(role = "b"))), fresh = 60, status = 404)]
async fn nested() -> &'static str {
    "nested"
}

fn main() {
    let _app = ::actix_web::App::new()
        .route("/d", ::actix_web::web::get().to(dashboard))
        .route("/l", ::actix_web::web::get().to(login_form))
        .route("/a", ::actix_web::web::get().to(admin))
        .route("/n", ::actix_web::web::get().to(nested));
}
