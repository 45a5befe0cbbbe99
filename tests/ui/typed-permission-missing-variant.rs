use session_core::prelude::*;

enum Perm {
    NotesEdit,
}

impl PermissionName for Perm {
    fn permission_name(&self) -> &str {
        match self {
            Perm::NotesEdit => "notes:edit",
        }
    }
}

#[require_permission(Perm::NotesDelete)]
async fn delete() -> &'static str {
    "deleted"
}

fn main() {}
