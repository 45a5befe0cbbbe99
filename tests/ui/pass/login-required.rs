#![deny(warnings)]

use actix_web::{get, App, Responder};
use session_core::prelude::*;

#[get("/plain")]
#[login_required]
async fn plain(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[get("/redirect")]
#[login_required(redirect = "/signin")]
async fn redirect() -> &'static str {
    "redirect"
}

#[get("/status")]
#[login_required(status = 401)]
async fn status() -> &'static str {
    "status"
}

#[get("/redirect-status")]
#[login_required(redirect = "/signin?from=app", status = 307)]
async fn redirect_status() -> &'static str {
    "redirect and status"
}

#[get("/empty-parens")]
#[login_required()]
async fn empty_parens() -> &'static str {
    "empty parentheses"
}

fn main() {
    let _app = App::new()
        .service(plain)
        .service(redirect)
        .service(status)
        .service(redirect_status)
        .service(empty_parens);
}
