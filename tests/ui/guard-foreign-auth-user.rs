use actix_web::{get, Responder};
use session_core::login_required;

/// The app's own type, named like session_core's: a guard cannot hand it over.
struct AuthUser;

#[get("/me")]
#[login_required]
async fn me(user: AuthUser) -> impl Responder {
    let _ = user;
    "me"
}

fn main() {}
