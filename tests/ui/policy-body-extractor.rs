use actix_web::web;
use session_core::prelude::*;

#[derive(serde::Deserialize)]
struct Note {
    owner: String,
}

#[policy]
async fn owns_posted_note(user: AuthUser, note: web::Json<Note>) -> bool {
    note.owner == user.id()
}

#[authorize(policy = owns_posted_note)]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
