use session_core::prelude::*;

#[skip_if_authenticated(redirect = "//evil.example/home")]
async fn login_form() -> &'static str {
    "form"
}

fn main() {}
