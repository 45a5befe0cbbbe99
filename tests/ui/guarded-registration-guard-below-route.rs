use actix_web::{get, App, Responder};
use session_core::{access, prelude::*};

#[get("/admin")]
#[require_role("admin")]
async fn admin() -> impl Responder {
    "the guard below the route attribute does not see the route"
}

fn main() {
    let _app = App::new().configure(access::guarded(|routes| {
        routes.service(admin);
    }));
}
