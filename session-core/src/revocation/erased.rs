//! A [`Revocations`] store with its futures boxed, so the configuration holds any store as one
//! `Arc<dyn AnyRevocations>` and the middleware stays non-generic. Private: store authors write
//! plain `async fn`s, and the one box per call is made here.

use std::{future::Future, pin::Pin, time::Instant};

use super::{store::SessionRecord, Revocations};
use crate::bound::StoreError;

/// A store call's future, boxed once.
pub(crate) type Call<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// [`Revocations`], object safe.
pub(crate) trait AnyRevocations: Send + Sync {
    fn revoke_session<'a>(&'a self, sid: &'a str, until: i64, now: i64) -> Call<'a, ()>;
    fn revoke_user<'a>(&'a self, user: &'a str, until: i64, now: i64) -> Call<'a, u64>;
    fn login_generation<'a>(&'a self, user: &'a str, began: Instant) -> Call<'a, u64>;
    fn is_revoked<'a>(
        &'a self,
        sid: &'a str,
        user: &'a str,
        generation: u64,
        now: i64,
    ) -> Call<'a, bool>;
    fn is_revoked_now(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Option<Result<bool, StoreError>>;
    fn record_session<'a>(
        &'a self,
        user: &'a str,
        session: &'a SessionRecord,
        now: i64,
    ) -> Call<'a, ()>;
    fn sessions<'a>(&'a self, user: &'a str, now: i64) -> Call<'a, Vec<SessionRecord>>;
    fn forget_session<'a>(&'a self, user: &'a str, sid: &'a str) -> Call<'a, ()>;
}

impl<S: Revocations> AnyRevocations for S {
    fn revoke_session<'a>(&'a self, sid: &'a str, until: i64, now: i64) -> Call<'a, ()> {
        Box::pin(Revocations::revoke_session(self, sid, until, now))
    }

    fn revoke_user<'a>(&'a self, user: &'a str, until: i64, now: i64) -> Call<'a, u64> {
        Box::pin(Revocations::revoke_user(self, user, until, now))
    }

    fn login_generation<'a>(&'a self, user: &'a str, began: Instant) -> Call<'a, u64> {
        Box::pin(Revocations::login_generation(self, user, began))
    }

    fn is_revoked<'a>(
        &'a self,
        sid: &'a str,
        user: &'a str,
        generation: u64,
        now: i64,
    ) -> Call<'a, bool> {
        Box::pin(Revocations::is_revoked(self, sid, user, generation, now))
    }

    fn is_revoked_now(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Option<Result<bool, StoreError>> {
        Revocations::is_revoked_now(self, sid, user, generation, now)
    }

    fn record_session<'a>(
        &'a self,
        user: &'a str,
        session: &'a SessionRecord,
        now: i64,
    ) -> Call<'a, ()> {
        Box::pin(Revocations::record_session(self, user, session, now))
    }

    fn sessions<'a>(&'a self, user: &'a str, now: i64) -> Call<'a, Vec<SessionRecord>> {
        Box::pin(Revocations::sessions(self, user, now))
    }

    fn forget_session<'a>(&'a self, user: &'a str, sid: &'a str) -> Call<'a, ()> {
        Box::pin(Revocations::forget_session(self, user, sid))
    }
}
