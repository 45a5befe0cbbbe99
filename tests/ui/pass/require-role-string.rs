#![deny(warnings)]

use actix_web::{delete, get, App, Responder};
use session_core::prelude::*;

const AUDITOR: &str = "auditor";

#[get("/admin")]
#[require_role("admin")]
async fn admin(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[delete("/admin/cache")]
#[require_role("admin", status = 404)]
async fn clear_cache() -> &'static str {
    "cleared"
}

#[get("/audit")]
#[require_role(AUDITOR, redirect = "/no-access")] // a `&str` constant is a role too
async fn audit() -> &'static str {
    "audit"
}

fn main() {
    let _app = App::new()
        .service(admin)
        .service(clear_cache)
        .service(audit);
}
