use actix_web::web::Bytes;
use session_core::prelude::*;

// Without `#[policy]`, the same mistake is reported where the policy is used.
async fn signed_body(_user: AuthUser, body: Bytes) -> bool {
    !body.is_empty()
}

#[authorize(any(role = "admin", policy = signed_body))]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
