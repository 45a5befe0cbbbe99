use actix_web::{get, Responder};
use session_core::prelude::*;

#[public]
#[login_required]
#[get("/open-or-not")]
async fn confused() -> impl Responder {
    "never"
}

fn main() {}
