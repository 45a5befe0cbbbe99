//! The throttle's refusals as HTTP answers: 429 with `Retry-After`, or 503 when the store cannot
//! answer and the throttle fails closed. JSON or an HTML page, negotiated on `Accept` like the
//! other deny answers ([`crate::AuthError`]).

use std::{fmt, time::Duration};

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, ResponseError,
};

/// Why the throttle refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThrottleErrorKind {
    /// Too many failed attempts for this account or from this address: 429.
    TooManyAttempts,
    /// The throttle's store failed or timed out, and the throttle fails closed: 503.
    Unavailable,
}

impl ThrottleErrorKind {
    /// The `error` value of the JSON body.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooManyAttempts => "too_many_attempts",
            Self::Unavailable => "throttle_unavailable",
        }
    }
}

/// An attempt the throttle refused, before any password was checked.
///
/// As a [`ResponseError`]: `429 Too Many Requests` with `Retry-After: N` and
/// `{"error":"too_many_attempts","retry_after":N}` (or a short HTML page when the client asked
/// for HTML), or `503` with `{"error":"throttle_unavailable"}` when the store could not answer.
/// The answer is the same whether or not the account exists. Apps that draw their own page use
/// [`ThrottleError::kind`] and [`ThrottleError::retry_after`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleError {
    kind: ThrottleErrorKind,
    retry_after: u64,
    html: bool,
}

impl ThrottleError {
    pub(crate) fn too_many_attempts(retry_after: u64) -> Self {
        Self {
            kind: ThrottleErrorKind::TooManyAttempts,
            retry_after: retry_after.max(1),
            html: false,
        }
    }

    pub(crate) fn unavailable() -> Self {
        Self {
            kind: ThrottleErrorKind::Unavailable,
            retry_after: 1,
            html: false,
        }
    }

    /// Answers with an HTML page instead of JSON.
    pub(crate) fn html(mut self, html: bool) -> Self {
        self.html = html;
        self
    }

    /// Why the attempt was refused.
    pub fn kind(&self) -> ThrottleErrorKind {
        self.kind
    }

    /// How long the client must wait before trying again (whole seconds, at least one).
    pub fn retry_after(&self) -> Duration {
        Duration::from_secs(self.retry_after)
    }
}

impl fmt::Display for ThrottleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ThrottleErrorKind::TooManyAttempts => write!(
                f,
                "too many attempts: retry after {} seconds",
                self.retry_after
            ),
            ThrottleErrorKind::Unavailable => f.write_str("the throttle's store is unavailable"),
        }
    }
}

impl std::error::Error for ThrottleError {}

/// "3 seconds", "1 minute", "15 minutes", "2 hours": the wait, rounded up, for a page.
pub fn wait_text(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    let (n, unit) = match secs {
        0..=59 => (secs, "second"),
        60..=3599 => (secs.div_ceil(60), "minute"),
        _ => (secs.div_ceil(3600), "hour"),
    };
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

impl ResponseError for ThrottleError {
    fn status_code(&self) -> StatusCode {
        match self.kind {
            ThrottleErrorKind::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ThrottleErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        res.insert_header((header::RETRY_AFTER, self.retry_after))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if self.html {
            let text = match self.kind {
                ThrottleErrorKind::TooManyAttempts => format!(
                    "Too many attempts. Please wait {} before trying again.",
                    wait_text(self.retry_after())
                ),
                ThrottleErrorKind::Unavailable => {
                    "Sign-in is briefly unavailable. Please try again in a moment.".to_owned()
                }
            };
            return res.content_type("text/html; charset=utf-8").body(format!(
                "<!doctype html><title>{code}</title><h1>{code} {reason}</h1><p>{text}</p>",
                code = status.as_u16(),
                reason = status.canonical_reason().unwrap_or(""),
            ));
        }
        match self.kind {
            ThrottleErrorKind::TooManyAttempts => res.json(serde_json::json!({
                "error": self.kind.as_str(),
                "retry_after": self.retry_after,
            })),
            ThrottleErrorKind::Unavailable => {
                res.json(serde_json::json!({ "error": self.kind.as_str() }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn answer(e: ThrottleError) -> (StatusCode, String, String, String) {
        let res = e.error_response();
        let header = |name| {
            res.headers()
                .get(name)
                .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (retry, kind) = (header(header::RETRY_AFTER), header(header::CONTENT_TYPE));
        let status = res.status();
        let body = to_bytes(res.into_body()).await.unwrap();
        (
            status,
            retry,
            kind,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[actix_web::test]
    async fn too_many_attempts_is_429_json_with_retry_after() {
        let (status, retry, kind, body) = answer(ThrottleError::too_many_attempts(90)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry, "90");
        assert_eq!(kind, "application/json");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"error": "too_many_attempts", "retry_after": 90})
        );
    }

    #[actix_web::test]
    async fn browsers_get_a_page_saying_how_long_to_wait() {
        let e = ThrottleError::too_many_attempts(90).html(true);
        let (status, retry, kind, body) = answer(e).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry, "90");
        assert_eq!(kind, "text/html; charset=utf-8");
        assert!(body.contains("Please wait 2 minutes"), "{body}");
    }

    #[actix_web::test]
    async fn an_unavailable_store_is_503() {
        let (status, retry, _, body) = answer(ThrottleError::unavailable()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry, "1");
        assert_eq!(body, r#"{"error":"throttle_unavailable"}"#);
        let (status, _, kind, _) = answer(ThrottleError::unavailable().html(true)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(kind, "text/html; charset=utf-8");
    }

    #[test]
    fn waits_read_naturally() {
        let table = [
            (0, "1 second"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "1 minute"),
            (61, "2 minutes"),
            (900, "15 minutes"),
            (3599, "60 minutes"),
            (3600, "1 hour"),
            (3601, "2 hours"),
        ];
        for (secs, want) in table {
            assert_eq!(wait_text(Duration::from_secs(secs)), want, "{secs}");
        }
    }
}
