#![deny(warnings)]

use actix_web::{get, App, Responder};
use session_core::prelude::*;

#[get("/login")]
#[skip_if_authenticated]
async fn login_form() -> impl Responder {
    "<form method=post></form>"
}

#[get("/register")]
#[skip_if_authenticated(redirect = "/dashboard")]
async fn register_form(session: Session) -> impl Responder {
    format!("{}", session.user().is_none())
}

fn main() {
    let _app = App::new().service(login_form).service(register_form);
}
