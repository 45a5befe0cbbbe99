use session_core::prelude::*;

#[require_permission]
async fn edit() -> &'static str {
    "edited"
}

fn main() {}
