//! Revocation policy: what the middleware, [`crate::Session`] and [`crate::AuthSession`] ask of
//! the configured store, and what a store that cannot answer means for the request. The middleware
//! only orders the steps: [`drop_revoked`] on the way in, [`settle`] on the way out.
//!
//! Every store call is bounded by the configured timeout ([`crate::bound::Bound`]); failing
//! closed (the default), a failure answers 503 ([`unavailable`]); failing open, it is logged and
//! the request goes on as stated beside each step.

use actix_web::{http::header, HttpRequest, HttpResponse};

use crate::{
    bound::StoreError,
    claims::Claims,
    deny,
    events::SecurityEvent,
    live::{self, LiveUser},
    revocation::{device_label, store::SessionRecord, ActiveSession, RevocationError},
    settings::{Configuration, RevocationConfig},
    state::{Outgoing, RequestState},
    storage::{Sessions, MAX_SESSION_COOKIES},
};

/// Revokes one session by its id, until the latest moment a cookie of it could be valid.
pub(crate) async fn revoke_session(
    config: &Configuration,
    sid: &str,
) -> Result<(), RevocationError> {
    let revocation = config.revocation()?;
    let now = config.clock.now();
    let until = now.saturating_add(config.absolute_timeout);
    let revoke = revocation.store.revoke_session(sid, until, now);
    Ok(revocation.bound.call(revoke).await?)
}

/// `user`'s active sessions for an administrator's view, none marked current: with a user store,
/// only those bound to the credentials the user has now, and none for a user it does not know.
pub(crate) async fn sessions_of(
    config: &Configuration,
    user: &str,
) -> Result<Vec<ActiveSession>, RevocationError> {
    let live = match &config.users {
        Some(users) => match users.bound.call(users.store.load(user)).await? {
            Some(record) => Some(record),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    active_sessions(config, user, live.as_ref(), None).await
}

/// Revokes every session of `user` started before the call; the user's new generation.
pub(crate) async fn revoke_user(
    config: &Configuration,
    user: &str,
) -> Result<u64, RevocationError> {
    let revocation = config.revocation()?;
    let now = config.clock.now();
    let until = now.saturating_add(config.absolute_timeout);
    let revoke = revocation.store.revoke_user(user, until, now);
    Ok(revocation.bound.call(revoke).await?)
}

/// `user`'s listed sessions, newest sign-in first, with `current_sid` marked; with a `live`
/// record, only those bound to its current credentials (a credential change ended the others).
pub(crate) async fn active_sessions(
    config: &Configuration,
    user: &str,
    live: Option<&LiveUser>,
    current_sid: Option<&str>,
) -> Result<Vec<ActiveSession>, RevocationError> {
    let revocation = config.revocation()?;
    let now = config.clock.now();
    let listed = revocation
        .bound
        .call(revocation.store.sessions(user, now))
        .await?;
    let mut sessions: Vec<_> = listed
        .into_iter()
        .filter(|s| {
            live.is_none_or(|live| {
                live::fingerprint_matches(live.as_ref(), s.fp.as_deref(), &config.fingerprint_keys)
            })
        })
        .map(|s| ActiveSession::new(s, current_sid))
        .collect();
    sessions.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.id.cmp(&b.id)));
    Ok(sessions)
}

/// Ends session `sid` of `user` ([`crate::Session::end_session`] for a session other than the
/// request's own).
///
/// Invariant: only a session in `user`'s own list can be ended; any other id, another user's
/// session among them, fails with [`RevocationError::UnknownSession`] and changes nothing.
pub(crate) async fn end_session(
    config: &Configuration,
    user: &str,
    live: Option<&LiveUser>,
    sid: &str,
) -> Result<(), RevocationError> {
    let revocation = config.revocation()?;
    let listed = active_sessions(config, user, live, None).await?;
    let ended = listed
        .iter()
        .find(|s| s.id == sid)
        .ok_or(RevocationError::UnknownSession)?;
    // The last moment a cookie of it could be valid: its sign-in plus the absolute timeout.
    let until = ended.started.saturating_add(config.absolute_timeout);
    let now = config.clock.now();
    let revoke = revocation.store.revoke_session(sid, until, now);
    revocation.bound.call(revoke).await?;
    // The list leaves revoked sessions out anyway; forgetting it is only tidying up.
    let forget = revocation.store.forget_session(user, sid);
    if let Err(e) = revocation.bound.call(forget).await {
        tracing::debug!(error = %e, "ended session left in its user's list until listed");
    }
    config.emit(SecurityEvent::SessionEnded {
        user: user.to_owned(),
    });
    Ok(())
}

/// Drops the revoked sessions from those a request arrived with, each announced as refused.
/// Revoked sessions drop out before the middleware chooses one, so a planted dead cookie never
/// hides a live one. A store failure is an error when failing closed; failing open, it is
/// logged and the session counts as not revoked.
pub(crate) async fn drop_revoked(
    config: &Configuration,
    sessions: &mut Sessions,
    now: i64,
) -> Result<(), StoreError> {
    let mut i = 0;
    while i < sessions.len() {
        if is_revoked(config, &sessions[i].0, now).await? {
            config.emit(SecurityEvent::SessionRefused { reason: "revoked" });
            sessions.swap_remove(i);
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// [`drop_revoked`] when the store answers every session at once
/// ([`crate::revocation::Revocations::is_revoked_now`]): `None` (nothing dropped, nothing
/// announced) when one answer has to wait, so the caller takes the asynchronous path with the
/// same sessions. The same answers, events and failures as `drop_revoked` otherwise.
pub(crate) fn drop_revoked_now(
    config: &Configuration,
    sessions: &mut Sessions,
    now: i64,
) -> Option<Result<(), StoreError>> {
    let Some(revocation) = &config.revocation else {
        return Some(Ok(()));
    };
    // One session (nearly every request): its answer, then the step of `drop_revoked`.
    if let [(claims, _)] = &sessions[..] {
        let answer = revoked_now(revocation, claims, now)?;
        if let Ok(false) = answer {
            // Nearly every request: nothing to settle, nothing to drop.
            return Some(Ok(()));
        }
        return Some(drop_if_revoked(config, revocation, sessions, 0, answer).map(|_| ()));
    }
    // Every answer first: one that has to wait leaves the sessions untouched.
    let mut answers: smallvec::SmallVec<[Result<bool, StoreError>; MAX_SESSION_COOKIES]> =
        smallvec::SmallVec::new();
    for (claims, _) in sessions.iter() {
        answers.push(revoked_now(revocation, claims, now)?);
    }
    // Then the loop of `drop_revoked`, step for step, on those answers.
    let mut i = 0;
    while i < sessions.len() {
        let answer = std::mem::replace(&mut answers[i], Ok(false));
        match drop_if_revoked(config, revocation, sessions, i, answer) {
            Err(e) => return Some(Err(e)),
            Ok(true) => {
                // Its answer was taken above; the last one moves to `i` with its session.
                let _taken = answers.swap_remove(i);
            }
            Ok(false) => i += 1,
        }
    }
    Some(Ok(()))
}

/// The store's answer for one session of [`drop_revoked_now`], if it has one at once.
fn revoked_now(
    revocation: &RevocationConfig,
    claims: &Claims,
    now: i64,
) -> Option<Result<bool, StoreError>> {
    let Some(user) = &claims.sub else {
        return Some(Ok(false));
    };
    let generation = claims.gen.unwrap_or(0);
    revocation
        .store
        .is_revoked_now(&claims.sid, user, generation, now)
}

/// One step of [`drop_revoked`] on the store's `answer` for session `i`: failing open or
/// closed as configured, and a revoked session dropped (announced; the last session moves to
/// `i`). Whether it was dropped.
fn drop_if_revoked(
    config: &Configuration,
    revocation: &RevocationConfig,
    sessions: &mut Sessions,
    i: usize,
    answer: Result<bool, StoreError>,
) -> Result<bool, StoreError> {
    let revoked = revocation
        .bound
        .settle(answer, false, "revocation check failed")?;
    if revoked {
        config.emit(SecurityEvent::SessionRefused { reason: "revoked" });
        sessions.swap_remove(i);
    }
    Ok(revoked)
}

/// Whether an authenticated session was revoked (see [`drop_revoked`] for failures).
async fn is_revoked(config: &Configuration, claims: &Claims, now: i64) -> Result<bool, StoreError> {
    let (Some(revocation), Some(user)) = (&config.revocation, &claims.sub) else {
        return Ok(false);
    };
    let generation = claims.gen.unwrap_or(0);
    let check = revocation
        .store
        .is_revoked(&claims.sid, user, generation, now);
    let what = "revocation check failed";
    revocation.bound.call_or(check, false, what).await
}

/// The revocation steps of a response that changes the session, in order: revoke the session
/// it ends, stamp a new session with its generation, record the issued session in its user's
/// list. What the response then writes (`None`: nothing), and the store failure to answer 503
/// with.
///
/// Invariant: a session change that ends a session (logout, renew, a login over another
/// session) says it worked only when the old session is revoked. If the store cannot revoke
/// it, the answer is 503, nothing is written (the client keeps its cookie and may retry) and no
/// sign-out is announced.
pub(crate) async fn settle(
    state: &RequestState,
    req: &HttpRequest,
    mut outgoing: Outgoing,
) -> (Option<Outgoing>, Result<(), StoreError>) {
    if let Some((sid, until)) = state.ended_session(&outgoing) {
        if let Err(e) = revoke_ended(state, sid, until).await {
            return (None, Err(e));
        }
    }
    if let Err(e) = stamp_generation(state, &mut outgoing).await {
        // The new session cannot be bound to its generation: it is not issued.
        return (Some(Outgoing::Remove), Err(e));
    }
    record_issued(state, req, outgoing).await
}

/// Revokes the session id a logout (or a login over another user's session) ended, so a copy
/// of the old cookie is refused. Failing open logs and goes on.
async fn revoke_ended(state: &RequestState, sid: &str, until: i64) -> Result<(), StoreError> {
    let Some(revocation) = &state.config.revocation else {
        return Ok(());
    };
    let write = revocation.store.revoke_session(sid, until, state.now);
    let what = "could not revoke the ended session";
    revocation.bound.call_or(write, (), what).await
}

/// Stamps a session started in this request with its user's revocation generation as it stood
/// when the request began, so a `revoke_user` (on any instance) that returned after the request
/// began covers it, even one that ran while the handler was running. A store failure fails
/// closed (503) or, when failing open, leaves the session at generation 0, which any past
/// `revoke_user` covers.
async fn stamp_generation(state: &RequestState, outgoing: &mut Outgoing) -> Result<(), StoreError> {
    let (Some(revocation), Outgoing::Issue(claims)) = (&state.config.revocation, outgoing) else {
        return Ok(());
    };
    let started_now = claims.auth_time == state.now && claims.gen.is_none();
    let Some(user) = claims.sub.as_deref().filter(|_| started_now) else {
        return Ok(());
    };
    let read = async {
        let generation = revocation.store.login_generation(user, state.began()).await;
        generation.map(Some)
    };
    let what = "revocation generation unread";
    claims.gen = revocation.bound.call_or(read, None, what).await?;
    Ok(())
}

/// Records the signed-in session `outgoing` issues in its user's list ("My sessions"): at login
/// and at every re-issue, so a request that writes no cookie costs the list nothing. Device and
/// address come from this request: the `User-Agent` header, reduced to a fixed label, and the
/// TCP peer (never a forwarded-for header, which any client can send).
///
/// What the response then writes, and its error. Failing closed, a session the list cannot
/// show is never issued (invariant: every cookie issued while the store answers is listed until
/// its `exp`): a new session is not started (503, as when its generation is unread); a changed
/// session is not re-issued (503, the change is lost); a plain refresh or rotation re-issue is
/// skipped and the client keeps its cookie, whose list entry still holds. A store that keeps no
/// lists records nothing.
async fn record_issued(
    state: &RequestState,
    req: &HttpRequest,
    outgoing: Outgoing,
) -> (Option<Outgoing>, Result<(), StoreError>) {
    let (Some(revocation), Outgoing::Issue(claims)) = (&state.config.revocation, &outgoing) else {
        return (Some(outgoing), Ok(()));
    };
    let Some(user) = claims.sub.as_deref() else {
        return (Some(outgoing), Ok(()));
    };
    let user_agent = req.headers().get(header::USER_AGENT);
    let record = SessionRecord {
        sid: claims.sid.clone(),
        started: claims.auth_time,
        refreshed: claims.iat,
        expires: claims.exp,
        gen: claims.gen.unwrap_or(0),
        fp: claims.fp.clone(),
        device: device_label(user_agent.and_then(|v| v.to_str().ok())),
        address: req.peer_addr().map(|addr| addr.ip().to_string()),
    };
    let write = revocation.store.record_session(user, &record, state.now);
    let written = match revocation.bound.call(write).await {
        Err(StoreError::Unsupported) => Ok(()),
        other => other,
    };
    let what = "could not record the session in its user's list";
    let Err(e) = revocation.bound.settle(written, (), what) else {
        return (Some(outgoing), Ok(()));
    };
    let new_session = state
        .incoming
        .as_deref()
        .is_none_or(|c| c.sid != claims.sid);
    if new_session {
        (Some(Outgoing::Remove), Err(e))
    } else if state.handler_changed() {
        (None, Err(e))
    } else {
        tracing::warn!(error = %e, "{what}; the session is not re-issued");
        (None, Ok(()))
    }
}

/// The 503 answer when the revocation store cannot answer and the app fails closed.
pub(crate) fn unavailable(req: &HttpRequest, e: &StoreError) -> HttpResponse {
    tracing::error!(error = %e, "revocation store unavailable; failing closed");
    deny::unavailable(req, "session_store_unavailable")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        revocation::{MemoryRevocations, Revocations},
        AuthSession, Key,
    };

    fn session(sid: &str, sub: Option<&str>) -> (Arc<Claims>, bool) {
        let claims = Claims {
            sid: sid.into(),
            sub: sub.map(Into::into),
            ..Claims::sample()
        };
        (Arc::new(claims), false)
    }

    fn sids(sessions: &Sessions) -> Vec<String> {
        let mut sids: Vec<String> = sessions.iter().map(|(c, _)| c.sid.clone()).collect();
        sids.sort();
        sids
    }

    #[actix_web::test]
    async fn the_synchronous_check_drops_what_the_asynchronous_one_drops() {
        let store = Arc::new(MemoryRevocations::new());
        let auth = AuthSession::builder(Key::generate())
            .revocations(Arc::clone(&store))
            .build()
            .expect("valid configuration");
        let config = auth.config();
        let now = config.clock.now();
        store.revoke_session("s2", now + 3600, now).await.unwrap();
        let all: Sessions = [
            session("s1", Some("alice")),
            session("s2", Some("alice")),
            session("s3", None),
            session("s4", Some("bob")),
        ]
        .into_iter()
        .collect();
        let (mut at_once, mut waited) = (all.clone(), all);
        assert!(matches!(
            drop_revoked_now(config, &mut at_once, now),
            Some(Ok(()))
        ));
        drop_revoked(config, &mut waited, now).await.unwrap();
        assert_eq!(sids(&at_once), ["s1", "s3", "s4"]);
        assert_eq!(sids(&at_once), sids(&waited));

        // Every session of bob's revoked: both paths drop s4 too.
        store.revoke_user("bob", now + 3600, now).await.unwrap();
        let mut at_once: Sessions = [session("s4", Some("bob"))].into_iter().collect();
        assert!(matches!(
            drop_revoked_now(config, &mut at_once, now),
            Some(Ok(()))
        ));
        assert!(at_once.is_empty());
    }

    /// Both paths over a store answering `answer` for every session, at once or not: the same
    /// sessions dropped and the same failure, failing open or closed, for one session (the
    /// synchronous path's shortcut) and for several.
    #[actix_web::test]
    async fn answers_and_failures_settle_alike_at_once_and_waiting() {
        struct Fixed(Result<bool, StoreError>);
        impl Revocations for Fixed {
            async fn revoke_session(&self, _: &str, _: i64, _: i64) -> Result<(), StoreError> {
                Ok(())
            }
            async fn revoke_user(&self, _: &str, _: i64, _: i64) -> Result<u64, StoreError> {
                Ok(1)
            }
            async fn generation(&self, _: &str) -> Result<u64, StoreError> {
                Ok(0)
            }
            async fn is_revoked(
                &self,
                _: &str,
                _: &str,
                _: u64,
                _: i64,
            ) -> Result<bool, StoreError> {
                self.0.clone()
            }
            fn is_revoked_now(
                &self,
                _: &str,
                _: &str,
                _: u64,
                _: i64,
            ) -> Option<Result<bool, StoreError>> {
                Some(self.0.clone())
            }
        }
        let down = || Err(StoreError::Unavailable("down".into()));
        for answer in [Ok(false), Ok(true), down()] {
            for fail_open in [false, true] {
                let revocation = crate::config::Revocation::new(Fixed(answer.clone()));
                let auth = AuthSession::builder(Key::generate())
                    .revocations(revocation.fail_open(fail_open))
                    .build()
                    .expect("valid configuration");
                let config = auth.config();
                let now = config.clock.now();
                let one = || -> Sessions { [session("s1", Some("alice"))].into_iter().collect() };
                let several = || -> Sessions {
                    [
                        session("s1", Some("alice")),
                        session("s2", None),
                        session("s3", Some("bob")),
                    ]
                    .into_iter()
                    .collect()
                };
                for all in [one(), several()] {
                    let count = all.len();
                    let (mut at_once, mut waited) = (all.clone(), all);
                    let now_result =
                        drop_revoked_now(config, &mut at_once, now).expect("answered at once");
                    let waited_result = drop_revoked(config, &mut waited, now).await;
                    let case = format!("{answer:?}, fail_open={fail_open}, {count} sessions");
                    assert_eq!(now_result, waited_result, "{case}");
                    assert_eq!(sids(&at_once), sids(&waited), "{case}");
                    let want_failure = answer.is_err() && !fail_open;
                    assert_eq!(now_result.is_err(), want_failure, "{case}");
                    if answer == Ok(true) {
                        // Only the anonymous session (no user) is never revoked.
                        assert!(sids(&at_once).iter().all(|sid| sid == "s2"), "{case}");
                    }
                }
            }
        }
    }

    /// A store without a synchronous answer (the trait's default) leaves the sessions as they
    /// were, for the asynchronous path.
    #[actix_web::test]
    async fn a_store_that_has_to_wait_leaves_the_sessions_untouched() {
        struct Asks(MemoryRevocations);
        impl Revocations for Asks {
            async fn revoke_session(
                &self,
                sid: &str,
                until: i64,
                now: i64,
            ) -> Result<(), StoreError> {
                self.0.revoke_session(sid, until, now).await
            }
            async fn revoke_user(
                &self,
                user: &str,
                until: i64,
                now: i64,
            ) -> Result<u64, StoreError> {
                self.0.revoke_user(user, until, now).await
            }
            async fn generation(&self, user: &str) -> Result<u64, StoreError> {
                self.0.generation(user).await
            }
            async fn is_revoked(
                &self,
                sid: &str,
                user: &str,
                generation: u64,
                now: i64,
            ) -> Result<bool, StoreError> {
                self.0.is_revoked(sid, user, generation, now).await
            }
        }
        let store = Arc::new(Asks(MemoryRevocations::new()));
        let auth = AuthSession::builder(Key::generate())
            .revocations(Arc::clone(&store))
            .build()
            .expect("valid configuration");
        let config = auth.config();
        let now = config.clock.now();
        store.revoke_session("s2", now + 3600, now).await.unwrap();
        let mut sessions: Sessions = [session("s1", Some("alice")), session("s2", Some("alice"))]
            .into_iter()
            .collect();
        assert!(drop_revoked_now(config, &mut sessions, now).is_none());
        assert_eq!(sids(&sessions), ["s1", "s2"]);
        drop_revoked(config, &mut sessions, now).await.unwrap();
        assert_eq!(sids(&sessions), ["s1"]);
    }
}
