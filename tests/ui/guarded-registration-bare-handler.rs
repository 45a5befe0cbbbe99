use actix_web::{get, App, Responder};
use session_core::{access, prelude::*};

#[login_required]
#[get("/dashboard")]
async fn dashboard(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[get("/admin")]
async fn admin() -> impl Responder {
    "forgot the guard"
}

fn main() {
    let _app = App::new().configure(access::guarded(|routes| {
        routes.service(dashboard).service(admin);
    }));
}
