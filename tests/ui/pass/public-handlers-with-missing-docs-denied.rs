//! A crate that denies missing docs: the guard types beside public handlers are hidden and need
//! none.
#![deny(missing_docs, warnings)]

use actix_web::{web, App};

/// Handlers.
pub mod handlers {
    use actix_web::{get, Responder};
    use session_core::prelude::*;

    /// Registered with `web::get().to(..)`.
    #[login_required]
    pub async fn dashboard() -> impl Responder {
        "dashboard"
    }

    /// Route attribute below the guard.
    #[require_role("admin")]
    #[get("/admin")]
    pub async fn admin() -> impl Responder {
        "admin"
    }

    /// Route attribute above the guard.
    #[get("/editor")]
    #[authorize(role = "editor")]
    pub async fn editor() -> impl Responder {
        "editor"
    }
}

fn main() {
    let _app = App::new()
        .route("/", web::get().to(handlers::dashboard))
        .service(handlers::admin)
        .service(handlers::editor);
}
