//! The seam to where counters live: one [`ThrottleStore`] trait, implemented with plain
//! `async fn`s, one backend per file; erased once here so the throttle holds any store.

use std::{future::Future, pin::Pin, sync::Arc};

use super::store::{Counter, CounterKey, Verdict};
use crate::bound::StoreError;

/// Where counters are kept. Implemented by [`super::MemoryThrottleStore`] (one process,
/// bounded) and, with the `redis` feature, `RedisThrottleStore` (shared by every instance);
/// `Arc<S>` is a store too. What an implementation needs beyond this trait (the counters, the
/// pure [`decide`](super::store::decide) every store runs) is in [`super::store`].
///
/// Times are Unix seconds from the throttle's clock; backends need no clock of their own.
///
/// ```
/// use session_core::{
///     throttle::{
///         store::{Counter, CounterKey, Verdict},
///         ThrottleStore,
///     },
///     StoreError,
/// };
///
/// /// Lets every attempt through: a sketch of the shape, not a store to use.
/// struct Open;
///
/// impl ThrottleStore for Open {
///     async fn attempt(&self, _: &[Counter], _: i64) -> Result<Verdict, StoreError> {
///         Ok(Verdict::Allowed)
///     }
///     async fn succeeded(
///         &self,
///         _: &[CounterKey],
///         _: &[Counter],
///         _: i64,
///         _: i64,
///     ) -> Result<(), StoreError> {
///         Ok(())
///     }
/// }
/// ```
pub trait ThrottleStore: Send + Sync + 'static {
    /// Decides an attempt with [`decide`](super::store::decide) over the entries of `counters`,
    /// atomically (no other attempt on these counters in between), and keeps the updated
    /// entries.
    fn attempt(
        &self,
        counters: &[Counter],
        now: i64,
    ) -> impl Future<Output = Result<Verdict, StoreError>> + Send;

    /// Records a success of the attempt charged at `charged_at`: the `forget` counters are
    /// removed (a success resets an account), the `refund` counters give back that attempt if
    /// it was charged in their current window
    /// ([`Entry::refund`](super::store::Entry::refund)).
    fn succeeded(
        &self,
        forget: &[CounterKey],
        refund: &[Counter],
        charged_at: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A shared store is a store.
impl<S: ThrottleStore> ThrottleStore for Arc<S> {
    fn attempt(
        &self,
        counters: &[Counter],
        now: i64,
    ) -> impl Future<Output = Result<Verdict, StoreError>> + Send {
        (**self).attempt(counters, now)
    }

    fn succeeded(
        &self,
        forget: &[CounterKey],
        refund: &[Counter],
        charged_at: i64,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).succeeded(forget, refund, charged_at, now)
    }
}

/// A store call's future, boxed once.
pub(crate) type Call<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// [`ThrottleStore`], object safe: what the throttle holds.
pub(crate) trait AnyThrottleStore: Send + Sync {
    fn attempt<'a>(&'a self, counters: &'a [Counter], now: i64) -> Call<'a, Verdict>;
    fn succeeded<'a>(
        &'a self,
        forget: &'a [CounterKey],
        refund: &'a [Counter],
        charged_at: i64,
        now: i64,
    ) -> Call<'a, ()>;
}

impl<S: ThrottleStore> AnyThrottleStore for S {
    fn attempt<'a>(&'a self, counters: &'a [Counter], now: i64) -> Call<'a, Verdict> {
        Box::pin(ThrottleStore::attempt(self, counters, now))
    }

    fn succeeded<'a>(
        &'a self,
        forget: &'a [CounterKey],
        refund: &'a [Counter],
        charged_at: i64,
        now: i64,
    ) -> Call<'a, ()> {
        Box::pin(ThrottleStore::succeeded(
            self, forget, refund, charged_at, now,
        ))
    }
}
