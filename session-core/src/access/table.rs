//! The route × principal table: [`table`] evaluates manifest entries for sample principals.

use std::{fmt, sync::Arc};

use serde_json::{json, Map, Value};

use super::{Entry, Route};
use crate::{
    authz::Authorization,
    claims::Claims,
    deny::DenyKind,
    live::{LiveUser, User},
    rule::Rule,
    user::AuthUser,
};

/// A made-up visitor to evaluate rules for: anonymous, or a signed-in user with roles and
/// permissions, who signed in just now or long ago.
///
/// ```
/// use session_core::access::Principal;
///
/// let sample = [
///     Principal::anonymous(),
///     Principal::user("member"),
///     Principal::user("editor").roles(["editor"]),
///     Principal::user("auditor").permissions(["notes:read"]),
///     Principal::user("admin, signed in long ago").roles(["admin"]).stale(),
/// ];
/// # let _ = sample;
/// ```
#[derive(Debug, Clone)]
pub struct Principal {
    name: String,
    signed_in: Option<Sample>,
}

#[derive(Debug, Clone)]
struct Sample {
    roles: Vec<String>,
    permissions: Vec<String>,
    stale: bool,
}

impl Principal {
    /// Nobody signed in. Named `anonymous`.
    pub fn anonymous() -> Self {
        Self {
            name: "anonymous".to_owned(),
            signed_in: None,
        }
    }

    /// A user who signed in just now, with no roles or permissions; `name` heads its column.
    pub fn user(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            signed_in: Some(Sample {
                roles: Vec::new(),
                permissions: Vec::new(),
                stale: false,
            }),
        }
    }

    /// With these roles (the role table adds those they include). No effect on anonymous.
    pub fn roles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, roles: I) -> Self {
        if let Some(sample) = &mut self.signed_in {
            sample.roles.extend(roles.into_iter().map(Into::into));
        }
        self
    }

    /// With these permissions of their own (beside those their roles grant). No effect on
    /// anonymous.
    pub fn permissions<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        permissions: I,
    ) -> Self {
        if let Some(sample) = &mut self.signed_in {
            sample
                .permissions
                .extend(permissions.into_iter().map(Into::into));
        }
        self
    }

    /// Signed in long ago: every `fresh` requirement fails. No effect on anonymous.
    pub fn stale(mut self) -> Self {
        if let Some(sample) = &mut self.signed_in {
            sample.stale = true;
        }
        self
    }

    /// The column heading.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The principal as the evaluator sees a request's user, at [`NOW`].
    fn as_auth_user(&self, authorization: Option<&Authorization>) -> Option<AuthUser> {
        let sample = self.signed_in.as_ref()?;
        let record = SampleUser {
            id: self.name.clone(),
            roles: sample.roles.clone(),
            permissions: sample.permissions.clone(),
        };
        let claims = Claims {
            sid: "sample".to_owned(),
            sub: Some(self.name.clone()),
            roles: sample.roles.clone(),
            iat: NOW,
            exp: NOW + 1,
            auth_time: if sample.stale { 0 } else { NOW },
            data: Map::new(),
            transient: false,
            fp: None,
            gen: None,
        };
        let live: LiveUser = Arc::new(record);
        Some(AuthUser::new(
            Arc::new(claims),
            Some(live),
            authorization.map(|a| Arc::clone(a.table())),
        ))
    }
}

/// The evaluation time: a stale principal signed in at 0, about 127 years earlier.
const NOW: i64 = 4_000_000_000;

/// A principal as a user record, so its own permissions count as a store's would.
struct SampleUser {
    id: String,
    roles: Vec<String>,
    permissions: Vec<String>,
}

impl User for SampleUser {
    fn id(&self) -> &str {
        &self.id
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
    fn permissions(&self) -> &[String] {
        &self.permissions
    }
}

/// Whether a principal reaches a route, and if not, how it is turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reach {
    /// Let through.
    Yes,
    /// Not signed in: the not-signed-in answer (401 or the login redirect).
    SignIn,
    /// Signed in without what the rule asks: 403.
    Forbidden,
    /// Signed in too long ago for a `fresh` rule.
    Reauthenticate,
    /// Signed in, on an anonymous-only page (`#[skip_if_authenticated]`).
    SignedIn,
    /// Decided by the app's code (checks, policies), which the table does not run: the atoms,
    /// normalized (`check=<fn>`).
    Depends(Vec<String>),
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reach::Yes => f.write_str("yes"),
            Reach::SignIn => f.write_str("no: sign in"),
            Reach::Forbidden => f.write_str("no: forbidden"),
            Reach::Reauthenticate => f.write_str("no: reauthenticate"),
            Reach::SignedIn => f.write_str("no: signed in"),
            Reach::Depends(atoms) => {
                // `policy=owns_note` reads `policy: owns_note`.
                let atoms: Vec<String> = atoms.iter().map(|a| a.replacen('=', ": ", 1)).collect();
                write!(f, "depends on {}", atoms.join(", "))
            }
        }
    }
}

/// Whether `principal` passes `entry`'s guards, in order: the first one that does not let it
/// through decides.
fn reach(entry: &Entry, user: Option<&AuthUser>) -> Reach {
    for guard in entry.guards() {
        match guard.verdict_without_checks(user, NOW) {
            Some(Ok(())) => {}
            Some(Err(kind)) => {
                return match kind {
                    DenyKind::Unauthenticated => Reach::SignIn,
                    DenyKind::Forbidden => Reach::Forbidden,
                    DenyKind::Reauthenticate => Reach::Reauthenticate,
                    DenyKind::AlreadyAuthenticated => Reach::SignedIn,
                }
            }
            None => {
                let atoms = guard.rule().map(Rule::opaque_atoms).unwrap_or_default();
                return Reach::Depends(atoms);
            }
        }
    }
    Reach::Yes
}

/// The route × principal table: one row per route of each entry (one for an entry without
/// routes), one column per principal.
#[derive(Debug, Clone)]
pub struct Table {
    principals: Vec<String>,
    rows: Vec<Row>,
}

#[derive(Debug, Clone)]
struct Row {
    route: Option<Route>,
    entry: &'static Entry,
    reach: Vec<Reach>,
}

/// Evaluates `entries` (usually [`manifest`](super::manifest), filtered to an app's modules) for each of
/// `principals`, with the app's role table if it has one.
pub fn table<I>(
    entries: I,
    principals: &[Principal],
    authorization: Option<&Authorization>,
) -> Table
where
    I: IntoIterator<Item = &'static Entry>,
{
    let users: Vec<Option<AuthUser>> = principals
        .iter()
        .map(|p| p.as_auth_user(authorization))
        .collect();
    let mut rows = Vec::new();
    for entry in entries {
        let reach: Vec<Reach> = users.iter().map(|u| reach(entry, u.as_ref())).collect();
        let routes: Vec<Option<Route>> = match entry.routes {
            [] => vec![None],
            routes => routes.iter().copied().map(Some).collect(),
        };
        rows.extend(routes.into_iter().map(|route| Row {
            route,
            entry,
            reach: reach.clone(),
        }));
    }
    Table {
        principals: principals.iter().map(|p| p.name.clone()).collect(),
        rows,
    }
}

/// How a row without a route attribute shows its route.
const NO_ROUTE: &str = "(route not seen by the attribute)";

impl Table {
    /// Whether `principal` (by name) reaches `method path`; `None` when either is unknown.
    pub fn reach(&self, method: &str, path: &str, principal: &str) -> Option<&Reach> {
        let column = self.principals.iter().position(|p| p == principal)?;
        let row = self.rows.iter().find(|row| {
            row.route
                .is_some_and(|r| r.method == method && r.path == path)
        })?;
        row.reach.get(column)
    }

    /// A Markdown table: route, handler, rule, then one column per principal. No source
    /// locations, so moving code does not change it.
    pub fn markdown(&self) -> String {
        let mut header = vec!["route".to_owned(), "handler".to_owned(), "rule".to_owned()];
        header.extend(self.principals.iter().cloned());
        let mut out = markdown_row(&header);
        out.push_str(&markdown_row(&vec!["---".to_owned(); header.len()]));
        for row in &self.rows {
            let mut cells = vec![
                row.route
                    .map_or_else(|| NO_ROUTE.to_owned(), |r| r.to_string()),
                row.entry.name.to_owned(),
                row.entry.rule(),
            ];
            cells.extend(row.reach.iter().map(ToString::to_string));
            out.push_str(&markdown_row(&cells));
        }
        out
    }

    /// The table as JSON: `{"principals": [..], "routes": [{"method", "path", "handler",
    /// "module", "location", "rule", "reach": {principal: cell}}]}`; `method` and `path` are
    /// `null` for an entry without a route attribute.
    pub fn json(&self) -> Value {
        let routes: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let reach: Map<String, Value> = self
                    .principals
                    .iter()
                    .zip(&row.reach)
                    .map(|(p, r)| (p.clone(), Value::String(r.to_string())))
                    .collect();
                json!({
                    "method": row.route.map(|r| r.method),
                    "path": row.route.map(|r| r.path),
                    "handler": row.entry.name,
                    "module": row.entry.module,
                    "location": row.entry.location(),
                    "rule": row.entry.rule(),
                    "reach": reach,
                })
            })
            .collect();
        json!({ "principals": self.principals, "routes": routes })
    }
}

fn markdown_row(cells: &[String]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
    format!("| {} |\n", cells.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{access::Access, guard::Guard};

    fn guard_admin() -> &'static Guard {
        static GUARD: std::sync::LazyLock<Guard> =
            std::sync::LazyLock::new(|| Guard::require(Rule::role("admin")));
        &GUARD
    }

    fn guard_fresh_editor() -> &'static Guard {
        static GUARD: std::sync::LazyLock<Guard> = std::sync::LazyLock::new(|| {
            Guard::require(Rule::all([Rule::permission("notes:edit"), Rule::fresh(60)]))
        });
        &GUARD
    }

    fn guard_check() -> &'static Guard {
        fn never_called(_: &AuthUser) -> bool {
            panic!("the table must not run the app's checks")
        }
        static GUARD: std::sync::LazyLock<Guard> = std::sync::LazyLock::new(|| {
            Guard::require(Rule::any([Rule::role("admin"), Rule::check(never_called)]))
        });
        &GUARD
    }

    fn guard_anonymous() -> &'static Guard {
        static GUARD: std::sync::LazyLock<Guard> =
            std::sync::LazyLock::new(Guard::skip_if_authenticated);
        &GUARD
    }

    static ENTRIES: [Entry; 5] = [
        Entry::new(
            "home",
            "m",
            "f.rs",
            1,
            &[Route::new("GET", "/")],
            Access::Public,
        ),
        Entry::new(
            "admin",
            "m",
            "f.rs",
            2,
            &[Route::new("GET", "/admin"), Route::new("HEAD", "/admin")],
            Access::Guarded(&[guard_admin]),
        ),
        Entry::new(
            "edit",
            "m",
            "f.rs",
            3,
            &[],
            Access::Guarded(&[guard_fresh_editor, guard_admin]),
        ),
        Entry::new(
            "report",
            "m",
            "f.rs",
            4,
            &[Route::new("GET", "/report")],
            Access::Guarded(&[guard_check]),
        ),
        Entry::new(
            "login",
            "m",
            "f.rs",
            5,
            &[Route::new("GET", "/login")],
            Access::Guarded(&[guard_anonymous]),
        ),
    ];

    fn principals() -> Vec<Principal> {
        vec![
            Principal::anonymous(),
            Principal::user("member"),
            Principal::user("boss").roles(["boss"]),
            Principal::user("writer").permissions(["notes:edit"]),
            Principal::user("old writer")
                .permissions(["notes:edit"])
                .roles(["admin"])
                .stale(),
        ]
    }

    #[test]
    fn rules_are_normalized_and_stacked_guards_join_with_all() {
        let rules: Vec<String> = ENTRIES.iter().map(Entry::rule).collect();
        assert_eq!(
            rules,
            [
                "public",
                "role=admin",
                "all(all(permission=notes:edit, fresh=60), role=admin)",
                "any(role=admin, check=<fn>)",
                "anonymous",
            ]
        );
    }

    #[test]
    fn the_table_uses_the_evaluator_and_the_role_table() {
        let authz = Authorization::builder()
            .role("admin")
            .role("boss")
            .includes(["admin"])
            .build()
            .unwrap();
        let table = table(&ENTRIES, &principals(), Some(&authz));
        let want = "\
| route | handler | rule | anonymous | member | boss | writer | old writer |
| --- | --- | --- | --- | --- | --- | --- | --- |
| GET / | home | public | yes | yes | yes | yes | yes |
| GET /admin | admin | role=admin | no: sign in | no: forbidden | yes | no: forbidden | yes |
| HEAD /admin | admin | role=admin | no: sign in | no: forbidden | yes | no: forbidden | yes |
| (route not seen by the attribute) | edit | all(all(permission=notes:edit, fresh=60), role=admin) | no: sign in | no: forbidden | no: forbidden | no: forbidden | no: reauthenticate |
| GET /report | report | any(role=admin, check=<fn>) | no: sign in | depends on check: <fn> | yes | depends on check: <fn> | yes |
| GET /login | login | anonymous | yes | no: signed in | no: signed in | no: signed in | no: signed in |
";
        assert_eq!(table.markdown(), want);
        assert_eq!(table.reach("GET", "/admin", "boss"), Some(&Reach::Yes));
        assert_eq!(table.reach("GET", "/admin", "nobody"), None);
    }

    #[test]
    fn without_the_role_table_included_roles_do_not_count() {
        let table = table(&ENTRIES, &principals(), None);
        assert_eq!(
            table.reach("GET", "/admin", "boss"),
            Some(&Reach::Forbidden)
        );
    }

    #[test]
    fn json_has_every_cell_and_the_location() {
        let json = table(&ENTRIES[..2], &principals()[..2], None).json();
        assert_eq!(
            json,
            json!({
                "principals": ["anonymous", "member"],
                "routes": [
                    {"method": "GET", "path": "/", "handler": "home", "module": "m",
                     "location": "f.rs:1", "rule": "public",
                     "reach": {"anonymous": "yes", "member": "yes"}},
                    {"method": "GET", "path": "/admin", "handler": "admin", "module": "m",
                     "location": "f.rs:2", "rule": "role=admin",
                     "reach": {"anonymous": "no: sign in", "member": "no: forbidden"}},
                    {"method": "HEAD", "path": "/admin", "handler": "admin", "module": "m",
                     "location": "f.rs:2", "rule": "role=admin",
                     "reach": {"anonymous": "no: sign in", "member": "no: forbidden"}},
                ]
            })
        );
    }
}
