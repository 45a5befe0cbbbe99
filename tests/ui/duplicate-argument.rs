use session_core::prelude::*;

#[login_required(redirect = "/signin", redirect = "/login")]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
