//! [`Gate`]: what a guard that must wait (for a policy) shuts behind itself, so the handler's
//! other extractors learn nothing from the request before the guard lets it through.
//!
//! Actix builds all of a handler's extractors at once and polls each of them while another is
//! pending. A waiting guard therefore hands the request body on only through its gate (a body
//! extractor waits, the body is not read), and records the gate in the request's state, where a
//! later guard finds it and waits before it decides (stacked guards answer top to bottom).
//! A denied request's gate is never opened: actix drops its extractors with the denial.

use std::{
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll, Waker},
};

use actix_web::dev::Payload;

/// Shut until [`Gate::open`]; cheap to clone (one shared state).
#[derive(Clone, Default)]
pub(crate) struct Gate(Arc<GateState>);

#[derive(Default)]
struct GateState {
    open: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
}

impl Gate {
    pub(crate) fn is_open(&self) -> bool {
        self.0.open.load(Ordering::Acquire)
    }

    /// Lets everything waiting on the gate go on.
    pub(crate) fn open(&self) {
        self.0.open.store(true, Ordering::Release);
        let wakers = std::mem::take(&mut *self.wakers());
        wakers.into_iter().for_each(Waker::wake);
    }

    fn wakers(&self) -> std::sync::MutexGuard<'_, Vec<Waker>> {
        // A poisoned lock holds only whole wakers; waking one too many is harmless.
        self.0.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pending until the gate is open.
    fn poll_open(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_open() {
            return Poll::Ready(());
        }
        self.wakers().push(cx.waker().clone());
        // Opened meanwhile: the waker may have been taken before it was pushed.
        match self.is_open() {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }

    /// Resolves when the gate is open.
    pub(crate) async fn opened(self) {
        std::future::poll_fn(|cx| self.poll_open(cx)).await;
    }

    /// `payload` behind the gate: read only once it is open. A request without a body (most
    /// GETs) has nothing to hold back and keeps its empty payload.
    pub(crate) fn hold(&self, payload: &mut Payload) {
        if matches!(payload, Payload::None) {
            return;
        }
        let body = std::mem::replace(payload, Payload::None);
        let held: Pin<Box<dyn futures_core::Stream<Item = HeldItem>>> = Box::pin(HeldBody {
            gate: self.clone(),
            body,
        });
        *payload = Payload::from(held);
    }
}

type HeldItem = <Payload as futures_core::Stream>::Item;

/// A request body behind a [`Gate`].
struct HeldBody {
    gate: Gate,
    body: Payload,
}

impl futures_core::Stream for HeldBody {
    type Item = HeldItem;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        std::task::ready!(this.gate.poll_open(cx));
        Pin::new(&mut this.body).poll_next(cx)
    }
}
