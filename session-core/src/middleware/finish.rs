//! The way out: after the handler, the set-up mistake to answer, or the session change to
//! settle with the revocation store, announce and write through the storage.

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::ServiceResponse,
    Error,
};

use crate::{
    error::SessionError,
    events::SecurityEvent,
    revocation_policy,
    state::{Outgoing, RequestState},
    storage::Storage,
};

pub(super) type Answer<B> = Result<ServiceResponse<EitherBody<B>>, Error>;

/// What follows the handler: the answer at once (nothing to write: no I/O, no box), or the
/// write of the session change, which may wait on a store.
pub(super) enum Finish<B> {
    Done(ServiceResponse<EitherBody<B>>),
    Write(Pin<Box<dyn Future<Output = Answer<B>>>>),
}

/// What follows the handler, decided from the request's state alone: the response is not
/// moved to learn it, so the common request (nothing to write) hands the handler's response on
/// as it is.
pub(super) enum After {
    /// Nothing to answer or write: the handler's response goes out unchanged.
    Nothing,
    /// The app's wiring is wrong (an `Option<Current<U>>` may have hidden it from the handler):
    /// the mistake is the answer, and no cookie is written.
    Mistake(SessionError),
    /// The session change to settle and write.
    Write(Outgoing),
}

/// What follows the handler of the request `state` belongs to.
pub(super) fn after(state: &RequestState) -> After {
    if let Some(mistake) = state.take_mistake() {
        return After::Mistake(mistake);
    }
    match state.outgoing() {
        None => After::Nothing,
        Some(outgoing) => After::Write(outgoing),
    }
}

/// After the handler: a set-up mistake, nothing to write, or the session change to settle and
/// write.
pub(super) fn finish<B: MessageBody + 'static>(
    state: Arc<RequestState>,
    storage: Arc<dyn Storage>,
    res: ServiceResponse<B>,
) -> Finish<B> {
    let after = after(&state);
    finish_after(after, state, storage, res)
}

/// [`finish`] once [`after`] has decided.
pub(super) fn finish_after<B: MessageBody + 'static>(
    after: After,
    state: Arc<RequestState>,
    storage: Arc<dyn Storage>,
    res: ServiceResponse<B>,
) -> Finish<B> {
    let outgoing = match after {
        After::Nothing => return Finish::Done(res.map_into_left_body()),
        After::Mistake(mistake) => {
            return Finish::Done(res.error_response(mistake).map_into_right_body())
        }
        After::Write(outgoing) => outgoing,
    };
    Finish::Write(Box::pin(async move {
        // Revocation first (end, stamp, record): a change the store cannot back is not
        // written, and a sign-out it cannot make is not announced.
        let (outgoing, revoked) = revocation_policy::settle(&state, res.request(), outgoing).await;
        if let Some(outgoing) = &outgoing {
            announce(&state, outgoing);
        }
        let mut res = match revoked {
            Ok(()) => res.map_into_left_body(),
            Err(e) => {
                let unavailable = revocation_policy::unavailable(res.request(), &e);
                res.into_response(unavailable).map_into_right_body()
            }
        };
        if let Some(outgoing) = outgoing {
            deliver(&*storage, &state, &mut res, outgoing).await?;
        }
        Ok(res)
    }))
}

/// The sign-in or sign-out `outgoing` makes, as a security event: a new session of a user started
/// in this request, or the removal of the signed-in session the request arrived with (sessions
/// that ended on arrival arrive as anonymous and were announced as refused).
fn announce(state: &RequestState, outgoing: &Outgoing) {
    let incoming = state.incoming.as_deref();
    let event = match outgoing {
        Outgoing::Remove => incoming
            .and_then(|c| c.sub.clone())
            .map(|user| SecurityEvent::SignedOut { user }),
        Outgoing::Issue(claims) => {
            let new_session = incoming.is_none_or(|c| c.sid != claims.sid);
            let started_now = claims.auth_time == state.now;
            claims
                .sub
                .clone()
                .filter(|_| new_session && started_now)
                .map(|user| SecurityEvent::SignedIn { user })
        }
    };
    if let Some(event) = event {
        state.config.emit(event);
    }
}

/// Writes the response's session change through the configured storage.
async fn deliver<B>(
    storage: &dyn Storage,
    state: &RequestState,
    res: &mut ServiceResponse<B>,
    outgoing: Outgoing,
) -> Result<(), Error> {
    let req = res.request().clone();
    storage
        .write(state, &req, res.headers_mut(), outgoing)
        .get()
        .await
}
