use session_core::prelude::*;

#[login_required(redirect = "/signin", status = 401)]
async fn dashboard() -> &'static str {
    "dashboard"
}

fn main() {}
