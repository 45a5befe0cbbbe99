//! The cookie formats the security tests run over: the signed JWS always, and the sealed JWE when
//! this crate's `encrypted` feature is on. Each security test module uses it (`crate::formats`), so
//! one table or property covers every format, rather than a copy per format.

use session_core::AuthSessionBuilder;

/// A cookie format under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// HS256 JWS (the default).
    Signed,
    /// `dir` + A256GCM JWE (`Content::Sealed`).
    #[cfg(feature = "encrypted")]
    Encrypted,
}

/// Every format this build can issue.
pub const FORMATS: &[Format] = &[
    Format::Signed,
    #[cfg(feature = "encrypted")]
    Format::Encrypted,
];

impl Format {
    /// `builder`, set to issue this format.
    pub fn configure(self, builder: AuthSessionBuilder) -> AuthSessionBuilder {
        match self {
            Self::Signed => builder,
            #[cfg(feature = "encrypted")]
            Self::Encrypted => builder.cookie(|c| c.content(session_core::config::Content::Sealed)),
        }
    }
}
