use session_core::prelude::*;

#[authorize(any(role = "admin", permission = " "))]
async fn edit() -> &'static str {
    "edited"
}

fn main() {}
