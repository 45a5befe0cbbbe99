use session_core::prelude::*;

#[login_required(redirect = "https://example.com/login")]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
