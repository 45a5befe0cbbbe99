use session_core::prelude::*;

#[authorize(authenticated, fresh = "x")]
async fn settings() -> &'static str {
    "settings"
}

fn main() {}
