#![deny(warnings)]

use actix_web::{get, App, Responder};
use session_core::prelude::*;

#[get("/reports")]
#[login_required(redirect = "/signin")]
#[require_role("analyst")]
#[authorize(not(role = "suspended"), fresh = 3600)]
async fn reports(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

// Identical attributes still get distinct names.
#[get("/twice")]
#[require_role("admin")]
#[require_role("admin")]
async fn twice() -> impl Responder {
    "twice"
}

// Stacked on both sides of the route attribute.
#[login_required]
#[get("/around")]
#[require_role("admin")]
async fn around() -> impl Responder {
    "around"
}

#[get("/skips")]
#[skip_if_authenticated]
#[skip_if_authenticated(redirect = "/home")]
async fn skips() -> impl Responder {
    "skips"
}

fn main() {
    let _app = App::new()
        .service(reports)
        .service(twice)
        .service(around)
        .service(skips);
}
