#![deny(warnings)]

use actix_web::{delete, get, post, route, routes, web, App, Responder};
use session_core::{access, prelude::*};

#[login_required]
#[get("/dashboard")]
async fn dashboard(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[skip_if_authenticated(redirect = "/dashboard")]
#[get("/login")]
async fn login_form() -> impl Responder {
    "form"
}

#[require_role("admin")]
#[delete("/cache")]
async fn clear_cache() -> impl Responder {
    "cleared"
}

#[require_permission("notes:edit", status = 404)]
#[post("/notes/{id}")]
async fn edit_note(id: web::Path<u32>) -> impl Responder {
    id.into_inner().to_string()
}

#[authorize(any(role = "admin", permission = "reports:read"), fresh = 600)]
#[route("/reports", method = "GET", method = "HEAD")]
async fn reports() -> impl Responder {
    "reports"
}

#[login_required]
#[require_role("staff")]
#[routes]
#[get("/staff")]
#[post("/staff")]
async fn staff() -> impl Responder {
    "staff"
}

#[public]
#[get("/health")]
async fn health() -> impl Responder {
    "ok"
}

// Below the route attribute the guard still guards; such a handler is registered the usual way.
#[get("/legacy")]
#[login_required]
async fn legacy() -> impl Responder {
    "legacy"
}

fn main() {
    let _app = App::new()
        .configure(access::guarded(|routes| {
            routes
                .service(dashboard)
                .service(login_form)
                .service(clear_cache)
                .service(edit_note)
                .service(reports)
                .service(staff)
                .service(health);
        }))
        .service(web::scope("/api").configure(access::guarded(|routes| {
            routes.service(health);
        })))
        .service(legacy);
}
