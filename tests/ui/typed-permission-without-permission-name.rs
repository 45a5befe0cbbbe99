use session_core::prelude::*;

enum Perm {
    NotesEdit,
}

#[authorize(permission = Perm::NotesEdit)]
async fn edit() -> &'static str {
    "edited"
}

fn main() {}
