//! "My sessions": the list of a user's active sessions, kept beside the revocations.
//!
//! The middleware records a session in its user's list whenever it issues that session's cookie
//! (at login, and at each re-issue: rolling refresh, a change, a key-rotation re-issue), and at
//! no other time, so ordinary requests cost nothing more. A backend lists a session only while
//! it can still be valid: before the idle expiry of its latest cookie, its id not revoked, its
//! revocation generation not below the user's current one. Ended sessions are dropped from the
//! store as they are found.
//!
//! Invariants:
//! - a listed session is never one whose cookies every instance refuses for a revocation, an
//!   expiry or (with a user store, checked by [`crate::Session::sessions`]) a credential change;
//! - a user's list holds at most [`MAX_LISTED_SESSIONS`] sessions (the most recently issued),
//!   so no user can grow it without bound;
//! - the device label is built only from fixed strings ([`device_label`]): nothing a client
//!   sends is copied into it.

use serde::{Deserialize, Serialize};

/// The most sessions a user's list keeps: the most recently (re-)issued ones. A user with more
/// live sessions than this sees only these; "sign out everywhere else"
/// ([`crate::Session::sign_out_other_devices`]) still ends every one.
pub const MAX_LISTED_SESSIONS: usize = 64;

/// One session of a user as a [`super::Revocations`] backend keeps it for the list.
///
/// Backends store it (it serializes with serde) and hand it back from
/// [`super::Revocations::sessions`]; only this crate creates one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionRecord {
    /// The session id.
    pub sid: String,
    /// When the user signed in (Unix seconds).
    pub started: i64,
    /// When its latest cookie was issued (Unix seconds).
    pub refreshed: i64,
    /// The idle expiry of its latest cookie (Unix seconds): past it, the session is over.
    pub expires: i64,
    /// The revocation generation it was started under.
    pub gen: u64,
    /// The MAC of the user's credential fingerprint it is bound to (with a user store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp: Option<String>,
    /// A coarse label of the device that signed in ([`device_label`]).
    pub device: String,
    /// The client address it signed in from (the TCP peer), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl SessionRecord {
    /// Whether the list shows this session at `now`, given the user's current `generation` and
    /// whether its id is `revoked`. The rule every backend applies.
    pub fn is_listed(&self, now: i64, generation: u64, revoked: bool) -> bool {
        self.expires > now && self.gen >= generation && !revoked
    }

    /// The same session as re-issued in `newer`, keeping where it signed in from (device and
    /// address are the sign-in's, not the latest refresh's).
    pub(crate) fn refreshed_by(&self, newer: &SessionRecord) -> SessionRecord {
        SessionRecord {
            device: self.device.clone(),
            address: self.address.clone(),
            ..newer.clone()
        }
    }
}

/// Keeps the [`MAX_LISTED_SESSIONS`] most recently issued of `records` (ties: by id), returning
/// the ids of the others.
pub(crate) fn cap(records: &mut Vec<SessionRecord>) -> Vec<String> {
    records.sort_by(|a, b| {
        b.refreshed
            .cmp(&a.refreshed)
            .then_with(|| a.sid.cmp(&b.sid))
    });
    let dropped = records.split_off(records.len().min(MAX_LISTED_SESSIONS));
    dropped.into_iter().map(|r| r.sid).collect()
}

/// A signed-in session of a user, as [`crate::Session::sessions`] and
/// [`crate::AuthSession::sessions`] list it. Serializes to JSON for APIs (and reads back).
///
/// ```
/// # use session_core::revocation::ActiveSession;
/// fn row(s: &ActiveSession) -> String {
///     let here = if s.current { " (this device)" } else { "" };
///     format!("{}{here}, from {}", s.device, s.address.as_deref().unwrap_or("?"))
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActiveSession {
    /// The session id: pass it to [`crate::Session::end_session`].
    pub id: String,
    /// When the user signed in (Unix seconds).
    pub started: i64,
    /// When its latest cookie was issued (Unix seconds): at sign-in, or a later refresh.
    pub refreshed: i64,
    /// When it ends unless it is refreshed first (Unix seconds).
    pub expires: i64,
    /// A coarse device label such as `"Firefox on Linux"` ([`device_label`]). Escape it like any
    /// other text when you put it in HTML.
    pub device: String,
    /// The client address it signed in from (the TCP peer), when known.
    pub address: Option<String>,
    /// Whether this is the session of the request that asked.
    pub current: bool,
}

impl ActiveSession {
    pub(crate) fn new(record: SessionRecord, current_sid: Option<&str>) -> Self {
        Self {
            current: current_sid == Some(record.sid.as_str()),
            id: record.sid,
            started: record.started,
            refreshed: record.refreshed,
            expires: record.expires,
            device: record.device,
            address: record.address,
        }
    }
}

/// The most bytes of a `User-Agent` header [`device_label`] looks at.
const MAX_SCANNED: usize = 512;

/// Command-line clients and libraries, recognised by how the header starts.
const TOOLS: &[(&str, &str)] = &[
    ("curl/", "curl"),
    ("Wget/", "Wget"),
    ("python-requests/", "Python requests"),
    ("Go-http-client/", "Go HTTP client"),
    ("PostmanRuntime/", "Postman"),
];

/// Browsers, the first match wins: Edge, Opera and Samsung Internet also say "Chrome", and every
/// Chrome says "Safari", so the more specific come first.
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
];

/// Systems, the first match wins: iPhones say "like Mac OS X", Android says "Linux".
const SYSTEMS: &[(&str, &str)] = &[
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

/// A coarse label for a `User-Agent` header: `"Firefox on Linux"`, `"Chrome on Android"`,
/// `"Safari on iPhone"`, `"curl"`, `"Unknown device"`.
///
/// Invariant: the label is put together from the fixed strings above only, never from the
/// header's text, so it is at most a few dozen characters and carries nothing a client chose.
///
/// ```
/// use session_core::revocation::device_label;
/// let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
/// assert_eq!(device_label(Some(ua)), "Firefox on Linux");
/// assert_eq!(device_label(None), "Unknown device");
/// ```
pub fn device_label(user_agent: Option<&str>) -> String {
    let ua = user_agent.map_or("", |ua| {
        let mut end = ua.len().min(MAX_SCANNED);
        while !ua.is_char_boundary(end) {
            end -= 1;
        }
        &ua[..end]
    });
    if let Some((_, tool)) = TOOLS.iter().find(|(prefix, _)| ua.starts_with(prefix)) {
        return (*tool).to_owned();
    }
    let first = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(needle, _)| ua.contains(needle))
            .map(|(_, name)| *name)
    };
    match (first(BROWSERS), first(SYSTEMS)) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("{system} device"),
        (None, None) => "Unknown device".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_labels() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36",
                "Chrome on Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) \
                 SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
                "Samsung Internet on Android",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
                "Chrome on iPhone",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                 Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15",
                "Firefox on iPad",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like \
                 Gecko) Version/17.5 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0",
                "Opera on Linux",
            ),
            ("curl/8.8.0", "curl"),
            ("Wget/1.21.4", "Wget"),
            ("python-requests/2.32.3", "Python requests"),
            ("Mozilla/5.0 (Linux)", "Linux device"),
            ("Firefox/128.0", "Firefox"),
            ("", "Unknown device"),
            ("<script>alert(1)</script>", "Unknown device"),
            ("my-bot curl/8.0", "Unknown device"),
        ];
        for (ua, want) in cases {
            assert_eq!(device_label(Some(ua)), want, "{ua}");
        }
        assert_eq!(device_label(None), "Unknown device");
    }

    #[test]
    fn long_headers_are_scanned_up_to_the_limit_only() {
        let padded = format!("{}é Firefox/1 (Linux)", "x".repeat(MAX_SCANNED - 1));
        assert_eq!(device_label(Some(&padded)), "Unknown device");
        let early = format!("Firefox/1 (Linux) {}", "é".repeat(10_000));
        assert_eq!(device_label(Some(&early)), "Firefox on Linux");
    }

    fn record(sid: &str, refreshed: i64) -> SessionRecord {
        SessionRecord {
            sid: sid.to_owned(),
            started: 1,
            refreshed,
            expires: 100,
            gen: 5,
            fp: None,
            device: "curl".to_owned(),
            address: None,
        }
    }

    #[test]
    fn listing_rule() {
        let r = record("a", 10);
        assert!(r.is_listed(99, 5, false));
        assert!(r.is_listed(99, 4, false));
        assert!(!r.is_listed(100, 5, false), "expired");
        assert!(!r.is_listed(99, 6, false), "revoked with the user");
        assert!(!r.is_listed(99, 5, true), "revoked by id");
    }

    #[test]
    fn cap_keeps_the_most_recently_issued() {
        let mut records: Vec<_> = (0..70).map(|i| record(&format!("s{i:02}"), i)).collect();
        let dropped = cap(&mut records);
        assert_eq!(records.len(), MAX_LISTED_SESSIONS);
        assert_eq!(dropped, ["s05", "s04", "s03", "s02", "s01", "s00"]);
        assert_eq!(records[0].sid, "s69");
    }

    #[test]
    fn a_refresh_keeps_where_the_session_signed_in_from() {
        let first = SessionRecord {
            address: Some("192.0.2.1".into()),
            ..record("a", 10)
        };
        let later = SessionRecord {
            device: "Firefox on Linux".into(),
            address: Some("198.51.100.7".into()),
            expires: 500,
            ..record("a", 20)
        };
        let merged = first.refreshed_by(&later);
        assert_eq!(merged.device, "curl");
        assert_eq!(merged.address.as_deref(), Some("192.0.2.1"));
        assert_eq!((merged.refreshed, merged.expires), (20, 500));
    }
}
