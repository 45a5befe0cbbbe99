#![deny(warnings)]

use actix_web::{post, App, Responder};
use session_core::prelude::*;

#[post("/password")]
#[authorize(authenticated, fresh = 600)]
async fn change_password() -> impl Responder {
    "changed"
}

#[post("/transfer")]
#[authorize(fresh = 300, role = "owner", redirect = "/confirm")] // options may come first
async fn transfer() -> impl Responder {
    "sent"
}

fn main() {
    let _app = App::new().service(change_password).service(transfer);
}
