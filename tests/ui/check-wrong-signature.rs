use session_core::prelude::*;

fn is_owner(user_id: &str) -> bool {
    user_id == "alice"
}

#[authorize(check = is_owner)]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
