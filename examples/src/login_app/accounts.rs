//! The account rules of the login app, apart from HTTP: who may register with which name and
//! password, whether a password is right, how a password changes, and which admin changes are
//! allowed (never one that leaves no admin). The handlers parse a form, call one function here and
//! render its answer.
//!
//! Every [`Accounts`] method blocks (argon2 and SQLite): call it inside `web::block`.

use std::fmt;

use super::{
    db::{Db, DbError, Refusal, User, UsernameTaken},
    store::Account,
};
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
    /// The password was changed (elsewhere) after the current one was checked: nothing was
    /// written.
    ChangedMeanwhile,
}

impl fmt::Display for ChangeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeRefused::WrongPassword => f.write_str("Your current password is not right."),
            ChangeRefused::Password(problem) => problem.fmt(f),
            ChangeRefused::ChangedMeanwhile => {
                f.write_str("Your password was just changed elsewhere. Please try again.")
            }
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

/// A password change that passed its checks ([`Accounts::check_change`]) and is not written
/// yet ([`Accounts::apply_change`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordChange {
    user: User,
    /// The stored hash the current password was verified against.
    verified: String,
    new_hash: String,
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

    /// The account named `username` (any letter case) if `password` is theirs, bound to the
    /// hash the password was verified against (see [`Accounts::settle`]).
    pub fn login(&self, username: &str, password: &str) -> Result<Option<Account>, DbError> {
        let found = self.db.credentials(username)?;
        self.settle(self.verify(found, password))
    }

    /// The account with session id `uid` if `password` is theirs (re-authentication), bound
    /// like [`Accounts::login`].
    pub fn confirm_password(&self, uid: &str, password: &str) -> Result<Option<Account>, DbError> {
        let found = self
            .db
            .account(uid)?
            .map(|account| (account.user.clone(), account.password_hash().to_owned()));
        self.settle(self.verify(found, password))
    }

    /// Checks `password` against `found` (a user and the hash read with it), with
    /// [`check_credentials`]. Blocking (argon2); stores nothing.
    pub fn verify(&self, found: Option<(User, String)>, password: &str) -> Checked<(User, String)> {
        let found = found
            .as_ref()
            .map(|(user, hash)| ((user.clone(), hash.clone()), hash.as_str()));
        check_credentials(&self.passwords, found, password)
    }

    /// What to sign in after [`Accounts::verify`]: the account bound to the credential that was
    /// actually verified, never to one read afterwards.
    ///
    /// Invariant: the session's fingerprint is the hash the password was checked against (or
    /// the re-hash of that same password that replaced it). If the password changed after the
    /// check, the session is bound to the old hash and ends on its first request, like every
    /// other session of the old password; a sign-in can never pick up the new credential. The
    /// re-hash is written compare-and-set ([`Db::replace_password_hash`]), so it never
    /// restores the old password over a concurrent change.
    pub fn settle(&self, checked: Checked<(User, String)>) -> Result<Option<Account>, DbError> {
        match checked {
            Checked::Refused => Ok(None),
            Checked::Accepted((user, hash)) => Ok(Some(Account::new(user, hash))),
            Checked::Rehashed {
                user: (user, old),
                new_hash,
            } => {
                if self.db.replace_password_hash(user.id, &old, &new_hash)? {
                    tracing::info!(user = %user.username, "password hash upgraded to the current argon2id parameters");
                    Ok(Some(Account::new(user, new_hash)))
                } else {
                    tracing::warn!(user = %user.username, "password changed during sign-in: the session keeps the credential it verified");
                    Ok(Some(Account::new(user, old)))
                }
            }
        }
    }

    /// Gives `user` the password `new_password` if `current` is their password now and the new
    /// one meets the policy (checked first: it costs no hashing), and returns the account
    /// bound to the new hash. A session alone, even a fresh one, does not change a password.
    /// [`Accounts::check_change`], then [`Accounts::apply_change`].
    pub fn change_password(
        &self,
        user: &User,
        current: &str,
        new_password: &str,
        confirmation: &str,
    ) -> Result<Result<Account, ChangeRefused>, DbError> {
        match self.check_change(user, current, new_password, confirmation)? {
            Ok(change) => self.apply_change(change),
            Err(refused) => Ok(Err(refused)),
        }
    }

    /// The checks of [`Accounts::change_password`] and the new hash, nothing written yet.
    /// Blocking (argon2, twice).
    pub fn check_change(
        &self,
        user: &User,
        current: &str,
        new_password: &str,
        confirmation: &str,
    ) -> Result<Result<PasswordChange, ChangeRefused>, DbError> {
        if let Err(problem) = check_policy(new_password, confirmation) {
            return Ok(Err(ChangeRefused::Password(problem)));
        }
        let stored = self.db.password_hash(user.id)?;
        let found = stored.as_deref().map(|hash| (hash, hash));
        let (Checked::Accepted(verified) | Checked::Rehashed { user: verified, .. }) =
            check_credentials(&self.passwords, found, current)
        else {
            return Ok(Err(ChangeRefused::WrongPassword));
        };
        Ok(Ok(PasswordChange {
            user: user.clone(),
            verified: verified.to_owned(),
            new_hash: self.passwords.hash(new_password),
        }))
    }

    /// Writes a checked change compare-and-set against the hash the current password was
    /// verified against: if the password changed since, nothing is written
    /// ([`ChangeRefused::ChangedMeanwhile`]).
    pub fn apply_change(
        &self,
        change: PasswordChange,
    ) -> Result<Result<Account, ChangeRefused>, DbError> {
        let PasswordChange {
            user,
            verified,
            new_hash,
        } = change;
        if self
            .db
            .replace_password_hash(user.id, &verified, &new_hash)?
        {
            Ok(Ok(Account::new(user, new_hash)))
        } else {
            Ok(Err(ChangeRefused::ChangedMeanwhile))
        }
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
        let stored = a.db().password_hash(ann.id).unwrap().unwrap();
        let signed_in = a.login("Ann", "correct horse").unwrap().unwrap();
        assert_eq!(
            (&signed_in.user, signed_in.password_hash()),
            (&ann, &*stored)
        );
        assert_eq!(a.login("ann", "wrong horse").unwrap(), None);
        assert_eq!(a.login("bob", "correct horse").unwrap(), None);
        assert_eq!(
            a.confirm_password(&ann.uid, "correct horse").unwrap(),
            Some(signed_in)
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
        let signed_in = a.login("old", "from 2019!").unwrap().unwrap();
        let new = a.db().password_hash(user.id).unwrap().unwrap();
        assert!(new.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{new}");
        assert_eq!(
            signed_in,
            Account::new(user.clone(), new.clone()),
            "bound to the re-hash"
        );
        assert_eq!(
            a.login("old", "from 2019!").unwrap(),
            Some(Account::new(user, new))
        );
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
        let stored = a.db().password_hash(ann.id).unwrap().unwrap();
        assert_eq!(changed.unwrap(), Ok(Account::new(ann.clone(), stored)));
        assert_eq!(a.login("ann", "correct horse").unwrap(), None);
        assert!(a.login("ann", "battery staple").unwrap().is_some());
    }

    /// Two threads meet at `barrier` twice: `between` runs in the other thread after the first
    /// meeting, so it happens after everything before it in this thread and before everything
    /// after the second.
    fn interleave<T>(before: impl FnOnce() -> T, between: impl FnOnce() + Send) -> T {
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                barrier.wait();
                between();
                barrier.wait();
            });
            let value = before();
            barrier.wait();
            barrier.wait();
            value
        })
    }

    /// A sign-in checks the old password; a password change commits before the sign-in binds
    /// its session. The session is bound to the hash that was verified, which the session layer
    /// then finds stale: it can never carry the new credential.
    #[test]
    fn a_sign_in_is_bound_to_the_credential_it_verified_not_a_concurrent_change() {
        let f = fixture();
        let a = &f.accounts;
        let ann = register(a, "ann", "correct horse");
        let old = a.db().password_hash(ann.id).unwrap().unwrap();
        for sign_in in ["login", "confirm_password"] {
            let checked = interleave(
                || match sign_in {
                    "login" => a.verify(a.db().credentials("ann").unwrap(), "correct horse"),
                    _ => {
                        let account = a.db().account(&ann.uid).unwrap().unwrap();
                        let found = (account.user.clone(), account.password_hash().to_owned());
                        a.verify(Some(found), "correct horse")
                    }
                },
                || {
                    let current = a.db().password_hash(ann.id).unwrap().unwrap();
                    assert!(a
                        .db()
                        .replace_password_hash(ann.id, &current, "changed")
                        .unwrap());
                },
            );
            let bound = a
                .settle(checked)
                .unwrap()
                .expect("the password was right when checked");
            assert_eq!(bound.password_hash(), old, "{sign_in}");
            assert_ne!(
                bound.password_hash(),
                a.db().password_hash(ann.id).unwrap().unwrap(),
                "{sign_in}: the session must not carry the new credential"
            );
            assert!(a
                .db()
                .replace_password_hash(ann.id, "changed", &old)
                .unwrap());
        }
    }

    /// A sign-in with a hash made under outdated parameters verifies the old password and
    /// computes its re-hash; a password change commits before the re-hash is stored. The
    /// re-hash must not be written: it would bring the old password back.
    #[test]
    fn a_rehash_never_restores_a_password_changed_during_the_sign_in() {
        let f = fixture();
        let a = &f.accounts;
        let weaker = Passwords::new(Params::new(512, 1, 1, None).unwrap());
        let old = weaker.hash("from 2019!");
        let user = a.db().create_user("old", &old).unwrap().unwrap();
        let checked = interleave(
            || a.verify(a.db().credentials("old").unwrap(), "from 2019!"),
            || {
                let changed = a.change_password(&user, "from 2019!", "new in 2026", "new in 2026");
                assert!(changed.unwrap().is_ok());
            },
        );
        assert!(matches!(checked, Checked::Rehashed { .. }), "{checked:?}");
        let bound = a.settle(checked).unwrap().unwrap();
        assert_eq!(bound.password_hash(), old, "bound to what was verified");
        assert_eq!(
            a.login("old", "from 2019!").unwrap(),
            None,
            "the old password is gone"
        );
        assert!(a.login("old", "new in 2026").unwrap().is_some());
    }

    /// Two password changes check the same current password; the second to write finds the
    /// first one's hash, writes nothing and says so.
    #[test]
    fn of_two_concurrent_password_changes_only_the_first_is_written() {
        let f = fixture();
        let a = &f.accounts;
        let ann = register(a, "ann", "correct horse");
        let second = interleave(
            || a.check_change(&ann, "correct horse", "second choice", "second choice"),
            || {
                let first =
                    a.change_password(&ann, "correct horse", "first choice", "first choice");
                assert!(first.unwrap().is_ok());
            },
        );
        let second = second
            .unwrap()
            .expect("the current password was right when checked");
        assert_eq!(
            a.apply_change(second).unwrap(),
            Err(ChangeRefused::ChangedMeanwhile)
        );
        assert!(a.login("ann", "first choice").unwrap().is_some());
        assert_eq!(a.login("ann", "second choice").unwrap(), None);
        assert_eq!(a.login("ann", "correct horse").unwrap(), None);
    }
}
