use session_core::prelude::*;

#[login_required(redirect = "/login\\admin")]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
