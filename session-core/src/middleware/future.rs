//! The future of one request through the middleware: a small state machine, not a boxed
//! `async` block, so the fast path allocates nothing of its own.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use actix_web::{
    body::{EitherBody, MessageBody},
    dev::ServiceResponse,
    Error,
};

use super::finish::{after, finish_after, After, Answer, Finish};
use crate::{state::RequestState, storage::Storage};

pin_project_lite::pin_project! {
    /// The future of one request through [`AuthSession`]; not used directly.
    ///
    /// A small state machine rather than a boxed `async` block: on the fast path (nothing to
    /// ask a store, nothing to write) it is the inner service's future and the request state,
    /// with no allocation of its own.
    #[doc(hidden)]
    #[project = Proj]
    pub enum AuthSessionFuture<F, B> {
        /// The handler runs; then the state says what to write.
        Handling {
            #[pin]
            inner: F,
            // The request state, and the storage that writes what it says.
            state: Option<(Arc<RequestState>, Arc<dyn Storage>)>,
        },
        /// The answer is known before the handler (a store could not answer at once: 503).
        /// Boxed, on that rare path, so the future every request carries stays small (actix-web
        /// moves it into a box of its own).
        Done {
            res: Option<Box<ServiceResponse<EitherBody<B>>>>,
        },
        /// A store is asked, before the handler or for the write after it.
        Boxed {
            future: Pin<Box<dyn Future<Output = Answer<B>>>>,
        },
    }
}

impl<F, B> Future for AuthSessionFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Answer<B>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                Proj::Handling { inner, state } => {
                    let res = match inner.poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(res) => res?,
                    };
                    let (state, storage) = state.take().expect("polled after completion");
                    let after = after(&state);
                    if let After::Nothing = after {
                        // Nearly every request: the response goes out as the handler made it.
                        return Poll::Ready(Ok(res.map_into_left_body()));
                    }
                    match finish_after(after, state, storage, res) {
                        Finish::Done(res) => return Poll::Ready(Ok(res)),
                        Finish::Write(future) => self.set(AuthSessionFuture::Boxed { future }),
                    }
                }
                Proj::Done { res } => {
                    return Poll::Ready(Ok(*res.take().expect("polled after completion")))
                }
                Proj::Boxed { future } => return future.as_mut().poll(cx),
            }
        }
    }
}
