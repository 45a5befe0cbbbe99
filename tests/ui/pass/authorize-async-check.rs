#![deny(warnings)]

use actix_web::{get, web, App, HttpRequest, Responder};
use session_core::prelude::*;

struct Owners(Vec<String>);

mod policy {
    use actix_web::{web, HttpRequest};
    use session_core::AuthUser;

    /// Reaches app state through the request, as a database pool would be reached.
    pub async fn owns_the_post(user: AuthUser, req: HttpRequest) -> bool {
        let owners = req.app_data::<web::Data<super::Owners>>();
        owners.is_some_and(|owners| owners.0.iter().any(|o| o == user.id()))
    }
}

fn is_staff(user: &AuthUser) -> bool {
    user.id().ends_with("@staff")
}

async fn not_banned(user: AuthUser, _req: HttpRequest) -> bool {
    !user.has_role("banned")
}

#[get("/posts/edit")]
#[authorize(check = policy::owns_the_post)]
async fn edit() -> impl Responder {
    "edit"
}

#[get("/posts/review")]
#[authorize(all(any(check = is_staff, check = policy::owns_the_post), not(check = not_banned)), status = 404)]
async fn review() -> impl Responder {
    "review"
}

fn main() {
    let _app = App::new()
        .app_data(web::Data::new(Owners(vec!["alice".into()])))
        .service(edit)
        .service(review);
    let _unused: Option<HttpRequest> = None;
}
