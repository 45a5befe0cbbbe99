use session_core::prelude::*;

#[policy]
fn is_owner(user: AuthUser) -> bool {
    user.id() == "alice"
}

fn main() {}
