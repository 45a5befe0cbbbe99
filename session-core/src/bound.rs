//! One way to call a store: bounded by a timeout, failing open or closed.
//!
//! Every store this crate calls (revocations, the throttle's counters, the app's users, an
//! actix-session store) is called through [`Bound`], and every backend failure, whatever the
//! store, is one type: [`StoreError`], which store implementors return.
//!
//! Invariants:
//! - no store call outlives its timeout: past it, the call is dropped and answers
//!   [`StoreError::Timeout`], so no request hangs on a store;
//! - a failure is never silent: failing open logs it as a warning, failing closed hands it to
//!   the caller (which answers 503).

use std::{
    fmt,
    future::{poll_fn, Future},
    pin::pin,
    task::Poll,
    time::Duration,
};

/// A store could not answer: what [`crate::revocation::Revocations`] and
/// [`crate::throttle::ThrottleStore`] implementations return, and the store's part of
/// [`crate::revocation::RevocationError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend failed (connection refused, protocol error, ...).
    Unavailable(String),
    /// The backend did not answer within the configured timeout.
    Timeout,
    /// The store does not do this: an optional method it does not implement (a revocation
    /// store that keeps no lists of sessions, see [`crate::revocation::Revocations::sessions`]).
    Unsupported,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(e) => write!(f, "store unavailable: {e}"),
            Self::Timeout => f.write_str("store did not answer in time"),
            Self::Unsupported => f.write_str("the store does not support this call"),
        }
    }
}

impl std::error::Error for StoreError {}

/// How calls to one store are bounded: how long one may take, and whether a failure lets the
/// request go on (fail open) or stops it (fail closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    timeout: Duration,
    fail_open: bool,
}

impl Bound {
    /// Calls that may take `timeout`; failures stand unless `fail_open`.
    pub(crate) const fn new(timeout: Duration, fail_open: bool) -> Self {
        Self { timeout, fail_open }
    }

    /// Calls that may take `timeout`, every failure standing.
    pub(crate) const fn closed(timeout: Duration) -> Self {
        Self::new(timeout, false)
    }

    /// `call`, or [`StoreError::Timeout`] once the timeout has passed (the call is dropped).
    ///
    /// `call` is polled once before the timer is armed: a store that answers at once (an
    /// in-memory map, the revocation mirror) costs no timer and no clock read. The timeout
    /// still bounds every call that has to wait: it starts at that first poll's return, and a
    /// poll that does not return could not be stopped by any timer.
    pub(crate) async fn call<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let mut call = pin!(call);
        if let Poll::Ready(answer) = poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await {
            return answer;
        }
        actix_web::rt::time::timeout(self.timeout, call)
            .await
            .unwrap_or(Err(StoreError::Timeout))
    }

    /// A call's result under the fail-open policy: failing open, an error is logged (`what`
    /// failed) and `fallback` stands in for the answer; failing closed, the error stands.
    pub(crate) fn settle<T>(
        &self,
        result: Result<T, StoreError>,
        fallback: T,
        what: &str,
    ) -> Result<T, StoreError> {
        match result {
            Err(e) if self.fail_open => {
                tracing::warn!(error = %e, "{what}; failing open");
                Ok(fallback)
            }
            other => other,
        }
    }

    /// [`Self::call`], then [`Self::settle`].
    pub(crate) async fn call_or<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
        fallback: T,
        what: &str,
    ) -> Result<T, StoreError> {
        let result = self.call(call).await;
        self.settle(result, fallback, what)
    }
}

#[cfg(test)]
mod tests {
    use std::future::{pending, ready};

    use super::*;

    const MS: Duration = Duration::from_millis(20);

    #[actix_web::test]
    async fn a_call_past_its_timeout_is_a_timeout() {
        let bound = Bound::closed(MS);
        let hung = bound.call(pending::<Result<(), StoreError>>()).await;
        assert_eq!(hung, Err(StoreError::Timeout));
        assert_eq!(bound.call(ready(Ok(7))).await, Ok(7));
    }

    #[actix_web::test]
    async fn failing_open_stands_in_the_fallback_and_closed_keeps_the_error() {
        let table = [
            (false, Ok(1), Ok(1)),
            (true, Ok(1), Ok(1)),
            (
                false,
                Err(StoreError::Unavailable("down".into())),
                Err(StoreError::Unavailable("down".into())),
            ),
            (true, Err(StoreError::Unavailable("down".into())), Ok(0)),
            (true, Err(StoreError::Timeout), Ok(0)),
        ];
        for (fail_open, answer, want) in table {
            let bound = Bound::new(MS, fail_open);
            let got = bound.call_or(ready(answer.clone()), 0, "test").await;
            assert_eq!(got, want, "fail_open={fail_open}, answer={answer:?}");
        }
        let open = Bound::new(MS, true);
        let hung = open.call_or(pending::<Result<i32, _>>(), 0, "test").await;
        assert_eq!(hung, Ok(0), "a timeout fails open too");
    }
}
