#![deny(warnings)]

use actix_web::{get, web, App, Responder};
use session_core::prelude::*;

#[public]
#[get("/above")]
async fn above() -> impl Responder {
    "above"
}

#[get("/below")]
#[public]
async fn below() -> impl Responder {
    "below"
}

#[session_core::public]
async fn plain() -> impl Responder {
    "plain"
}

fn main() {
    let _app = App::new()
        .service(above)
        .service(below)
        .route("/plain", web::get().to(plain));
}
