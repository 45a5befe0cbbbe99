#![deny(warnings)]

use actix_web::{web, App, HttpResponse, Responder};
use session_core::prelude::*;

#[login_required]
async fn dashboard(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[authorize(any(role = "admin", role = "editor"))]
async fn edit(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(body.into_inner())
}

#[skip_if_authenticated]
async fn login_form() -> impl Responder {
    "form"
}

pub mod api {
    use actix_web::Responder;
    use session_core::prelude::*;

    /// A public handler: the guard's type takes the handler's visibility.
    #[require_role("admin")]
    pub async fn stats() -> impl Responder {
        "stats"
    }

    #[require_role("admin")]
    pub(crate) async fn internal() -> impl Responder {
        "internal"
    }
}

fn main() {
    let _app = App::new()
        .route("/dashboard", web::get().to(dashboard))
        .route("/edit", web::post().to(edit))
        .route("/login", web::get().to(login_form))
        .route("/stats", web::get().to(api::stats))
        .route("/internal", web::get().to(api::internal));
}
