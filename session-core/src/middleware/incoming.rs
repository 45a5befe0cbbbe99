//! The way in: the session a request arrives with (read, verified, not revoked, one chosen,
//! its user loaded), at once when nothing has to wait, or after the stores answer.

use std::sync::Arc;

use actix_web::{dev::ServiceRequest, HttpResponse};

use crate::{
    cache::VerifiedCache,
    claims::Claims,
    deny::unavailable,
    events::SecurityEvent,
    live::{self, Resolved, UserCache},
    revocation_policy,
    settings::Configuration,
    state::Incoming,
    storage::{Sessions, Step, Storage},
};

/// The session `req` arrives with: verified, in time, not revoked, and (with a user store) its
/// user loaded and judged. `Err` is the 503 to answer when a store cannot say.
///
/// `read`: the storage's answer when it was read already (on the way to the synchronous path),
/// so nothing is verified or announced twice.
pub(super) async fn incoming_session(
    config: &Configuration,
    storage: &dyn Storage,
    cache: &VerifiedCache,
    users_cache: &UserCache,
    req: &ServiceRequest,
    now: i64,
    read: Option<Sessions>,
) -> Result<Incoming, HttpResponse> {
    let read = match read {
        Some(sessions) => Ok(sessions),
        None => storage.read(config, cache, req, now).get().await,
    };
    let Ok(mut sessions) = read else {
        return Err(unavailable(req.request(), "session_store_unavailable"));
    };
    // Revoked sessions drop out before the choice: a planted dead cookie never hides a live one.
    if let Err(e) = revocation_policy::drop_revoked(config, &mut sessions, now).await {
        return Err(revocation_policy::unavailable(req.request(), &e));
    }
    let Some((claims, rotated)) = choose(config, sessions) else {
        return Ok(Incoming::anonymous());
    };
    let standing = |live| Incoming {
        claims: Some(Arc::clone(&claims)),
        rotated,
        live,
        ended: false,
    };
    if !claims.is_authenticated() {
        return Ok(standing(None));
    }
    let Some(users) = &config.users else {
        return Ok(standing(None));
    };
    match live::resolve(users, &config.fingerprint_keys, users_cache, &claims, now).await {
        Ok(Resolved::Live(user)) => Ok(standing(Some(user))),
        Ok(Resolved::Ended(reason)) => {
            config.emit(SecurityEvent::SessionRefused { reason });
            Ok(Incoming {
                ended: true,
                ..Incoming::anonymous()
            })
        }
        Err(e) => {
            tracing::error!(error = %e, "user store unavailable; the session is kept");
            Err(unavailable(req.request(), "user_store_unavailable"))
        }
    }
}

/// The one session of a request among the live ones it carries (revoked ones already dropped).
///
/// Two different live sessions in one request: one of them was planted (cookie tossing from a
/// sibling domain or a plain-HTTP page). Neither is used, and neither is re-issued.
fn choose(config: &Configuration, mut sessions: Sessions) -> Option<(Arc<Claims>, bool)> {
    match sessions.len() {
        0 => None,
        1 => Some(sessions.swap_remove(0)),
        _ => {
            config.emit(SecurityEvent::SessionRefused {
                reason: "ambiguous",
            });
            None
        }
    }
}

/// What the synchronous path found before the handler.
pub(super) enum AtOnce {
    /// The incoming session, every check done.
    Incoming(Incoming),
    /// The 503 to answer (the storage or the revocation store failed).
    Unavailable(HttpResponse),
    /// Something has to wait (a session store, a revocation answer, the user store): the
    /// asynchronous path continues, with the sessions when the storage was read already.
    Wait(Option<Sessions>),
}

/// The incoming session of `req` when it needs no waiting: the storage answers at once (the
/// cookie), the revocation store (if any) answers at once
/// ([`crate::revocation::Revocations::is_revoked_now`]) and no user store has to be asked.
///
/// Invariant: this path runs the same checks as [`incoming_session`], in the same order: the
/// storage read verifies the MAC (or finds the value in the verified memo) and the time checks
/// on every request, then revoked sessions are dropped (fail-closed or fail-open as
/// configured), then one session is chosen. Whatever has to wait is left to
/// [`incoming_session`], which continues from the same sessions.
pub(super) fn incoming_at_once(
    config: &Configuration,
    storage: &dyn Storage,
    cache: &VerifiedCache,
    req: &ServiceRequest,
    now: i64,
) -> AtOnce {
    if !storage.reads_at_once() {
        return AtOnce::Wait(None);
    }
    let Step::Ready(read) = storage.read(config, cache, req, now) else {
        // `reads_at_once` said otherwise; the asynchronous path reads it properly.
        return AtOnce::Wait(None);
    };
    let Ok(mut sessions) = read else {
        return AtOnce::Unavailable(unavailable(req.request(), "session_store_unavailable"));
    };
    if config.users.is_some() {
        return AtOnce::Wait(Some(sessions));
    }
    match revocation_policy::drop_revoked_now(config, &mut sessions, now) {
        None => return AtOnce::Wait(Some(sessions)),
        Some(Err(e)) => {
            return AtOnce::Unavailable(revocation_policy::unavailable(req.request(), &e))
        }
        Some(Ok(())) => {}
    }
    AtOnce::Incoming(match choose(config, sessions) {
        Some((claims, rotated)) => Incoming {
            claims: Some(claims),
            rotated,
            live: None,
            ended: false,
        },
        None => Incoming::anonymous(),
    })
}
