#![deny(warnings)]

use actix_web::{get, post, web, App, Responder};
use session_core::{access, prelude::*};
use utoipa::OpenApi;

#[login_required]
#[utoipa::path(responses((status = 200, description = "the user")))]
#[get("/guard-above")]
async fn guard_above(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

#[utoipa::path(responses((status = 200, description = "edited")))]
#[authorize(any(role = "admin", permission = "notes:edit"), fresh = 600)]
#[post("/notes/{id}")]
async fn guard_below(id: web::Path<u32>) -> impl Responder {
    id.into_inner().to_string()
}

#[public]
#[utoipa::path(responses((status = 200, description = "ok")))]
#[get("/public-above")]
async fn public_above() -> impl Responder {
    "ok"
}

#[utoipa::path(responses((status = 200, description = "ok")))]
#[public]
#[get("/public-below")]
async fn public_below() -> impl Responder {
    "ok"
}

#[derive(OpenApi)]
#[openapi(paths(guard_above, guard_below, public_above, public_below))]
struct Doc;

fn main() {
    let doc = Doc::openapi();
    for path in ["/guard-above", "/notes/{id}", "/public-above", "/public-below"] {
        assert!(doc.paths.paths.contains_key(path), "{path}");
    }
    let mut listed: Vec<String> = access::manifest()
        .iter()
        .flat_map(|entry| entry.routes().iter().map(ToString::to_string))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "GET /guard-above",
            "GET /public-above",
            "GET /public-below",
            "POST /notes/{id}"
        ]
    );
    let _app = App::new().configure(access::guarded(|routes| {
        routes
            .service(guard_above)
            .service(guard_below)
            .service(public_above)
            .service(public_below);
    }));
}
