#![deny(warnings)]

use actix_web::{get, App, Responder};
use session_core::prelude::*;

// `instrument` records every argument with `Debug`, the injected guard included.
#[get("/instrumented-below")]
#[tracing::instrument]
#[login_required]
async fn instrumented_below(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[get("/instrumented-above")]
#[login_required]
#[tracing::instrument(skip(user))]
async fn instrumented_above(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

fn main() {
    let _app = App::new()
        .service(instrumented_below)
        .service(instrumented_above);
}
