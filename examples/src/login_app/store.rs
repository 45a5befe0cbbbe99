//! The live-user glue: the app's SQLite users as session-core's [`UserStore`], so guards judge
//! the role in the database on every request, and a password change (a new hash, the
//! fingerprint) ends every other session of the account.

use session_core::{User as SessionUser, UserStore};

use super::{
    db::{DbError, User},
    AppState,
};

/// A user with what the session layer needs: the role names and the password hash (as the
/// credential fingerprint; the cookie carries only a keyed MAC of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user as the pages show it.
    pub user: User,
    roles: Vec<String>,
    password_hash: String,
}

impl Account {
    /// `user` with its stored password hash.
    pub fn new(user: User, password_hash: String) -> Self {
        let mut roles = vec![user.role.as_str().to_owned()];
        if user.editor {
            roles.push(super::EDITOR.to_owned());
        }
        Self {
            user,
            roles,
            password_hash,
        }
    }

    /// The stored password hash this account was read with (its credential fingerprint).
    pub fn password_hash(&self) -> &str {
        &self.password_hash
    }
}

impl SessionUser for Account {
    fn id(&self) -> &str {
        &self.user.uid
    }

    fn roles(&self) -> &[String] {
        &self.roles
    }

    fn fingerprint(&self) -> Option<&[u8]> {
        Some(self.password_hash.as_bytes())
    }
}

/// One query per request (`Db::account`), on actix's blocking pool.
impl UserStore for AppState {
    type User = Account;
    type Error = DbError;

    async fn load(&self, uid: &str) -> Result<Option<Account>, DbError> {
        let (state, uid) = (self.clone(), uid.to_owned());
        actix_web::web::block(move || state.db().account(&uid)).await?
    }
}
