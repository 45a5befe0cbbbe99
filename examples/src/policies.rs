//! The README's resource-policy example, verbatim (`readme_block_is_this_file` keeps them
//! equal): a policy on a path parameter, the 404-not-403 choice, and the same policy on a scope.
// README policies start
use std::collections::HashMap;

use actix_web::{get, post, web, Responder};
use session_core::prelude::*;

/// Who wrote each note (a database in a real app).
pub struct Notes(pub HashMap<u64, String>);

/// The signed-in user wrote note `{id}`. A missing note has no owner, so it is `false` too.
/// `Err` (the database is down) answers 503 with `Retry-After`, and is logged.
#[policy]
pub async fn owns_note(
    user: AuthUser,
    id: web::Path<u64>,
    notes: web::Data<Notes>,
) -> Result<bool, std::io::Error> {
    Ok(notes.0.get(&id).is_some_and(|owner| owner == user.id()))
}

/// Editors read every note, owners their own. Anyone else gets the 404 of a missing note:
/// a 403 would tell them the note exists.
#[get("/notes/{id}")]
#[login_required] // anonymous visitors are sent to sign in first
#[authorize(any(permission = "notes:read", policy = owns_note), status = 404)]
pub async fn show(id: web::Path<u64>) -> impl Responder {
    format!("note {id}")
}

/// Owners and admins delete; an editor who can see the note gets a plain 403.
#[post("/notes/{id}/delete")]
#[authorize(any(permission = "notes:delete", policy = owns_note))]
pub async fn delete(id: web::Path<u64>) -> impl Responder {
    format!("deleted {id}")
}

/// The same policy guards every route of a scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(show).service(delete).service(
        web::scope("/notes/{id}/files")
            .wrap(Require::policy(owns_note))
            .route("", web::get().to(|| async { "files" })),
    );
}
// README policies end

#[cfg(test)]
mod tests {
    #[test]
    fn readme_block_is_this_file() {
        let text = include_str!("policies.rs");
        let start = text.find("// README policies start\n").expect("start") + 25;
        let end = text.find("// README policies end").expect("end");
        let readme = include_str!("../../README.md");
        let block = readme
            .split("```rust\n")
            .find(|block| block.starts_with("// Resource policies (examples/src/policies.rs)"))
            .expect("README has the policies block");
        let block = &block[..block.find("```").expect("block end")];
        let block = block
            .strip_prefix("// Resource policies (examples/src/policies.rs)\n")
            .unwrap();
        assert_eq!(block, &text[start..end]);
    }
}
