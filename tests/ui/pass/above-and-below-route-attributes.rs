#![deny(warnings)]

use actix_web::{get, post, route, web, App, Responder};
use session_core::prelude::*;

#[login_required]
#[get("/above")]
async fn above(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[get("/below")]
#[login_required]
async fn below(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[authorize(role = "admin")]
#[post("/items/{id}")]
async fn update(path: web::Path<u32>, body: web::Json<serde_json::Value>) -> impl Responder {
    format!("{} {}", path.into_inner(), body.into_inner())
}

#[route("/multi", method = "GET", method = "HEAD")]
#[require_role("admin")]
async fn multi() -> impl Responder {
    "multi"
}

#[actix_web::get("/qualified")]
#[session_core::login_required]
async fn qualified() -> impl Responder {
    "qualified"
}

fn main() {
    let _app = App::new()
        .service(above)
        .service(below)
        .service(update)
        .service(multi)
        .service(qualified);
}
