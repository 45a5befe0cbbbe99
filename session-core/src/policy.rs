//! Resource policies: `async fn`s over body-free extractors that decide one request
//! (`#[authorize(policy = can_edit_note)]`, [`crate::Rule::policy`], [`crate::Require::policy`]).
//!
//! Invariant: a policy never reads the request body. Its extractors run with an empty payload,
//! and only types implementing [`BodyFree`] are accepted as its parameters, so a guard still
//! answers before the handler's own extractors read the body.

use std::{borrow::Cow, fmt, future::Future, pin::Pin, sync::Arc};

use actix_web::{
    dev::{ConnectionInfo, Payload, PeerAddr},
    http::{header::Header, Method, Uri},
    web, FromRequest, Handler, HttpRequest,
};
use serde::de::DeserializeOwned;

use crate::{
    session::Session,
    user::{AuthUser, Current},
    User,
};

/// An extractor that never reads the request body, so it may be a parameter of a policy, which
/// runs before the handler's extractors (with an empty payload).
///
/// Implemented for [`AuthUser`], [`Current<U>`], [`Session`], `web::Path<T>`, `web::Query<T>`,
/// `web::Data<T>`, `web::ReqData<T>`, `web::Header<H>`, `HttpRequest`, `Method`, `Uri`,
/// `ConnectionInfo`, `PeerAddr`, and `Option`/`Result` of those. An app marks its own extractor
/// when its `from_request` never touches the payload:
///
/// ```
/// use std::future::{ready, Ready};
/// use actix_web::{dev::Payload, error::ErrorBadRequest, Error, FromRequest, HttpRequest};
///
/// struct Tenant(String);
///
/// impl FromRequest for Tenant {
///     type Error = Error;
///     type Future = Ready<Result<Self, Error>>;
///     fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
///         let host = req.connection_info().host().to_owned();
///         ready(host.split('.').next().map(|t| Tenant(t.to_owned())).ok_or_else(|| ErrorBadRequest("host")))
///     }
/// }
///
/// // Reads only the request head.
/// impl session_core::BodyFree for Tenant {}
/// ```
///
/// `web::Json`, `web::Form`, `Bytes`, `String` and `Payload` read the body and are not
/// `BodyFree`: a policy taking one is a compile error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` may read the request body, so it cannot be a policy parameter",
    label = "a policy runs before the body is read: this extractor would see an empty body",
    note = "policy parameters are extractors that read only the request head: AuthUser, \
            Current<U>, web::Path, web::Query, web::Data, web::Header, HttpRequest, ...",
    note = "an extractor of your own that never reads the payload can be marked with \
            `impl session_core::BodyFree for MyExtractor {{}}`"
)]
pub trait BodyFree: FromRequest {}

impl BodyFree for AuthUser {}
impl BodyFree for Session {}
impl BodyFree for HttpRequest {}
impl BodyFree for Method {}
impl BodyFree for Uri {}
impl BodyFree for ConnectionInfo {}
impl BodyFree for PeerAddr {}
impl<U: User> BodyFree for Current<U> {}
impl<T: DeserializeOwned> BodyFree for web::Path<T> {}
impl<T: DeserializeOwned> BodyFree for web::Query<T> {}
impl<T: ?Sized + 'static> BodyFree for web::Data<T> {}
impl<T: Clone + 'static> BodyFree for web::ReqData<T> {}
impl<H: Header> BodyFree for web::Header<H> {}
impl<T: BodyFree> BodyFree for Option<T> {}
impl<T, E> BodyFree for Result<T, E>
where
    T: BodyFree,
    T::Error: Into<E>,
{
}

/// The parameters of a policy, as one tuple: every one [`BodyFree`].
#[doc(hidden)]
pub trait PolicyArgs: FromRequest {}

macro_rules! policy_args {
    ($($t:ident)*) => {
        impl<$($t: BodyFree + 'static,)*> PolicyArgs for ($($t,)*) {}
    };
}

policy_args! {}
policy_args! { A }
policy_args! { A B }
policy_args! { A B C }
policy_args! { A B C D }
policy_args! { A B C D E }
policy_args! { A B C D E F }
policy_args! { A B C D E F G }
policy_args! { A B C D E F G H }

/// What a policy returns: `bool`, or `Result<bool, E>` where `Err` means "cannot say now" (a
/// database error): the request gets a 503 with `Retry-After`, and `E` is logged, never shown.
#[diagnostic::on_unimplemented(
    message = "a policy must return `bool` or `Result<bool, E>`, not `{Self}`",
    label = "returns `{Self}`",
    note = "`Ok(false)`/`false` denies (403, or the guard's `status`); `Err(e)` answers 503 and logs `e`"
)]
pub trait PolicyOutput: 'static {
    #[doc(hidden)]
    fn into_verdict(self) -> Result<bool, String>;
}

impl PolicyOutput for bool {
    fn into_verdict(self) -> Result<bool, String> {
        Ok(self)
    }
}

impl<E: fmt::Display + 'static> PolicyOutput for Result<bool, E> {
    fn into_verdict(self) -> Result<bool, String> {
        self.map_err(|e| e.to_string())
    }
}

/// An `async fn` usable as a resource policy: its parameters are [`BodyFree`] extractors (at
/// most 8) and it returns a [`PolicyOutput`]. Mark it with `#[policy]` to have a mistake in its
/// signature reported on the offending parameter rather than where the policy is used.
///
/// ```
/// use actix_web::web;
/// use session_core::{AuthUser, Rule};
///
/// async fn owns_note(user: AuthUser, id: web::Path<u32>, owners: web::Data<Vec<String>>) -> bool {
///     owners.get(*id as usize).is_some_and(|owner| owner == user.id())
/// }
///
/// let rule = Rule::any([Rule::permission("notes:edit"), Rule::policy(owns_note)]);
/// assert_eq!(rule.to_string(), "any(permission=notes:edit, policy=owns_note)");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a policy",
    label = "expected an `async fn` over body-free extractors returning `bool` or `Result<bool, E>`",
    note = "a policy looks like `async fn can_edit(user: AuthUser, id: web::Path<u64>, db: web::Data<Db>) -> Result<bool, DbError>`"
)]
pub trait Policy<Args>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_fn(self, name: Cow<'static, str>) -> PolicyFn;
}

impl<F, Args> Policy<Args> for F
where
    F: Handler<Args> + Send + Sync,
    F::Output: PolicyOutput,
    Args: PolicyArgs + 'static,
{
    fn into_fn(self, name: Cow<'static, str>) -> PolicyFn {
        let run: RunPolicy = Arc::new(move |req: &HttpRequest| {
            let f = self.clone();
            // Invariant: the extractors get an empty payload, never the request's body.
            let args = Args::from_request(req, &mut Payload::None);
            Box::pin(async move {
                let args = args.await.map_err(|e| PolicyFailure::Extractor(e.into()))?;
                f.call(args)
                    .await
                    .into_verdict()
                    .map_err(PolicyFailure::Failed)
            })
        });
        PolicyFn { name, run }
    }
}

/// Why a policy gave no answer.
pub(crate) enum PolicyFailure {
    /// An extractor refused the request: answered as the extractor would (a bad path: 404).
    Extractor(actix_web::Error),
    /// The policy returned `Err`: logged, answered 503.
    Failed(String),
}

type RunPolicy = Arc<
    dyn Fn(&HttpRequest) -> Pin<Box<dyn Future<Output = Result<bool, PolicyFailure>>>>
        + Send
        + Sync,
>;

/// A type-erased policy and its name, as a rule holds it.
#[doc(hidden)]
#[derive(Clone)]
pub struct PolicyFn {
    pub(crate) name: Cow<'static, str>,
    run: RunPolicy,
}

impl fmt::Debug for PolicyFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy={}", self.name)
    }
}

impl PolicyFn {
    pub(crate) fn run(
        &self,
        req: &HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<bool, PolicyFailure>>>> {
        (self.run)(req)
    }
}

/// The name a policy shows in rules and denial events: the function's own name (`can_edit_note`
/// for `notes::can_edit_note`), `<closure>` for a closure.
pub(crate) fn name_of<F>() -> Cow<'static, str> {
    let full = std::any::type_name::<F>();
    let path = full.split('<').next().unwrap_or(full);
    match path.rsplit("::").next() {
        Some(name) if !name.contains('{') && !name.is_empty() => Cow::Borrowed(name),
        _ => Cow::Borrowed("<closure>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn can_edit_note(_: AuthUser) -> bool {
        true
    }

    fn name<F>(_: &F) -> Cow<'static, str> {
        name_of::<F>()
    }

    #[test]
    fn names_are_the_function_names() {
        assert_eq!(name(&can_edit_note), "can_edit_note");
        assert_eq!(name(&|_: AuthUser| async { true }), "<closure>");
    }
}
