#![deny(warnings)]

use actix_web::{get, App, Responder};
use session_core::prelude::*;

mod roles {
    pub enum Role {
        Admin,
        Editor,
    }

    impl session_core::RoleName for Role {
        fn role_name(&self) -> &str {
            match self {
                Role::Admin => "admin",
                Role::Editor => "editor",
            }
        }
    }
}

use roles::Role;

#[get("/admin")]
#[require_role(Role::Admin)]
async fn admin() -> impl Responder {
    "admin"
}

#[get("/edit")]
#[require_role(roles::Role::Editor, status = 403)]
async fn edit() -> impl Responder {
    "edit"
}

#[get("/both")]
#[authorize(all(role = Role::Admin, role = crate::roles::Role::Editor))]
async fn both() -> impl Responder {
    "both"
}

fn main() {
    let _app = App::new().service(admin).service(edit).service(both);
}
