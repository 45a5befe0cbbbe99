use actix_web::{get, Responder};
use session_core::prelude::*;

#[authorize(role = "admin")]
#[public]
#[get("/open-or-not")]
async fn confused() -> impl Responder {
    "never"
}

fn main() {}
