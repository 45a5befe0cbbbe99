#![deny(warnings)]

use actix_web::{get, App, HttpRequest, Responder};
use session_core::prelude::*;

// The first parameter typed `AuthUser`, whatever its pattern or path, comes from the guard.
#[get("/mut")]
#[login_required]
async fn with_mut(mut user: AuthUser) -> impl Responder {
    user = user.clone();
    user.id().to_owned()
}

#[get("/ignored")]
#[require_role("admin")]
async fn ignored(_: AuthUser) -> impl Responder {
    "ignored"
}

#[get("/path")]
#[require_permission("notes:read")]
#[authorize(not(role = "suspended"))]
async fn by_path(user: session_core::AuthUser, req: HttpRequest) -> impl Responder {
    format!("{} {}", req.path(), user.id())
}

// Not the first parameter, or not `AuthUser` itself: its own extractor, as before.
#[get("/second")]
#[login_required]
async fn second(req: HttpRequest, user: AuthUser) -> impl Responder {
    format!("{} {}", req.path(), user.id())
}

#[get("/optional")]
#[login_required]
async fn optional(user: Option<AuthUser>) -> impl Responder {
    format!("{}", user.is_some())
}

#[get("/login")]
#[skip_if_authenticated]
async fn login_form(user: Option<AuthUser>) -> impl Responder {
    format!("{}", user.is_none())
}

fn main() {
    let _app = App::new()
        .service(with_mut)
        .service(ignored)
        .service(by_path)
        .service(second)
        .service(optional)
        .service(login_form);
}
