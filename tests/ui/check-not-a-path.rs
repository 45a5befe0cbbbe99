use session_core::prelude::*;

#[authorize(check = "is_owner")]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
