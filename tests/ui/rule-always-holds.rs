use session_core::prelude::*;

#[authorize(any(role = "admin", not(role = "admin")))]
async fn settings() -> &'static str {
    "settings"
}

fn main() {}
