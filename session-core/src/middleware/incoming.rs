//! The way in: the session a request arrives with (read, verified, not revoked, one chosen,
//! its user loaded), at once when nothing has to wait, or after the stores answer.

use std::sync::Arc;

use actix_web::{dev::ServiceRequest, HttpResponse};

use crate::{
    bound::StoreError,
    cache::VerifiedCache,
    claims::Claims,
    deny::unavailable,
    events::SecurityEvent,
    live::{self, LiveUser, Resolved, UserCache, UsersConfig},
    revocation_policy,
    settings::Configuration,
    state::Incoming,
    storage::{Sessions, Step, Storage},
};

/// Where the asynchronous path takes over from [`incoming_at_once`]: what it found so far.
pub(super) enum Resume {
    /// Nothing read yet.
    Start,
    /// The storage's answer (verified and announced once); revocations not yet checked.
    Read(Sessions),
    /// The session chosen, revocations checked; its user still to be loaded.
    Chosen(Arc<Claims>, bool),
}

/// The session `req` arrives with: verified, in time, not revoked, and (with a user store) its
/// user loaded and judged. `Err` is the 503 to answer when a store cannot say.
///
/// `from`: how far [`incoming_at_once`] got before something had to wait, so nothing is
/// verified, checked or announced twice.
pub(super) async fn incoming_session(
    config: &Configuration,
    storage: &dyn Storage,
    cache: &VerifiedCache,
    users_cache: &UserCache,
    req: &ServiceRequest,
    now: i64,
    from: Resume,
) -> Result<Incoming, HttpResponse> {
    let chosen = match from {
        Resume::Chosen(claims, rotated) => Some((claims, rotated)),
        Resume::Read(sessions) => not_revoked(config, req, sessions, now).await?,
        Resume::Start => match storage.read(config, cache, req, now).get().await {
            Ok(sessions) => not_revoked(config, req, sessions, now).await?,
            Err(_) => return Err(unavailable(req.request(), "session_store_unavailable")),
        },
    };
    let Some((claims, rotated)) = chosen else {
        return Ok(Incoming::anonymous());
    };
    let Some(users) = users_to_ask(config, &claims) else {
        return Ok(standing(claims, rotated, None));
    };
    let resolved = live::resolve(users, &config.fingerprint_keys, users_cache, &claims, now).await;
    judged(config, req, claims, rotated, resolved)
}

/// The one session of `sessions` once the revoked ones dropped out (see [`choose`]); `Err` is
/// the 503 of a revocation store that could not answer.
async fn not_revoked(
    config: &Configuration,
    req: &ServiceRequest,
    mut sessions: Sessions,
    now: i64,
) -> Result<Option<(Arc<Claims>, bool)>, HttpResponse> {
    // Revoked sessions drop out before the choice: a planted dead cookie never hides a live one.
    if let Err(e) = revocation_policy::drop_revoked(config, &mut sessions, now).await {
        return Err(revocation_policy::unavailable(req.request(), &e));
    }
    Ok(choose(config, &mut sessions))
}

/// The user store to load the user of `claims` from: with one configured, for a signed-in
/// session (an anonymous one has no user).
fn users_to_ask<'a>(config: &'a Configuration, claims: &Claims) -> Option<&'a UsersConfig> {
    config.users.as_ref().filter(|_| claims.is_authenticated())
}

/// The session `claims` stands, with its user's record when one was loaded.
fn standing(claims: Arc<Claims>, rotated: bool, live: Option<LiveUser>) -> Incoming {
    Incoming {
        claims: Some(claims),
        rotated,
        live,
        ended: false,
    }
}

/// The incoming session once its user was loaded and judged ([`live::resolve`] or
/// [`live::resolve_now`]): standing with the record, ended (announced; the cookie is removed),
/// or the 503 of a store that could not answer (the session kept).
// The `Err` is the response itself, as `incoming_session`'s: moved once, on a failing request.
#[allow(clippy::result_large_err)]
fn judged(
    config: &Configuration,
    req: &ServiceRequest,
    claims: Arc<Claims>,
    rotated: bool,
    resolved: Result<Resolved, StoreError>,
) -> Result<Incoming, HttpResponse> {
    match resolved {
        Ok(Resolved::Live(user)) => Ok(standing(claims, rotated, Some(user))),
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
///
/// Takes the chosen session out of `sessions` (borrowed, not moved: it is read on every request).
fn choose(config: &Configuration, sessions: &mut Sessions) -> Option<(Arc<Claims>, bool)> {
    match sessions.len() {
        0 => None,
        1 => sessions.pop(),
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
    /// The 503 to answer (the storage, the revocation store or the user store failed).
    Unavailable(HttpResponse),
    /// Something has to wait (a session store, a revocation answer, the user store): the
    /// asynchronous path continues from where this one stopped.
    Wait(Resume),
}

/// The incoming session of `req` when it needs no waiting: the storage answers at once (the
/// cookie), the revocation store (if any) answers at once
/// ([`crate::revocation::Revocations::is_revoked_now`]) and the user store (if any) too
/// ([`crate::UserStore::load_now`]).
///
/// Invariant: this path runs the same checks as [`incoming_session`], in the same order, with
/// the same events and answers: the storage read verifies the MAC (or finds the value in the
/// verified memo) and the time checks on every request, then revoked sessions are dropped
/// (fail-closed or fail-open as configured), then one session is chosen, then its user is
/// loaded and judged ([`live::resolve_now`] shares its steps with [`live::resolve`]) and the
/// verdict settled by the same [`judged`]. Whatever has to wait is left to
/// [`incoming_session`], which continues from the step that waited ([`Resume`]).
pub(super) fn incoming_at_once(
    config: &Configuration,
    storage: &dyn Storage,
    cache: &VerifiedCache,
    users_cache: &UserCache,
    req: &ServiceRequest,
    now: i64,
) -> AtOnce {
    if !storage.reads_at_once() {
        return AtOnce::Wait(Resume::Start);
    }
    let Step::Ready(read) = storage.read(config, cache, req, now) else {
        // `reads_at_once` said otherwise; the asynchronous path reads it properly.
        return AtOnce::Wait(Resume::Start);
    };
    let Ok(mut sessions) = read else {
        return AtOnce::Unavailable(unavailable(req.request(), "session_store_unavailable"));
    };
    match revocation_policy::drop_revoked_now(config, &mut sessions, now) {
        None => return AtOnce::Wait(Resume::Read(sessions)),
        Some(Err(e)) => {
            return AtOnce::Unavailable(revocation_policy::unavailable(req.request(), &e))
        }
        Some(Ok(())) => {}
    }
    let Some((claims, rotated)) = choose(config, &mut sessions) else {
        return AtOnce::Incoming(Incoming::anonymous());
    };
    let Some(users) = users_to_ask(config, &claims) else {
        return AtOnce::Incoming(standing(claims, rotated, None));
    };
    let keys = &config.fingerprint_keys;
    let Some(resolved) = live::resolve_now(users, keys, users_cache, &claims, now) else {
        return AtOnce::Wait(Resume::Chosen(claims, rotated));
    };
    match judged(config, req, claims, rotated, resolved) {
        Ok(incoming) => AtOnce::Incoming(incoming),
        Err(unavailable) => AtOnce::Unavailable(unavailable),
    }
}
