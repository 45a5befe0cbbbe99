//! Server-side sessions (feature `actix-session`): the claims live in an `actix_session::Session`
//! (any of its stores) instead of the signed cookie; the cookie carries only actix-session's key.
//!
//! Register actix-session's `SessionMiddleware` outside [`crate::AuthSession`] (wrapped after it):
//! `App::new().wrap(auth).wrap(SessionMiddleware::new(store, key))`.
//!
//! Guards, macros and extractors work unchanged; `login` renews actix-session's key (fixation
//! defense), `logout` purges the server-side state at once.

use actix_session::SessionExt;
use actix_web::{dev::ServiceRequest, HttpRequest};

use crate::{claims::Claims, session::Outgoing};

/// The actix-session key holding the claims.
const CLAIMS_KEY: &str = "session-core.claims";

/// The claims stored for this request's actix-session, if any. Unreadable state is anonymous.
pub(crate) fn read(req: &ServiceRequest) -> Option<Claims> {
    match req.get_session().get::<Claims>(CLAIMS_KEY) {
        Ok(claims) => claims,
        Err(e) => {
            tracing::debug!(error = %e, "server-side session state unreadable; request is anonymous");
            None
        }
    }
}

/// Applies the response's session change to the actix-session state: a new session id renews
/// actix-session's key, a removal purges the state.
pub(crate) fn write(
    req: &HttpRequest,
    outgoing: Outgoing,
    incoming_sid: Option<&str>,
) -> Result<(), actix_web::Error> {
    let session = req.get_session();
    match outgoing {
        Outgoing::Remove => session.purge(),
        Outgoing::Issue(claims) => {
            if incoming_sid != Some(claims.sid.as_str()) {
                session.renew();
            }
            session.insert(CLAIMS_KEY, claims)?;
        }
    }
    Ok(())
}
