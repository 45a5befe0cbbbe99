#![deny(warnings)]

// A guarded free function inside an associated function's body, and an unguarded associated
// function of the same name as a guarded free one: both are free-function handlers, and the
// associated-function check (which reads this file) must not refuse them.
use actix_web::{web, App, Responder};
use session_core::prelude::*;

struct Routes;

impl Routes {
    fn configure(config: &mut web::ServiceConfig) {
        #[login_required]
        async fn inner(user: AuthUser) -> impl Responder {
            user.id().to_owned()
        }
        config.route("/inner", web::get().to(inner));
    }

    #[allow(dead_code)]
    async fn dashboard() -> &'static str {
        "not a handler"
    }
}

#[login_required]
async fn dashboard(user: AuthUser) -> impl Responder {
    user.id().to_owned()
}

fn main() {
    let _ = App::new()
        .configure(Routes::configure)
        .route("/", web::get().to(dashboard));
}
