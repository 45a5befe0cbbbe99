use actix_web::web;
use session_core::prelude::*;

#[policy]
async fn owner_of(_user: AuthUser, id: web::Path<u64>) -> Option<u64> {
    Some(*id)
}

fn main() {}
