use session_core::prelude::*;

#[authorize(all(permission = "notes:edit", not(permission = "notes:edit")))]
async fn edit() -> &'static str {
    "edited"
}

fn main() {}
