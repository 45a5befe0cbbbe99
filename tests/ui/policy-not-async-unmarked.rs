use session_core::prelude::*;

// Without `#[policy]`, a plain `fn` is refused where it is used as a policy.
fn is_owner(user: AuthUser) -> bool {
    user.id() == "alice"
}

#[authorize(policy = is_owner)]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
