use session_core::prelude::*;

#[skip_if_authenticated(redirect = "/")]
#[session_core::login_required]
async fn confused() -> &'static str {
    "never"
}

fn main() {}
