//! The signed-in user's extractors: [`AuthUser`] (the session's user) and [`Current`] (the
//! user store's record).

use std::{
    fmt,
    future::{ready, Ready},
    ops::Deref,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use actix_web::{dev::Payload, Error, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::{
    authz::SharedRoles,
    claims::Claims,
    deny::DenyKind,
    error::SessionError,
    live::{LiveUser, User},
    state::{deny_for, from_value, RequestState},
};

/// The signed-in user of the current request.
///
/// As an extractor it fails with the configured deny response (303 to the login page or 401 JSON)
/// when nobody is signed in; take `Option<AuthUser>` to allow anonymous requests.
///
/// ```no_run
/// use actix_web::{get, Responder};
/// use session_core::AuthUser;
///
/// #[get("/me")]
/// async fn me(user: AuthUser) -> impl Responder {
///     format!("{} {:?}", user.id(), user.roles())
/// }
/// ```
#[derive(Clone)]
pub struct AuthUser {
    claims: Arc<Claims>,
    /// With a user store: the record loaded for this request, whose roles count.
    live: Option<LiveUser>,
    /// The app's role table, if it declared one.
    table: Option<SharedRoles>,
}

impl AuthUser {
    pub(crate) fn new(
        claims: Arc<Claims>,
        live: Option<LiveUser>,
        table: Option<SharedRoles>,
    ) -> Self {
        debug_assert!(claims.is_authenticated());
        Self {
            claims,
            live,
            table,
        }
    }

    /// The user id given to [`crate::Login::new`].
    pub fn id(&self) -> &str {
        self.claims.sub.as_deref().unwrap_or_default()
    }

    /// The roles the user holds: with a user store, the record's roles loaded for this request;
    /// without, the roles given at login. Roles these include through the role table
    /// ([`crate::Authorization`]) are not listed; [`AuthUser::has_role`] counts them.
    pub fn roles(&self) -> &[String] {
        match &self.live {
            Some(user) => user.roles(),
            None => &self.claims.roles,
        }
    }

    /// Whether the user has `role`: holds it (see [`AuthUser::roles`]) or holds a role that
    /// includes it in the role table ([`crate::Authorization`]).
    pub fn has_role(&self, role: &str) -> bool {
        match &self.table {
            Some(table) => self.roles().iter().any(|held| table.includes(held, role)),
            None => self.roles().iter().any(|r| r == role),
        }
    }

    /// Whether the user has `permission`: the loaded record lists it
    /// ([`crate::User::permissions`]), or a role the user has (following the hierarchy) grants
    /// it in the role table ([`crate::Authorization`]).
    pub fn has_permission(&self, permission: &str) -> bool {
        let own = self
            .live
            .as_ref()
            .is_some_and(|user| user.permissions().iter().any(|p| p == permission));
        own || self.table.as_ref().is_some_and(|table| {
            self.roles()
                .iter()
                .any(|held| table.grants(held, permission))
        })
    }

    /// Every permission the user has (see [`AuthUser::has_permission`]), sorted, without
    /// repeats.
    pub fn permissions(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .live
            .as_ref()
            .map(|user| user.permissions().iter().map(String::as_str).collect())
            .unwrap_or_default();
        if let Some(table) = &self.table {
            for held in self.roles() {
                all.extend(table.permissions(held));
            }
        }
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The user's record loaded by the configured user store for this request, if it is a `U`
    /// (for sync `check` functions; handlers take [`crate::Current`]).
    pub fn record<U: User>(&self) -> Option<&U> {
        self.live.as_deref()?.as_any().downcast_ref()
    }

    /// The session id (new at every login). Identifies the session in logs and revocation lists;
    /// it is not a credential on its own.
    pub fn session_id(&self) -> &str {
        &self.claims.sid
    }

    /// When the cookie this request carried was issued.
    pub fn issued_at(&self) -> SystemTime {
        system_time(self.claims.iat)
    }

    /// When the session ends if unused (its idle expiry).
    pub fn expires_at(&self) -> SystemTime {
        system_time(self.claims.exp)
    }

    /// When the user logged in.
    pub fn authenticated_at(&self) -> SystemTime {
        system_time(self.claims.auth_time)
    }

    pub(crate) fn auth_time(&self) -> i64 {
        self.claims.auth_time
    }

    /// A session data value, read as `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        self.claims
            .data
            .get(key)
            .map(|v| from_value(key, v))
            .transpose()
    }
}

fn system_time(unix_secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(unix_secs).unwrap_or(0))
}

impl fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthUser")
            .field("id", &self.id())
            .field("roles", &self.roles())
            .finish_non_exhaustive()
    }
}

impl FromRequest for AuthUser {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match RequestState::from_request(req) {
            Err(e) => Err(e.into()),
            Ok(state) => signed_in_user(&state).ok_or_else(|| {
                deny_for(req, &state, DenyKind::Unauthenticated, &Default::default()).into()
            }),
        })
    }
}

/// The signed-in user the request arrived with.
pub(crate) fn signed_in_user(state: &RequestState) -> Option<AuthUser> {
    state
        .incoming
        .as_ref()
        .filter(|c| c.is_authenticated())
        .map(|c| {
            AuthUser::new(
                Arc::clone(c),
                state.live.clone(),
                state.config.roles.clone(),
            )
        })
}

/// The signed-in user's own record, loaded by the configured [`UserStore`](crate::UserStore) for this request
/// (no second query). Fails like [`crate::AuthUser`] when nobody is signed in; take
/// `Option<Current<U>>` to allow anonymous requests.
///
/// ```no_run
/// use actix_web::{get, Responder};
/// use session_core::{Current, User};
/// # struct Account { id: String, roles: Vec<String>, name: String }
/// # impl User for Account {
/// #     fn id(&self) -> &str { &self.id }
/// #     fn roles(&self) -> &[String] { &self.roles }
/// # }
///
/// #[get("/me")]
/// async fn me(me: Current<Account>) -> impl Responder {
///     format!("hello {}", me.name)
/// }
/// ```
pub struct Current<U: User>(Arc<U>);

impl<U: User> Current<U> {
    /// The record as a shared pointer.
    pub fn into_inner(self) -> Arc<U> {
        self.0
    }

    /// The record loaded for `req`, if a user is signed in (for async guard checks, which get
    /// the `HttpRequest`). Errors when no store of type `U` is configured.
    pub fn from_req(req: &HttpRequest) -> Result<Option<Self>, SessionError> {
        let state = RequestState::from_request(req)?;
        let mistake = |e: fn() -> SessionError| {
            state.record_mistake(e());
            Err(e())
        };
        let live = match (&state.config.users, &state.live) {
            (None, _) => return mistake(|| SessionError::NoUserStore),
            (Some(_), None) => return Ok(None),
            (Some(_), Some(live)) => Arc::clone(live),
        };
        match live.into_any().downcast::<U>() {
            Ok(user) => Ok(Some(Self(user))),
            Err(_) => mistake(|| SessionError::UserType {
                requested: std::any::type_name::<U>(),
            }),
        }
    }
}

impl<U: User> Clone for Current<U> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<U: User> Deref for Current<U> {
    type Target = U;

    fn deref(&self) -> &U {
        &self.0
    }
}

impl<U: User + fmt::Debug> fmt::Debug for Current<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Current").field(&self.0).finish()
    }
}

impl<U: User> FromRequest for Current<U> {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match Self::from_req(req) {
            Err(e) => Err(e.into()),
            Ok(Some(user)) => Ok(user),
            Ok(None) => {
                let denial = RequestState::from_request(req).map(|state| {
                    deny_for(req, &state, DenyKind::Unauthenticated, &Default::default())
                });
                Err(match denial {
                    Ok(denial) => denial.into(),
                    Err(e) => e.into(),
                })
            }
        })
    }
}
