use session_core::prelude::*;

enum Role {
    Admin,
    Editor,
}

impl RoleName for Role {
    fn role_name(&self) -> &str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
        }
    }
}

#[require_role(Role::Moderator)]
async fn moderate() -> &'static str {
    "moderate"
}

fn main() {}
