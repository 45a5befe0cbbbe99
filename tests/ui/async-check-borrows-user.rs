use session_core::prelude::*;

async fn is_owner(user: &AuthUser) -> bool {
    user.id() == "alice"
}

#[authorize(check = is_owner)]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
