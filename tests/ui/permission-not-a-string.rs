use session_core::prelude::*;

#[require_permission(42)]
async fn edit() -> &'static str {
    "edited"
}

fn main() {}
