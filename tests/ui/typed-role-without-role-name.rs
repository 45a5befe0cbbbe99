use session_core::prelude::*;

#[allow(dead_code)]
enum Role {
    Admin,
}

#[require_role(Role::Admin)]
async fn admin() -> &'static str {
    "admin"
}

fn main() {}
