//! The account rules of the login app, apart from HTTP: who may register with which name and
//! password, whether a password is right, how a password changes, and which admin changes are
//! allowed (never one that leaves no admin). The handlers parse a form, call one function here and
//! render its answer.
//!
//! Every [`Accounts`] method blocks (argon2 and SQLite): call it inside `web::block`.

use std::fmt;

use super::db::{Db, DbError, Refusal, User, UsernameTaken};
use crate::password::{Passwords, Verdict};

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted, in bytes (argon2 takes any length; this bounds the work per
/// request).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_PASSWORD_LEN`] characters.
    TooShort,
    /// More than [`MAX_PASSWORD_LEN`] bytes.
    TooLong,
    /// The confirmation differs from the password.
    Mismatch,
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordProblem::TooShort => {
                write!(f, "Passwords need at least {MIN_PASSWORD_LEN} characters.")
            }
            PasswordProblem::TooLong => {
                write!(f, "Passwords may have at most {MAX_PASSWORD_LEN} bytes.")
            }
            PasswordProblem::Mismatch => f.write_str("The two passwords differ."),
        }
    }
}

/// The password policy, for a registration or a password change: the length bounds, then
/// whether `confirmation` (typed a second time) is the same password.
pub fn check_policy(password: &str, confirmation: &str) -> Result<(), PasswordProblem> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        Err(PasswordProblem::TooShort)
    } else if password.len() > MAX_PASSWORD_LEN {
        Err(PasswordProblem::TooLong)
    } else if password != confirmation {
        Err(PasswordProblem::Mismatch)
    } else {
        Ok(())
    }
}

/// Whether `username` is 3–32 ASCII letters, digits, `.`, `_` or `-`.
pub fn valid_username(username: &str) -> bool {
    (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Why a registration is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterRefused {
    /// The name breaks [`valid_username`].
    BadUsername,
    /// The password breaks [`check_policy`].
    Password(PasswordProblem),
    /// The name is in use, in some letter case.
    UsernameTaken,
}

impl fmt::Display for RegisterRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterRefused::BadUsername => {
                f.write_str("Usernames are 3–32 letters, digits, '.', '_' or '-'.")
            }
            RegisterRefused::Password(problem) => problem.fmt(f),
            RegisterRefused::UsernameTaken => f.write_str("That username is taken."),
        }
    }
}

/// Why a password change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRefused {
    /// The current password given is not the account's.
    WrongPassword,
    /// The new password breaks [`check_policy`].
    Password(PasswordProblem),
}

impl fmt::Display for ChangeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeRefused::WrongPassword => f.write_str("Your current password is not right."),
            ChangeRefused::Password(problem) => problem.fmt(f),
        }
    }
}

/// What checking a password decides, before anything is stored. Shared by every example that
/// checks passwords, whatever holds its users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked<U> {
    /// Unknown user or wrong password: one answer for both, after the same work.
    Refused,
    /// The password is right.
    Accepted(U),
    /// The password is right and the stored hash uses outdated parameters: store `new_hash`.
    Rehashed {
        /// Whose password it is.
        user: U,
        /// The password hashed with the current parameters.
        new_hash: String,
    },
}

/// Checks `password` for `found` (a user and their stored hash). When `found` is `None` it
/// verifies against a dummy hash, so that an unknown name takes as long as a wrong password and
/// response times do not tell which names exist. Blocking.
pub fn check_credentials<U>(
    passwords: &Passwords,
    found: Option<(U, &str)>,
    password: &str,
) -> Checked<U> {
    let Some((user, stored)) = found else {
        passwords.verify_dummy(password);
        return Checked::Refused;
    };
    match passwords.verify(password, stored) {
        Verdict::Wrong => Checked::Refused,
        Verdict::Ok => Checked::Accepted(user),
        Verdict::OkRehashed(new_hash) => Checked::Rehashed { user, new_hash },
    }
}

/// The users of the login app: the database and the password hasher.
#[derive(Debug)]
pub struct Accounts {
    db: Db,
    passwords: Passwords,
}

impl Accounts {
    /// Accounts in `db`, hashing with `passwords`.
    pub fn new(db: Db, passwords: Passwords) -> Self {
        Self { db, passwords }
    }

    /// The user database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The password hasher.
    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// Creates an account after checking the name and the password policy (the first account
    /// becomes the admin, see [`Db::create_user`]).
    pub fn register(
        &self,
        username: &str,
        password: &str,
        confirmation: &str,
    ) -> Result<Result<User, RegisterRefused>, DbError> {
        if !valid_username(username) {
            return Ok(Err(RegisterRefused::BadUsername));
        }
        if let Err(problem) = check_policy(password, confirmation) {
            return Ok(Err(RegisterRefused::Password(problem)));
        }
        let hash = self.passwords.hash(password);
        Ok(self
            .db
            .create_user(username, &hash)?
            .map_err(|UsernameTaken| RegisterRefused::UsernameTaken))
    }

    /// The user named `username` (any letter case) if `password` is theirs.
    pub fn login(&self, username: &str, password: &str) -> Result<Option<User>, DbError> {
        let found = self.db.credentials(username)?;
        self.check_password(found, password)
    }

    /// The user with session id `uid` if `password` is theirs (re-authentication).
    pub fn confirm_password(&self, uid: &str, password: &str) -> Result<Option<User>, DbError> {
        let found = match self.db.user(uid)? {
            Some(user) => self.db.password_hash(user.id)?.map(|hash| (user, hash)),
            None => None,
        };
        self.check_password(found, password)
    }

    /// [`check_credentials`], storing the new hash when the old one was made with weaker
    /// parameters.
    pub fn check_password(
        &self,
        found: Option<(User, String)>,
        password: &str,
    ) -> Result<Option<User>, DbError> {
        let found = found.as_ref().map(|(user, hash)| (user, hash.as_str()));
        match check_credentials(&self.passwords, found, password) {
            Checked::Refused => Ok(None),
            Checked::Accepted(user) => Ok(Some(user.clone())),
            Checked::Rehashed { user, new_hash } => {
                self.db.set_password_hash(user.id, &new_hash)?;
                tracing::info!(user = %user.username, "password hash upgraded to the current argon2id parameters");
                Ok(Some(user.clone()))
            }
        }
    }

    /// Gives `user` the password `new_password` if `current` is their password now and the new
    /// one meets the policy (checked first: it costs no hashing). A session alone, even a fresh
    /// one, does not change a password.
    pub fn change_password(
        &self,
        user: &User,
        current: &str,
        new_password: &str,
        confirmation: &str,
    ) -> Result<Result<(), ChangeRefused>, DbError> {
        if let Err(problem) = check_policy(new_password, confirmation) {
            return Ok(Err(ChangeRefused::Password(problem)));
        }
        let stored = self.db.password_hash(user.id)?;
        let found = stored.as_deref().map(|hash| ((), hash));
        if check_credentials(&self.passwords, found, current) == Checked::Refused {
            return Ok(Err(ChangeRefused::WrongPassword));
        }
        let hash = self.passwords.hash(new_password);
        self.db.set_password_hash(user.id, &hash)?;
        Ok(Ok(()))
    }

    /// Admin `by` (a uid, for the log) makes user `uid` an admin.
    pub fn grant_admin(&self, by: &str, uid: &str) -> Result<Result<User, Refusal>, DbError> {
        let outcome = self.db.grant_admin(uid)?;
        audit(by, uid, "grant admin", &outcome);
        Ok(outcome)
    }

    /// Admin `by` makes user `uid` a member, unless `uid` is the last admin.
    pub fn revoke_admin(&self, by: &str, uid: &str) -> Result<Result<User, Refusal>, DbError> {
        let outcome = self.db.revoke_admin(uid)?;
        audit(by, uid, "revoke admin", &outcome);
        Ok(outcome)
    }

    /// Admin `by` deletes the account `uid` (possibly their own), unless it is the last admin's.
    pub fn delete_account(&self, by: &str, uid: &str) -> Result<Result<User, Refusal>, DbError> {
        let outcome = self.db.delete_user(uid)?;
        audit(by, uid, "delete account", &outcome);
        Ok(outcome)
    }
}

/// Logs an administration change or its refusal.
fn audit(by: &str, uid: &str, action: &str, outcome: &Result<User, Refusal>) {
    match outcome {
        Ok(user) => {
            tracing::info!(by, user = %user.username, user_id = uid, action, "account changed")
        }
        Err(refusal) => tracing::warn!(
            by,
            user_id = uid,
            action,
            ?refusal,
            "account change refused"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{login_app::db::Role, password::Params};

    fn cheap() -> Passwords {
        Passwords::new(Params::new(1024, 1, 1, None).unwrap())
    }

    /// Accounts over a fresh database in a temporary directory (removed on drop).
    struct Fixture {
        accounts: Accounts,
        _dir: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::new(Db::open(dir.path()).unwrap(), cheap());
        Fixture {
            accounts,
            _dir: dir,
        }
    }

    fn register(accounts: &Accounts, name: &str, password: &str) -> User {
        accounts
            .register(name, password, password)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn password_policy() {
        use PasswordProblem::*;
        let long = "x".repeat(MAX_PASSWORD_LEN);
        let too_long = "x".repeat(MAX_PASSWORD_LEN + 1);
        // 1026 bytes in 513 characters: the upper bound counts bytes.
        let wide = "é".repeat(MAX_PASSWORD_LEN / 2 + 1);
        let table = [
            ("12345678", "12345678", Ok(())),
            ("pässwörd", "pässwörd", Ok(())),
            (&long, &long, Ok(())),
            ("", "", Err(TooShort)),
            ("1234567", "1234567", Err(TooShort)),
            // Seven characters in fourteen bytes: the lower bound counts characters.
            ("ééééééé", "ééééééé", Err(TooShort)),
            (&too_long, &too_long, Err(TooLong)),
            (&wide, &wide, Err(TooLong)),
            ("12345678", "12345679", Err(Mismatch)),
            ("12345678", "", Err(Mismatch)),
            ("Password", "password", Err(Mismatch)),
            // The length is reported before the confirmation.
            ("short", "other", Err(TooShort)),
        ];
        for (password, confirmation, want) in table {
            assert_eq!(
                check_policy(password, confirmation),
                want,
                "{password:?} / {confirmation:?}"
            );
        }
    }

    #[test]
    fn username_rules() {
        for good in ["ann", "a.b_c-9", &"a".repeat(32)] {
            assert!(valid_username(good), "{good:?}");
        }
        for bad in ["an", &"a".repeat(33), "ann smith", "<ann>", "änn", ""] {
            assert!(!valid_username(bad), "{bad:?}");
        }
    }

    #[test]
    fn registration_checks_name_and_policy_before_anything_is_stored() {
        let f = fixture();
        let a = &f.accounts;
        let table = [
            (
                "a b",
                "long enough",
                "long enough",
                RegisterRefused::BadUsername,
            ),
            (
                "ann",
                "short",
                "short",
                RegisterRefused::Password(PasswordProblem::TooShort),
            ),
            (
                "ann",
                "long enough",
                "long enuogh",
                RegisterRefused::Password(PasswordProblem::Mismatch),
            ),
        ];
        for (name, password, confirmation, want) in table {
            let refused = a.register(name, password, confirmation).unwrap();
            assert_eq!(refused, Err(want), "{name} {password} {confirmation}");
        }
        assert!(a.db().users().unwrap().is_empty());
        let ann = register(a, "ann", "correct horse");
        assert_eq!(ann.username, "ann");
        assert_eq!(
            a.register("ANN", "correct horse", "correct horse").unwrap(),
            Err(RegisterRefused::UsernameTaken)
        );
    }

    #[test]
    fn login_accepts_the_right_password_only() {
        let f = fixture();
        let a = &f.accounts;
        let ann = register(a, "ann", "correct horse");
        assert_eq!(a.login("Ann", "correct horse").unwrap(), Some(ann.clone()));
        assert_eq!(a.login("ann", "wrong horse").unwrap(), None);
        assert_eq!(a.login("bob", "correct horse").unwrap(), None);
        assert_eq!(
            a.confirm_password(&ann.uid, "correct horse").unwrap(),
            Some(ann.clone())
        );
        assert_eq!(a.confirm_password(&ann.uid, "wrong horse").unwrap(), None);
        assert_eq!(
            a.confirm_password("no-such-uid", "correct horse").unwrap(),
            None
        );
    }

    #[test]
    fn check_credentials_refuses_unknown_users_and_wrong_passwords_alike() {
        let passwords = cheap();
        let hash = passwords.hash("right password");
        let table = [
            (
                Some(("ann", hash.as_str())),
                "right password",
                Checked::Accepted("ann"),
            ),
            (
                Some(("ann", hash.as_str())),
                "wrong password",
                Checked::Refused,
            ),
            (None, "right password", Checked::Refused),
        ];
        for (found, password, want) in table {
            assert_eq!(check_credentials(&passwords, found, password), want);
        }
    }

    #[test]
    fn a_weak_hash_is_replaced_at_login() {
        let f = fixture();
        let a = &f.accounts;
        let weaker = Passwords::new(Params::new(512, 1, 1, None).unwrap());
        let old = weaker.hash("from 2019!");
        let user = a.db().create_user("old", &old).unwrap().unwrap();
        assert_eq!(a.login("old", "wrong").unwrap(), None);
        assert_eq!(a.db().password_hash(user.id).unwrap(), Some(old.clone()));
        assert_eq!(a.login("old", "from 2019!").unwrap(), Some(user.clone()));
        let new = a.db().password_hash(user.id).unwrap().unwrap();
        assert!(new.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{new}");
        assert_eq!(a.login("old", "from 2019!").unwrap(), Some(user));
    }

    #[test]
    fn admin_changes_keep_one_admin() {
        let f = fixture();
        let a = &f.accounts;
        let ann = register(a, "ann", "correct horse");
        let bob = register(a, "bob", "battery staple");
        let by = ann.uid.as_str();
        assert_eq!(
            a.revoke_admin(by, &ann.uid).unwrap(),
            Err(Refusal::LastAdmin)
        );
        assert_eq!(
            a.delete_account(by, &ann.uid).unwrap(),
            Err(Refusal::LastAdmin)
        );
        assert_eq!(
            a.grant_admin(by, &bob.uid).unwrap().unwrap().role,
            Role::Admin
        );
        assert_eq!(
            a.revoke_admin(by, &ann.uid).unwrap().unwrap().role,
            Role::Member
        );
        assert_eq!(
            a.delete_account(by, &ann.uid).unwrap().unwrap().uid,
            ann.uid
        );
        assert_eq!(a.login("ann", "correct horse").unwrap(), None, "deleted");
        assert_eq!(
            a.grant_admin(by, &ann.uid).unwrap(),
            Err(Refusal::NoSuchUser)
        );
    }

    #[test]
    fn password_change_needs_the_current_password_and_a_policy_conforming_new_one() {
        use ChangeRefused::*;
        let f = fixture();
        let a = &f.accounts;
        let ann = register(a, "ann", "correct horse");
        let table = [
            (
                "wrong horse",
                "battery staple",
                "battery staple",
                WrongPassword,
            ),
            ("", "battery staple", "battery staple", WrongPassword),
            (
                "correct horse",
                "short",
                "short",
                Password(PasswordProblem::TooShort),
            ),
            (
                "correct horse",
                "battery staple",
                "battery stapel",
                Password(PasswordProblem::Mismatch),
            ),
        ];
        for (current, new, confirmation, want) in table {
            let refused = a.change_password(&ann, current, new, confirmation).unwrap();
            assert_eq!(refused, Err(want), "{current} {new} {confirmation}");
            assert!(
                a.login("ann", "correct horse").unwrap().is_some(),
                "unchanged"
            );
        }
        let changed = a.change_password(&ann, "correct horse", "battery staple", "battery staple");
        assert_eq!(changed.unwrap(), Ok(()));
        assert_eq!(a.login("ann", "correct horse").unwrap(), None);
        assert!(a.login("ann", "battery staple").unwrap().is_some());
    }
}
