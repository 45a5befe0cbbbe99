//! The checks that `session-core` and `session-macros` share, written once: which redirect
//! targets are same-origin paths, and which statuses a denial may answer with.
//!
//! The macros apply them at compile time (each error spanned on the offending literal), the
//! runtime when a `Guard` is built and on every `next` value (`session_core::safe_next`). Both
//! crates depend on this one because neither can depend on the other: `session-core` re-exports
//! the macros of `session-macros`.
//!
//! Every check is a `const fn`, so a value can also be checked during compilation.
//!
//! ```
//! use session_rules::{denial_status, same_origin_path, RedirectProblem, StatusProblem};
//!
//! assert_eq!(same_origin_path("/login?next=%2Fa"), Ok(()));
//! assert_eq!(same_origin_path("//evil.example"), Err(RedirectProblem::OtherHost));
//! assert_eq!(denial_status(404, false), Ok(()));
//! assert_eq!(denial_status(200, false), Err(StatusProblem::NotAnErrorStatus));
//! assert_eq!(denial_status(307, true), Ok(()));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Longest redirect target accepted, in bytes.
pub const MAX_REDIRECT_LEN: usize = 2048;

/// The statuses a denial that redirects may use: 301, 302, 303, 307 and 308. (300 and 305 do not
/// redirect on their own; 304 is a cache answer.)
pub const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// Why a redirect target is not a same-origin path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectProblem {
    /// The target is empty.
    Empty,
    /// The target is longer than [`MAX_REDIRECT_LEN`].
    TooLong,
    /// The target does not start with `/` (a relative path, a scheme such as `https:`).
    NotAPath,
    /// The target starts with `//` or `/\`, which browsers read as another host.
    OtherHost,
    /// The target contains a backslash, which some browsers read as `/`.
    Backslash,
    /// The target contains a space, a control character or a non-ASCII character (a look-alike
    /// of `/`, say).
    NotVisibleAscii,
    /// Percent-decoded once more (by a proxy, a framework or the browser), the target would start
    /// with `//`, `/\` or a non-ASCII byte, or hold a control character.
    ChangesWhenDecoded,
}

impl RedirectProblem {
    /// What the target must be, to follow the name of the setting: "must not be empty; use a
    /// path".
    pub const fn message(self) -> &'static str {
        match self {
            Self::Empty => "must not be empty; use a path",
            Self::TooLong => "must be at most 2048 bytes; use a shorter path",
            Self::NotAPath => "must be a same-origin path starting with `/`",
            Self::OtherHost => "must not start with `//` or `/\\` (another host); use a path",
            Self::Backslash => "must not contain backslashes; use a path",
            Self::NotVisibleAscii => {
                "must contain only visible ASCII characters (percent-encode spaces and others); \
                 use a path"
            }
            Self::ChangesWhenDecoded => "must stay a same-origin path after percent-decoding",
        }
    }
}

/// Checks that `path` is a same-origin path: it starts with a single `/`, holds only visible
/// ASCII and no backslash, is at most [`MAX_REDIRECT_LEN`] bytes, and stays such a path (with no
/// control character and no non-ASCII byte right after the `/`) when percent-decoded once more.
/// Percent-encoded non-ASCII elsewhere is fine (`/caf%C3%A9`).
///
/// ```
/// use session_rules::{same_origin_path, RedirectProblem};
///
/// assert_eq!(same_origin_path("/dashboard?tab=2#top"), Ok(()));
/// assert_eq!(same_origin_path("https://evil.example"), Err(RedirectProblem::NotAPath));
/// assert_eq!(same_origin_path("/%2Fevil.example"), Err(RedirectProblem::ChangesWhenDecoded));
/// ```
pub const fn same_origin_path(path: &str) -> Result<(), RedirectProblem> {
    let bytes = path.as_bytes();
    match bytes {
        [] => Err(RedirectProblem::Empty),
        _ if bytes.len() > MAX_REDIRECT_LEN => Err(RedirectProblem::TooLong),
        [b'/', b'/' | b'\\', ..] => Err(RedirectProblem::OtherHost),
        [b'/', ..] => match visible_ascii(bytes) {
            Err(problem) => Err(problem),
            Ok(()) if !stays_a_path_when_decoded(bytes) => Err(RedirectProblem::ChangesWhenDecoded),
            Ok(()) => Ok(()),
        },
        _ => Err(RedirectProblem::NotAPath),
    }
}

/// Every byte is visible ASCII other than a backslash (backslashes reported first).
const fn visible_ascii(bytes: &[u8]) -> Result<(), RedirectProblem> {
    let mut problem = Ok(());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            return Err(RedirectProblem::Backslash);
        }
        if !bytes[i].is_ascii_graphic() {
            problem = Err(RedirectProblem::NotVisibleAscii);
        }
        i += 1;
    }
    problem
}

/// Whether `path` (visible ASCII, starting with `/`), percent-decoded once, has no control
/// character and no `/`, `\` or non-ASCII byte right after its leading `/`. Decodes as the
/// `percent-encoding` crate does: `%` and two hex digits make a byte, any other `%` stays.
const fn stays_a_path_when_decoded(path: &[u8]) -> bool {
    let (mut i, mut decoded_index) = (0, 0);
    while i < path.len() {
        let (byte, width) = decode_at(path, i);
        if decoded_index == 1 && matches!(byte, b'/' | b'\\' | 0x80..) {
            return false;
        }
        if byte.is_ascii_control() {
            return false;
        }
        i += width;
        decoded_index += 1;
    }
    true
}

/// The decoded byte at `i` and how many input bytes it takes.
const fn decode_at(bytes: &[u8], i: usize) -> (u8, usize) {
    if bytes[i] == b'%' && i + 2 < bytes.len() {
        if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
            return (high * 16 + low, 3);
        }
    }
    (bytes[i], 1)
}

const fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Why a status cannot answer a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusProblem {
    /// Without a redirect, the status is not in 400..=599: a 1xx or 2xx would answer a denied
    /// request as if it had passed, a 3xx without a target redirects nowhere.
    NotAnErrorStatus,
    /// With a redirect, the status is not one of [`REDIRECT_STATUSES`].
    NotARedirectStatus,
}

impl StatusProblem {
    /// What the status must be, to follow the name of the setting: "must be an error status in
    /// 400..=599".
    pub const fn message(self) -> &'static str {
        match self {
            Self::NotAnErrorStatus => "must be an error status in 400..=599",
            Self::NotARedirectStatus => "must be a redirect status: 301, 302, 303, 307 or 308",
        }
    }
}

/// Checks that `status` can answer a denial: an error status (400..=599) when the denial does not
/// redirect, one of [`REDIRECT_STATUSES`] when it does (`with_redirect`). No other status may
/// answer a denied request: none of them tells the client it was refused.
///
/// ```
/// use session_rules::{denial_status, StatusProblem};
///
/// assert_eq!(denial_status(401, false), Ok(()));
/// assert_eq!(denial_status(303, false), Err(StatusProblem::NotAnErrorStatus));
/// assert_eq!(denial_status(404, true), Err(StatusProblem::NotARedirectStatus));
/// ```
pub const fn denial_status(status: u16, with_redirect: bool) -> Result<(), StatusProblem> {
    match (with_redirect, status) {
        (true, 301 | 302 | 303 | 307 | 308) | (false, 400..=599) => Ok(()),
        (true, _) => Err(StatusProblem::NotARedirectStatus),
        (false, _) => Err(StatusProblem::NotAnErrorStatus),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::{format, string::String};

    use super::*;

    #[test]
    fn same_origin_paths() {
        use RedirectProblem::*;
        let cases = [
            ("/", Ok(())),
            ("/a", Ok(())),
            ("/login", Ok(())),
            ("/a/b?next=%2Fx&y=1#top", Ok(())),
            ("/a:b", Ok(())),
            ("/a?q=%20%5C%C3%A9", Ok(())),
            ("/caf%C3%A9", Ok(())),
            ("/a%zz%4", Ok(())),
            ("/%", Ok(())),
            ("", Err(Empty)),
            ("a", Err(NotAPath)),
            ("login", Err(NotAPath)),
            ("https://evil.example", Err(NotAPath)),
            ("https:evil.example", Err(NotAPath)),
            ("javascript:alert(1)", Err(NotAPath)),
            ("\\/evil.example", Err(NotAPath)),
            ("%2F%2Fevil.example", Err(NotAPath)),
            (" /a", Err(NotAPath)),
            ("//evil.example", Err(OtherHost)),
            ("/\\evil.example", Err(OtherHost)),
            ("/a\\b", Err(Backslash)),
            ("/a b\\c", Err(Backslash)),
            ("/a b", Err(NotVisibleAscii)),
            ("/a\tb", Err(NotVisibleAscii)),
            ("/a\nb", Err(NotVisibleAscii)),
            ("/a\u{7f}", Err(NotVisibleAscii)),
            ("/caf\u{e9}", Err(NotVisibleAscii)),
            ("/\u{ff0f}evil.example", Err(NotVisibleAscii)),
            ("/%2Fevil.example", Err(ChangesWhenDecoded)),
            ("/%2f/evil.example", Err(ChangesWhenDecoded)),
            ("/%5Cevil.example", Err(ChangesWhenDecoded)),
            ("/%09/evil.example", Err(ChangesWhenDecoded)),
            ("/%0A/evil.example", Err(ChangesWhenDecoded)),
            ("/a%00", Err(ChangesWhenDecoded)),
            ("/a%7F", Err(ChangesWhenDecoded)),
            ("/%EF%BC%8Fevil.example", Err(ChangesWhenDecoded)),
            ("/%C0%AFevil.example", Err(ChangesWhenDecoded)),
        ];
        for (path, want) in cases {
            assert_eq!(same_origin_path(path), want, "{path:?}");
        }
    }

    #[test]
    fn length_limit() {
        let at_limit = format!("/{}", "a".repeat(MAX_REDIRECT_LEN - 1));
        assert_eq!(same_origin_path(&at_limit), Ok(()));
        let over: String = format!("{at_limit}a");
        assert_eq!(same_origin_path(&over), Err(RedirectProblem::TooLong));
    }

    #[test]
    fn denial_statuses() {
        for status in 0..=u16::MAX {
            let error = (400..=599).contains(&status);
            let redirect = REDIRECT_STATUSES.contains(&status);
            let want = |ok, problem| if ok { Ok(()) } else { Err(problem) };
            assert_eq!(
                denial_status(status, false),
                want(error, StatusProblem::NotAnErrorStatus),
                "{status}"
            );
            assert_eq!(
                denial_status(status, true),
                want(redirect, StatusProblem::NotARedirectStatus),
                "{status} with a redirect"
            );
        }
    }

    #[test]
    fn checks_run_at_compile_time() {
        const PATH: Result<(), RedirectProblem> = same_origin_path("/%2Fx");
        const STATUS: Result<(), StatusProblem> = denial_status(204, false);
        assert_eq!(PATH, Err(RedirectProblem::ChangesWhenDecoded));
        assert_eq!(STATUS, Err(StatusProblem::NotAnErrorStatus));
    }
}
