#![deny(warnings)]

use actix_web::{get, App, Responder};
use session_core::prelude::*;

mod policy {
    use session_core::AuthUser;

    pub fn is_staff(user: &AuthUser) -> bool {
        user.id().ends_with("@staff")
    }
}

fn is_alice(user: &AuthUser) -> bool {
    user.id() == "alice"
}

#[get("/alice")]
#[authorize(check = is_alice)]
async fn alice() -> impl Responder {
    "alice"
}

#[get("/staff")]
#[authorize(any(check = policy::is_staff, role = "admin"), status = 404)]
async fn staff() -> impl Responder {
    "staff"
}

#[get("/self")]
#[authorize(check = self::policy::is_staff)]
async fn self_path() -> impl Responder {
    "self"
}

fn main() {
    let _app = App::new().service(alice).service(staff).service(self_path);
}
