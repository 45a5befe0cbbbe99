//! [`Authorization`]: the app's role table, declared once — which roles include which, and the
//! permissions each role grants.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use crate::error::ConfigError;

/// A permission name that an app's permission enum can provide, for typed permissions:
/// `#[require_permission(Perm::NotesEdit)]`.
///
/// ```
/// use session_core::PermissionName;
/// enum Perm { NotesEdit, NotesDelete }
/// impl PermissionName for Perm {
///     fn permission_name(&self) -> &str {
///         match self { Perm::NotesEdit => "notes:edit", Perm::NotesDelete => "notes:delete" }
///     }
/// }
/// ```
pub trait PermissionName {
    /// The permission as the role table and [`crate::User::permissions`] spell it.
    fn permission_name(&self) -> &str;
}

impl PermissionName for str {
    fn permission_name(&self) -> &str {
        self
    }
}

impl PermissionName for String {
    fn permission_name(&self) -> &str {
        self
    }
}

impl<T: PermissionName + ?Sized> PermissionName for &T {
    fn permission_name(&self) -> &str {
        (**self).permission_name()
    }
}

/// The role table: roles that include other roles (`admin ⊇ editor ⊇ viewer`) and the
/// permissions each grants. Set it with [`crate::AuthSessionBuilder::authorization`]; its
/// [`crate::AuthSessionBuilder::build`] refuses a cycle or an unknown included role.
///
/// With a table, `has_role("editor")` holds for an admin, and a user holds every permission
/// granted to one of their roles or to a role those include, plus the record's own
/// [`crate::User::permissions`].
///
/// ```
/// use session_core::{AuthSession, Authorization, Key};
///
/// let roles = Authorization::builder()
///     .role("admin").includes(["editor"]).grants(["notes:delete", "users:manage"])
///     .role("editor").includes(["viewer"]).grants(["notes:edit"])
///     .role("viewer").grants(["notes:read"])
///     .build()?; // or pass the builder itself; `AuthSession`'s build() then checks it
/// let auth = AuthSession::builder(Key::from_bytes(&[7u8; 32]).unwrap())
///     .authorization(roles)
///     .build();
/// assert!(auth.is_ok());
///
/// let cyclic = Authorization::builder()
///     .role("a").includes(["b"])
///     .role("b").includes(["a"]);
/// let err = AuthSession::builder(Key::from_bytes(&[7u8; 32]).unwrap())
///     .authorization(cyclic)
///     .build()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "role hierarchy has a cycle: a -> b -> a");
/// # Ok::<(), session_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Authorization {
    table: SharedRoles,
}

/// What [`crate::AuthSessionBuilder::authorization`] takes: a built [`Authorization`], or its
/// builder (checked by [`crate::AuthSessionBuilder::build`]). Sealed.
pub trait IntoAuthorization: sealed::Sealed {
    #[doc(hidden)]
    fn into_authorization(self) -> Result<Authorization, ConfigError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Authorization {}
    impl Sealed for super::AuthorizationBuilder {}
}

impl IntoAuthorization for Authorization {
    fn into_authorization(self) -> Result<Authorization, ConfigError> {
        Ok(self)
    }
}

impl IntoAuthorization for AuthorizationBuilder {
    fn into_authorization(self) -> Result<Authorization, ConfigError> {
        self.build()
    }
}

impl Authorization {
    pub(crate) fn table(&self) -> &SharedRoles {
        &self.table
    }
}

impl Authorization {
    /// An empty role table; declare each role with [`AuthorizationBuilder::role`].
    pub fn builder() -> AuthorizationBuilder {
        AuthorizationBuilder::default()
    }
}

/// Declares the role table; see [`Authorization`]. `includes` and `grants` apply to the role
/// last named by [`AuthorizationBuilder::role`].
#[derive(Debug, Clone, Default)]
pub struct AuthorizationBuilder {
    /// In declaration order; a role named twice adds to its first declaration.
    roles: Vec<Declared>,
}

#[derive(Debug, Clone)]
struct Declared {
    name: String,
    includes: Vec<String>,
    grants: Vec<String>,
}

impl AuthorizationBuilder {
    /// Declares `role` (or returns to it); the next `includes`/`grants` apply to it.
    pub fn role(mut self, role: impl Into<String>) -> Self {
        let name = role.into();
        if let Some(at) = self.roles.iter().position(|r| r.name == name) {
            let declared = self.roles.remove(at);
            self.roles.push(declared);
        } else {
            self.roles.push(Declared {
                name,
                includes: Vec::new(),
                grants: Vec::new(),
            });
        }
        self
    }

    /// The last declared role also holds `roles` (each must be declared too).
    pub fn includes<I>(mut self, roles: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let last = self.last();
        last.includes.extend(roles.into_iter().map(Into::into));
        self
    }

    /// The last declared role grants `permissions`.
    pub fn grants<I>(mut self, permissions: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let last = self.last();
        last.grants.extend(permissions.into_iter().map(Into::into));
        self
    }

    fn last(&mut self) -> &mut Declared {
        if self.roles.is_empty() {
            // Recorded as a role with an empty name, refused by `build`.
            self.roles.push(Declared {
                name: String::new(),
                includes: Vec::new(),
                grants: Vec::new(),
            });
        }
        self.roles.last_mut().expect("just ensured")
    }

    /// Checks the table: a cycle is a [`ConfigError::RoleCycle`] naming its roles, an included
    /// role that is not declared a [`ConfigError::UnknownRole`].
    pub fn build(self) -> Result<Authorization, ConfigError> {
        Ok(Authorization {
            table: Arc::new(self.table()?),
        })
    }

    /// Checks the table and computes each role's closure.
    ///
    /// Invariants of the result: every role named in `includes` is declared; the inclusion graph
    /// has no cycle; `closure[r]` is `r` with every role reachable from it, and `permissions[r]`
    /// the union of the grants over `closure[r]`. A role not in the table is held as itself
    /// only, granting nothing.
    pub(crate) fn table(self) -> Result<RoleTable, ConfigError> {
        let mut declared: BTreeMap<&str, &Declared> = BTreeMap::new();
        for role in &self.roles {
            if role.name.is_empty() {
                return Err(ConfigError::invalid(
                    "authorization",
                    "`includes` or `grants` called before any `role(..)`, or a role with an empty name",
                ));
            }
            declared.insert(&role.name, role);
        }
        for role in &self.roles {
            if let Some(unknown) = role
                .includes
                .iter()
                .find(|r| !declared.contains_key(r.as_str()))
            {
                return Err(ConfigError::UnknownRole {
                    role: unknown.clone(),
                    included_by: role.name.clone(),
                });
            }
        }
        // Depth-first search over the inclusion graph, keeping the path to report a cycle.
        let mut closures: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for role in &self.roles {
            let mut path = Vec::new();
            closure_of(&role.name, &declared, &mut path, &mut closures)?;
        }
        let roles = closures
            .into_iter()
            .map(|(name, closure)| {
                let permissions = closure
                    .iter()
                    .flat_map(|r| declared[r.as_str()].grants.iter().cloned())
                    .collect();
                (
                    name,
                    Expanded {
                        closure,
                        permissions,
                    },
                )
            })
            .collect();
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Ok(RoleTable { id, roles })
    }
}

fn closure_of<'a>(
    role: &'a str,
    declared: &BTreeMap<&'a str, &'a Declared>,
    path: &mut Vec<&'a str>,
    done: &mut BTreeMap<String, BTreeSet<String>>,
) -> Result<BTreeSet<String>, ConfigError> {
    if let Some(closure) = done.get(role) {
        return Ok(closure.clone());
    }
    if let Some(start) = path.iter().position(|r| *r == role) {
        let mut roles: Vec<String> = path[start..].iter().map(|r| (*r).to_owned()).collect();
        roles.push(role.to_owned());
        return Err(ConfigError::RoleCycle { roles });
    }
    path.push(role);
    let mut closure = BTreeSet::from([role.to_owned()]);
    for included in &declared[role].includes {
        closure.extend(closure_of(included, declared, path, done)?);
    }
    path.pop();
    done.insert(role.to_owned(), closure.clone());
    Ok(closure)
}

/// A checked role table (see [`AuthorizationBuilder::build`] for its invariants).
#[derive(Debug, Default)]
pub(crate) struct RoleTable {
    /// Unique per built table, so guards can remember their verdict per table.
    pub(crate) id: u64,
    roles: BTreeMap<String, Expanded>,
}

#[derive(Debug)]
struct Expanded {
    /// The role and every role it includes, transitively.
    closure: BTreeSet<String>,
    /// Every permission granted by a role in `closure`.
    permissions: BTreeSet<String>,
}

impl RoleTable {
    /// Whether a user holding `held` holds `role`.
    pub(crate) fn includes(&self, held: &str, role: &str) -> bool {
        held == role
            || self
                .roles
                .get(held)
                .is_some_and(|e| e.closure.contains(role))
    }

    /// Whether holding `held` grants `permission`.
    pub(crate) fn grants(&self, held: &str, permission: &str) -> bool {
        self.roles
            .get(held)
            .is_some_and(|e| e.permissions.contains(permission))
    }

    /// The permissions `held` grants.
    pub(crate) fn permissions<'a>(&'a self, held: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.roles
            .get(held)
            .into_iter()
            .flat_map(|e| e.permissions.iter().map(String::as_str))
    }

    /// Whether `role` is declared in the table.
    pub(crate) fn is_declared(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// Every declared role, sorted.
    pub(crate) fn declared(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }
}

/// The table shared by the configuration and every [`crate::AuthUser`] of a request.
pub(crate) type SharedRoles = Arc<RoleTable>;

impl fmt::Display for RoleTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, e)) in self.roles.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{name} ⊇ {:?}", e.closure)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RoleTable {
        Authorization::builder()
            .role("admin")
            .includes(["editor"])
            .grants(["notes:delete"])
            .role("editor")
            .includes(["viewer"])
            .grants(["notes:edit"])
            .role("viewer")
            .grants(["notes:read"])
            .table()
            .unwrap()
    }

    #[test]
    fn hierarchy_is_transitive() {
        let t = table();
        assert!(t.includes("admin", "viewer"));
        assert!(t.includes("admin", "editor"));
        assert!(!t.includes("editor", "admin"));
        assert!(!t.includes("viewer", "editor"));
        assert!(t.includes("other", "other"));
        assert!(!t.includes("other", "viewer"));
        assert!(t.grants("admin", "notes:read"));
        assert!(t.grants("admin", "notes:delete"));
        assert!(t.grants("editor", "notes:read"));
        assert!(!t.grants("editor", "notes:delete"));
        assert!(!t.grants("other", "notes:read"));
        assert_eq!(
            t.declared().collect::<Vec<_>>(),
            ["admin", "editor", "viewer"]
        );
    }

    #[test]
    fn cycles_and_unknown_roles_are_refused() {
        let err = Authorization::builder()
            .role("a")
            .includes(["b"])
            .role("b")
            .includes(["c"])
            .role("c")
            .includes(["a"])
            .table()
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::RoleCycle {
                roles: vec!["a".into(), "b".into(), "c".into(), "a".into()]
            }
        );
        let err = Authorization::builder()
            .role("a")
            .includes(["a"])
            .table()
            .unwrap_err();
        assert_eq!(err.to_string(), "role hierarchy has a cycle: a -> a");
        let err = Authorization::builder()
            .role("admin")
            .includes(["editr"])
            .table()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "role `admin` includes `editr`, which is not declared; declare it with .role(\"editr\")"
        );
        let err = Authorization::builder().grants(["x"]).table().unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                setting: "authorization",
                ..
            }
        ));
    }

    #[test]
    fn a_role_named_again_adds_to_its_declaration() {
        let t = Authorization::builder()
            .role("a")
            .grants(["p"])
            .role("b")
            .role("a")
            .includes(["b"])
            .table()
            .unwrap();
        assert!(t.includes("a", "b"));
        assert!(t.grants("a", "p"));
    }
}
