use std::fmt;

use actix_web::{http::header::ContentType, post, web, App, HttpRequest, Responder};
use session_core::{prelude::*, Guard};

struct Notes(Vec<String>);

#[derive(Debug)]
struct DbDown;

impl fmt::Display for DbDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("database down")
    }
}

#[derive(serde::Deserialize)]
struct Page {
    page: Option<u32>,
}

// Every kind of body-free parameter, and a `Result` with the app's own error.
#[policy]
async fn can_edit_note(
    user: AuthUser,
    id: web::Path<usize>,
    _page: web::Query<Page>,
    notes: web::Data<Notes>,
    _kind: Option<web::Header<ContentType>>,
    _req: HttpRequest,
) -> Result<bool, DbError> {
    Ok(notes.0.get(*id).is_some_and(|owner| owner == user.id()))
}

type DbError = DbDown;

// Unmarked policies work too.
async fn is_staff(user: AuthUser) -> bool {
    user.id().starts_with("staff-")
}

#[post("/notes/{id}/edit")]
#[authorize(any(permission = "notes:edit", all(policy = can_edit_note, not(policy = is_staff))), status = 404)]
async fn edit(id: web::Path<usize>, body: web::Form<Vec<(String, String)>>) -> impl Responder {
    format!("{id}: {}", body.len())
}

fn main() {
    let _ = App::new().service(edit);
    let _ = Guard::require(Rule::policy(can_edit_note)).status(404).build();
    let _ = Require::policy(is_staff);
    assert_eq!(
        Rule::any([Rule::policy(can_edit_note), Rule::check(is_staff)]).to_string(),
        "any(policy=can_edit_note, policy=is_staff)"
    );
}
