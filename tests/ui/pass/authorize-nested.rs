#![deny(warnings)]

use actix_web::{post, web, App, Responder};
use session_core::prelude::*;

#[post("/admin/users")]
#[authorize(any(role = "admin", all(role = "editor", not(role = "suspended"))))]
async fn create_user(user: AuthUser, body: web::Json<serde_json::Value>) -> impl Responder {
    format!("{} {}", user.id(), body.into_inner())
}

#[post("/everyone")]
#[authorize(authenticated)]
async fn everyone() -> impl Responder {
    "ok"
}

#[post("/deep")]
#[authorize(
    all(
        any(role = "a", role = "b", authenticated,),
        not(any(role = "banned", not(authenticated))),
    ),
    status = 404
)]
async fn deep() -> impl Responder {
    "deep"
}

fn main() {
    let _app = App::new()
        .service(create_user)
        .service(everyone)
        .service(deep);
}
