//! The README's route coverage example, verbatim (`readme_block_is_this_file` keeps them equal):
//! guarded registration, `#[public]`, the run-time fallback, the access table and the OpenAPI
//! document, from the same attributes.
// README coverage start
use actix_web::{get, post, web, HttpResponse, Responder};
use session_core::{
    access::{self, OpenApiSecurity, Principal},
    prelude::*,
    Require,
};
use utoipa::{Modify as _, OpenApi as _};

#[public]
#[utoipa::path(responses((status = 200, description = "The home page")))]
#[get("/")]
async fn home() -> impl Responder {
    "home"
}

#[login_required]
#[utoipa::path(responses((status = 200, description = "The user's notes")))]
#[get("/notes")]
async fn notes(user: AuthUser) -> impl Responder {
    format!("notes of {}", user.id())
}

#[require_permission("notes:delete")]
#[utoipa::path(responses((status = 200, description = "Deleted")))]
#[post("/notes/{id}/delete")]
async fn delete_note(id: web::Path<u32>) -> impl Responder {
    format!("deleted {id}")
}

/// The routes. Each handler in `guarded` carries a guard or `#[public]`, or this does not compile.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(access::guarded(|routes| {
        routes.service(home).service(notes).service(delete_note);
    }))
    // Closures cannot carry attributes: the run-time fallback covers this scope.
    .service(
        web::scope("/legacy")
            .wrap(Require::deny_unlisted().allow("/legacy/ping"))
            .route("/ping", web::get().to(HttpResponse::Ok)) // allowed by pattern
            .route("/export", web::get().to(HttpResponse::Ok)), // 401 / 403: undeclared
    );
}

/// Who can reach what: one row per route, one column per sample principal.
pub fn access_table() -> String {
    let entries = access::manifest()
        .into_iter()
        .filter(|entry| entry.module() == module_path!());
    let principals = [
        Principal::anonymous(),
        Principal::user("member"),
        Principal::user("moderator").permissions(["notes:delete"]),
    ];
    access::table(entries, &principals, None).markdown()
}

/// The OpenAPI 3.1 document, its security and denial responses taken from the guards.
pub fn openapi(auth: &AuthSession) -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(home, notes, delete_note))]
    struct Doc;
    let mut doc = Doc::openapi();
    OpenApiSecurity::new(auth).modify(&mut doc);
    doc
}
// README coverage end

#[cfg(test)]
mod tests {
    use actix_web::{http::StatusCode, test as actix_test, App};
    use serde_json::json;

    use super::*;

    /// The text between the markers of `text`.
    fn block(text: &str) -> &str {
        let start = text
            .find("// README coverage start\n")
            .expect("start marker")
            + 25;
        let end = text.find("// README coverage end").expect("end marker");
        &text[start..end]
    }

    #[test]
    fn readme_block_is_this_file() {
        let readme = include_str!("../../README.md");
        let block_in_readme = readme
            .split("```rust\n")
            .find(|b| b.starts_with("// Route coverage (examples/src/coverage.rs)\n"))
            .expect("README has the route coverage block");
        let block_in_readme = &block_in_readme[..block_in_readme.find("```").unwrap()];
        let block_in_readme = block_in_readme
            .strip_prefix("// Route coverage (examples/src/coverage.rs)\n")
            .unwrap();
        assert_eq!(block_in_readme, block(include_str!("coverage.rs")));
    }

    #[test]
    fn readme_table_is_the_access_table() {
        let readme = include_str!("../../README.md");
        assert!(readme.contains(&access_table()), "{}", access_table());
    }

    #[actix_web::test]
    async fn the_fallback_denies_the_undeclared_closure() {
        let auth = AuthSession::builder(Key::from_bytes(&[9u8; 32]).unwrap())
            .build()
            .unwrap();
        let app = actix_test::init_service(App::new().wrap(auth).configure(routes)).await;
        for (path, want) in [
            ("/legacy/ping", StatusCode::OK),
            ("/legacy/export", StatusCode::UNAUTHORIZED),
            ("/", StatusCode::OK),
            ("/notes", StatusCode::UNAUTHORIZED),
        ] {
            let req = actix_test::TestRequest::get().uri(path).to_request();
            assert_eq!(
                actix_test::call_service(&app, req).await.status(),
                want,
                "{path}"
            );
        }
    }

    #[test]
    fn openapi_security_comes_from_the_guards() {
        let auth = AuthSession::builder(Key::from_bytes(&[9u8; 32]).unwrap())
            .build()
            .unwrap();
        let doc = serde_json::to_value(openapi(&auth)).unwrap();
        let delete = &doc["paths"]["/notes/{id}/delete"]["post"];
        assert_eq!(delete["security"], json!([{ "session": [] }]));
        assert_eq!(delete["x-session-rule"], "permission=notes:delete");
        for status in ["401", "303", "403"] {
            assert!(delete["responses"][status].is_object(), "{status}");
        }
        assert_eq!(doc["paths"]["/"]["get"]["security"], json!([]));
        assert!(doc["paths"]["/notes"]["get"]["responses"]["403"].is_null());
    }
}
