use actix_web::{get, Responder};
use session_core::prelude::*;

#[public(anonymous)]
#[get("/health")]
async fn health() -> impl Responder {
    "ok"
}

fn main() {}
