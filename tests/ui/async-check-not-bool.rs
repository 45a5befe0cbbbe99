use actix_web::HttpRequest;
use session_core::prelude::*;

async fn owner_of(user: AuthUser, _req: HttpRequest) -> String {
    user.id().to_owned()
}

#[authorize(any(role = "admin", check = owner_of))]
async fn edit() -> &'static str {
    "edit"
}

fn main() {}
