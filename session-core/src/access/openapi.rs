//! [`OpenApiSecurity`]: the access manifest written into an OpenAPI document (feature `utoipa`).

use std::collections::BTreeMap;

use utoipa::{
    openapi::{
        extensions::ExtensionsBuilder,
        path::Operation,
        security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme},
        ComponentsBuilder, OpenApi, RefOr, Response,
    },
    Modify,
};

use super::{manifest, Entry};
use crate::{deny::Deny, guard::Guard, settings::Configuration, AuthSession};

/// The name of the security scheme the document gets.
const SCHEME: &str = "session";

/// A [`utoipa::Modify`] that adds, to every operation of an OpenAPI document whose handler is in
/// the access manifest ([`super::manifest`]):
///
/// - `security`: the session cookie (an `apiKey` in the cookie named by the
///   [`crate::AuthSessionBuilder`], scheme `session`) for guarded handlers; `[]` (nothing needed)
///   for `#[public]` and anonymous-only (`#[skip_if_authenticated]`) ones;
/// - the denial responses the rule can produce under the app's configuration: 401 (not signed
///   in, or too long ago for `fresh`) or 303 (the same for browsers, redirected to sign in,
///   unless the app answers JSON only), 403 when the rule asks more than a signed-in user, 303
///   for a signed-in user on an anonymous-only page, or the guard's own `status`/`redirect`;
/// - `x-session-rule`: the rule, normalized as in [`super::Entry::rule`].
///
/// Operations are matched to entries by method and path (the route attribute's path, as utoipa
/// reads it with `actix_extras`), else by `operation_id` (utoipa's default: the handler's name)
/// for handlers without a route attribute. Other operations are left as they are.
///
/// ```
/// use session_core::{access::OpenApiSecurity, AuthSession, Key};
/// use utoipa::{Modify, OpenApi};
///
/// #[derive(OpenApi)]
/// #[openapi(paths())]
/// struct ApiDoc;
///
/// let auth = AuthSession::builder(Key::from_bytes(&[7u8; 32]).unwrap()).build().unwrap();
/// let mut doc = ApiDoc::openapi();
/// OpenApiSecurity::new(&auth).modify(&mut doc);
/// let json = serde_json::to_value(&doc).unwrap();
/// assert_eq!(json["components"]["securitySchemes"]["session"]["in"], "cookie");
/// ```
#[derive(Debug, Clone)]
pub struct OpenApiSecurity {
    cookie: String,
    deny: Deny,
    entries: Vec<&'static Entry>,
}

impl OpenApiSecurity {
    /// For the app that `auth` guards: its cookie name and how it answers denials; every entry
    /// of the manifest.
    pub fn new(auth: &AuthSession) -> Self {
        Self::from_config(auth.config())
    }

    fn from_config(config: &Configuration) -> Self {
        Self {
            cookie: config.cookie_name.clone(),
            deny: config.deny,
            entries: manifest(),
        }
    }

    /// The entry of an operation: by route, else by handler name for route-less entries.
    fn entry(&self, method: &str, path: &str, operation: &Operation) -> Option<&'static Entry> {
        let by_route = self.entries.iter().find(|entry| {
            entry
                .routes()
                .iter()
                .any(|r| r.method() == method && r.path() == path)
        });
        let by_name = || {
            let id = operation.operation_id.as_deref()?;
            let mut named = self
                .entries
                .iter()
                .filter(|e| e.routes().is_empty() && e.handler() == id);
            let entry = named.next()?;
            // Two route-less handlers of that name (in two modules): not guessed.
            named.next().is_none().then_some(entry)
        };
        by_route.copied().or_else(|| by_name().copied())
    }

    fn describe(&self, entry: &Entry, operation: &mut Operation) {
        let needs_session = entry.guards().any(|guard| guard.rule().is_some());
        operation.security = Some(match needs_session {
            true => vec![SecurityRequirement::new(SCHEME, Vec::<String>::new())],
            false => Vec::new(),
        });
        let mut statuses = BTreeMap::new();
        for guard in entry.guards() {
            statuses.extend(denials(guard, self.deny));
        }
        for (status, description) in statuses {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::T(Response::new(description)));
        }
        let rule = ExtensionsBuilder::new()
            .add("x-session-rule", entry.rule())
            .build();
        match &mut operation.extensions {
            Some(extensions) => extensions.merge(rule),
            None => operation.extensions = Some(rule),
        }
    }
}

/// The statuses a denial by `guard` can have under `deny`, with their descriptions.
fn denials(guard: &Guard, deny: Deny) -> Vec<(u16, &'static str)> {
    let overrides = guard.overrides();
    if overrides.redirect.is_some() {
        let status = overrides.status.unwrap_or(303);
        return vec![(status, "Denied: redirected (the guard's own `redirect`)")];
    }
    if let Some(status) = overrides.status {
        return vec![(status, "Denied (the guard's own `status`)")];
    }
    let Some(rule) = guard.rule() else {
        return vec![(
            303,
            "Signed in: redirected to the home page (anonymous only)",
        )];
    };
    let mut statuses = Vec::new();
    if deny != Deny::Redirect {
        statuses.push((
            401,
            "Not signed in, or signed in too long ago for the rule's `fresh`: \
             {\"error\":\"unauthenticated\"} or {\"error\":\"reauthenticate\"}",
        ));
    }
    if deny != Deny::Json {
        statuses.push((
            303,
            "Not signed in, or too long ago (browsers): redirected to sign in",
        ));
    }
    if rule.can_forbid() {
        statuses.push((
            403,
            "Signed in without what the rule requires: {\"error\":\"forbidden\"}",
        ));
    }
    statuses
}

impl Modify for OpenApiSecurity {
    fn modify(&self, openapi: &mut OpenApi) {
        let scheme = SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(&self.cookie)));
        match &mut openapi.components {
            Some(components) => {
                components.add_security_scheme(SCHEME, scheme);
            }
            None => {
                openapi.components = Some(
                    ComponentsBuilder::new()
                        .security_scheme(SCHEME, scheme)
                        .build(),
                )
            }
        }
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("GET", &mut item.get),
                ("PUT", &mut item.put),
                ("POST", &mut item.post),
                ("DELETE", &mut item.delete),
                ("OPTIONS", &mut item.options),
                ("HEAD", &mut item.head),
                ("PATCH", &mut item.patch),
                ("TRACE", &mut item.trace),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                if let Some(entry) = self.entry(method, path, operation) {
                    self.describe(entry, operation);
                }
            }
        }
    }
}
