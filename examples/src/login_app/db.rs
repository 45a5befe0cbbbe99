//! The user table, in an SQLite file compiled into the binary (rusqlite's `bundled` feature).
//!
//! Every method blocks: call them inside `web::block`.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
    time::{SystemTime, UNIX_EPOCH},
};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use super::store::Account;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "users.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    uid           TEXT    NOT NULL UNIQUE,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    created_at    INTEGER NOT NULL
);
-- Accounts holding the `editor` role beside their admin/member role.
CREATE TABLE IF NOT EXISTS editors (
    uid TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS notes (
    id         INTEGER PRIMARY KEY,
    owner      TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_owner ON notes (owner);";

/// A user's role; the session carries it as a role name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The first registered user, and whoever an admin makes admin: may open `/admin`.
    Admin,
    /// Everyone else.
    Member,
}

impl Role {
    /// The name stored in the database and in the session (`#[require_role("admin")]`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    fn parse(name: &str) -> rusqlite::Result<Self> {
        match name {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(rusqlite::Error::InvalidColumnType(
                0,
                format!("role {other:?}"),
                rusqlite::types::Type::Text,
            )),
        }
    }
}

/// A user as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Random 128-bit id (hex), the session's user id. Not the row id: a session cookie from
    /// before the database was reset must not sign its holder in as whoever got that row id next.
    pub uid: String,
    /// Unique, case-insensitively.
    pub username: String,
    /// Admin or member.
    pub role: Role,
    /// Holds the `editor` role too (reads and edits every note).
    pub editor: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// Registering failed because the name is in use (in any letter case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsernameTaken;

/// Why a role change or a deletion was refused; nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No account has this uid (it was deleted meanwhile, or never existed).
    NoSuchUser,
    /// The change would leave the app without an admin.
    LastAdmin,
}

/// A change to one account that may take away an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    SetRole(Role),
    Delete,
}

/// Whether `change` may apply to `user` while `admins` accounts are admins: the one rule is that
/// the last admin keeps the role and the account.
fn check_change(user: &User, admins: u64, change: Change) -> Result<(), Refusal> {
    let removes_an_admin = user.role == Role::Admin && change != Change::SetRole(Role::Admin);
    if removes_an_admin && admins <= 1 {
        Err(Refusal::LastAdmin)
    } else {
        Ok(())
    }
}

/// A database failure (I/O, corruption, a locked file): the pages answer 500.
#[derive(Debug)]
pub struct DbError(String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl std::error::Error for DbError {}

impl From<actix_web::error::BlockingError> for DbError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        DbError(e.to_string())
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

/// The users database: one connection behind a mutex (SQLite serializes writers anyway).
#[derive(Debug)]
pub struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Db {
    /// Opens (creating the directory, file and table when missing) `dir/users.sqlite3`.
    pub fn open(dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbError(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-applied change: SQLite rolls back
        // any statement that did not finish.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a user. The first user ever becomes admin, decided inside the one `INSERT` so two
    /// simultaneous first registrations cannot both become admin.
    pub fn create_user(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<Result<User, UsernameTaken>, DbError> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT INTO users (uid, username, password_hash, role, created_at)
             VALUES (?1, ?2, ?3,
                     CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'member' ELSE 'admin' END,
                     ?4)",
            params![random_id(), username, password_hash, unix_now()],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, Some(msg)))
                if e.code == ErrorCode::ConstraintViolation && msg.contains("users.username") =>
            {
                return Ok(Err(UsernameTaken))
            }
            Err(e) => return Err(e.into()),
        }
        let id = conn.last_insert_rowid();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))?;
        Ok(Ok(stmt.query_row([id], row_to_user)?))
    }

    /// The user with this session id ([`User::uid`]).
    pub fn user(&self, uid: &str) -> Result<Option<User>, DbError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE uid = ?1"))?;
        Ok(stmt.query_row([uid], row_to_user).optional()?)
    }

    /// The user with this session id and their stored password hash, as the session layer
    /// loads it on every signed-in request.
    pub fn account(&self, uid: &str) -> Result<Option<Account>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE uid = ?1"
        ))?;
        let found = stmt
            .query_row([uid], |row| {
                Ok(Account::new(row_to_user(row)?, row.get(6)?))
            })
            .optional()?;
        Ok(found)
    }

    /// The user with this name (any letter case) and their stored password hash.
    pub fn credentials(&self, username: &str) -> Result<Option<(User, String)>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE username = ?1"
        ))?;
        let found = stmt
            .query_row([username], |row| Ok((row_to_user(row)?, row.get(6)?)))
            .optional()?;
        Ok(found)
    }

    /// The stored password hash of user `id`.
    pub fn password_hash(&self, id: i64) -> Result<Option<String>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?;
        Ok(stmt.query_row([id], |row| row.get(0)).optional()?)
    }

    /// Replaces the password hash of user `id` with `new` if it is still `expected` (the hash
    /// the caller verified a password against), in one statement; returns whether it did.
    ///
    /// Invariant: a hash is only ever written over the hash whose password was just checked.
    /// So a re-hash of an old password with new parameters, or a password change that checked
    /// the current password, cannot overwrite a password set by a concurrent change: that write
    /// finds another hash and changes nothing (`false`).
    pub fn replace_password_hash(
        &self,
        id: i64,
        expected: &str,
        new: &str,
    ) -> Result<bool, DbError> {
        let changed = self.conn().execute(
            "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
            params![id, expected, new],
        )?;
        Ok(changed == 1)
    }

    /// Makes the user with this uid an admin (already one: no change).
    pub fn grant_admin(&self, uid: &str) -> Result<Result<User, Refusal>, DbError> {
        self.change(uid, Change::SetRole(Role::Admin))
    }

    /// Makes the user with this uid a member, unless they are the last admin.
    pub fn revoke_admin(&self, uid: &str) -> Result<Result<User, Refusal>, DbError> {
        self.change(uid, Change::SetRole(Role::Member))
    }

    /// Deletes the user with this uid, unless they are the last admin; returns the deleted row.
    pub fn delete_user(&self, uid: &str) -> Result<Result<User, Refusal>, DbError> {
        self.change(uid, Change::Delete)
    }

    /// Applies `change` to the user `uid` if [`check_change`] allows it, in one transaction.
    ///
    /// The transaction is IMMEDIATE: it takes SQLite's write lock before it counts the admins, so
    /// two requests (through this connection or any other, in any process) cannot both count two
    /// admins and each remove one. A second writer waits for the first to commit (busy timeout)
    /// and then counts what the first left.
    fn change(&self, uid: &str, change: Change) -> Result<Result<User, Refusal>, DbError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = tx
            .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE uid = ?1"))?
            .query_row([uid], row_to_user)
            .optional()?;
        // Returning early drops `tx`, which rolls back: nothing was written.
        let Some(user) = found else {
            return Ok(Err(Refusal::NoSuchUser));
        };
        let admins: u64 = tx.query_row(
            "SELECT COUNT(*) FROM users WHERE role = 'admin'",
            [],
            |row| row.get(0),
        )?;
        if let Err(refusal) = check_change(&user, admins, change) {
            return Ok(Err(refusal));
        }
        let user = match change {
            Change::SetRole(role) => {
                tx.execute(
                    "UPDATE users SET role = ?2 WHERE id = ?1",
                    params![user.id, role.as_str()],
                )?;
                User { role, ..user }
            }
            Change::Delete => {
                tx.execute("DELETE FROM users WHERE id = ?1", [user.id])?;
                tx.execute("DELETE FROM editors WHERE uid = ?1", [&user.uid])?;
                user
            }
        };
        tx.commit()?;
        Ok(Ok(user))
    }

    /// Gives (`true`) or takes away the `editor` role of the user `uid`; `None` when there is
    /// no such user.
    pub fn set_editor(&self, uid: &str, editor: bool) -> Result<Option<User>, DbError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists = tx
            .query_row("SELECT 1 FROM users WHERE uid = ?1", [uid], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Ok(None);
        }
        match editor {
            true => tx.execute("INSERT OR IGNORE INTO editors (uid) VALUES (?1)", [uid])?,
            false => tx.execute("DELETE FROM editors WHERE uid = ?1", [uid])?,
        };
        let user = tx
            .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE uid = ?1"))?
            .query_row([uid], row_to_user)?;
        tx.commit()?;
        Ok(Some(user))
    }

    /// Adds a note owned by `owner` (a uid); returns its id.
    pub fn create_note(&self, owner: &str, title: &str, body: &str) -> Result<i64, DbError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO notes (owner, title, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![owner, title, body, unix_now()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The note `id`.
    pub fn note(&self, id: i64) -> Result<Option<Note>, DbError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {NOTE_COLUMNS} FROM notes WHERE id = ?1"))?;
        Ok(stmt.query_row([id], row_to_note).optional()?)
    }

    /// The owner (a uid) of note `id`: what the notes policy asks.
    pub fn note_owner(&self, id: i64) -> Result<Option<String>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT owner FROM notes WHERE id = ?1")?;
        Ok(stmt.query_row([id], |row| row.get(0)).optional()?)
    }

    /// The notes of `owner`, newest first.
    pub fn notes_of(&self, owner: &str) -> Result<Vec<Note>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes WHERE owner = ?1 ORDER BY id DESC"
        ))?;
        let notes = stmt
            .query_map([owner], row_to_note)?
            .collect::<Result<_, _>>()?;
        Ok(notes)
    }

    /// Replaces the title and body of note `id`; `false` when there is no such note.
    pub fn update_note(&self, id: i64, title: &str, body: &str) -> Result<bool, DbError> {
        let changed = self.conn().execute(
            "UPDATE notes SET title = ?2, body = ?3 WHERE id = ?1",
            params![id, title, body],
        )?;
        Ok(changed == 1)
    }

    /// Deletes note `id`; `false` when there is no such note.
    pub fn delete_note(&self, id: i64) -> Result<bool, DbError> {
        Ok(self
            .conn()
            .execute("DELETE FROM notes WHERE id = ?1", [id])?
            == 1)
    }

    /// Every user, oldest first.
    pub fn users(&self) -> Result<Vec<User>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users ORDER BY id"))?;
        let users = stmt.query_map([], row_to_user)?.collect::<Result<_, _>>()?;
        Ok(users)
    }
}

/// The columns [`row_to_user`] reads, in its order.
const COLUMNS: &str = "id, uid, username, role, created_at, \
                       EXISTS (SELECT 1 FROM editors WHERE editors.uid = users.uid)";

fn row_to_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        uid: row.get(1)?,
        username: row.get(2)?,
        role: Role::parse(&row.get::<_, String>(3)?)?,
        created_at: row.get(4)?,
        editor: row.get(5)?,
    })
}

/// A note as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Row id, the `{id}` of `/notes/{id}`.
    pub id: i64,
    /// The owner's uid.
    pub owner: String,
    /// Plain text.
    pub title: String,
    /// Plain text.
    pub body: String,
    /// Unix seconds.
    pub created_at: i64,
}

const NOTE_COLUMNS: &str = "id, owner, title, body, created_at";

fn row_to_note(row: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    Ok(Note {
        id: row.get(0)?,
        owner: row.get(1)?,
        title: row.get(2)?,
        body: row.get(3)?,
        created_at: row.get(4)?,
    })
}

/// 128 random bits as 32 hex digits.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .expect("the operating system's random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> (Db, PathBuf) {
        let dir = std::env::temp_dir().join(format!("login-app-db-test-{}", random_id()));
        (Db::open(&dir.join("nested")).unwrap(), dir)
    }

    #[test]
    fn first_user_is_admin_later_ones_members_and_names_are_unique_in_any_case() {
        let (db, dir) = temp_db();
        let ann = db.create_user("ann", "h1").unwrap().unwrap();
        let bob = db.create_user("bob", "h2").unwrap().unwrap();
        assert_eq!((ann.role, bob.role), (Role::Admin, Role::Member));
        assert_eq!(db.create_user("ANN", "h3").unwrap(), Err(UsernameTaken));
        let (found, hash) = db.credentials("Ann").unwrap().unwrap();
        assert_eq!((found, hash.as_str()), (ann.clone(), "h1"));
        assert!(
            !db.replace_password_hash(ann.id, "h2", "h4").unwrap(),
            "not ann's hash"
        );
        assert_eq!(db.password_hash(ann.id).unwrap().as_deref(), Some("h1"));
        assert!(db.replace_password_hash(ann.id, "h1", "h4").unwrap());
        assert_eq!(db.password_hash(ann.id).unwrap().as_deref(), Some("h4"));
        assert!(
            !db.replace_password_hash(ann.id, "h1", "h5").unwrap(),
            "h1 is gone"
        );
        assert_eq!(db.password_hash(ann.id).unwrap().as_deref(), Some("h4"));
        assert_eq!(db.user(&bob.uid).unwrap().as_ref(), Some(&bob));
        assert_ne!(ann.uid, bob.uid);
        assert_eq!(ann.uid.len(), 32);
        assert!(db.user("0").unwrap().is_none());
        assert_eq!(db.users().unwrap(), vec![ann, bob]);
        assert!(db.credentials("carol").unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn grant_and_revoke_change_the_stored_role() {
        let (db, dir) = temp_db();
        let ann = db.create_user("ann", "h1").unwrap().unwrap();
        let bob = db.create_user("bob", "h2").unwrap().unwrap();
        let role = |db: &Db, uid: &str| db.user(uid).unwrap().unwrap().role;
        let granted = db.grant_admin(&bob.uid).unwrap().unwrap();
        assert_eq!(granted.role, Role::Admin);
        assert_eq!(role(&db, &bob.uid), Role::Admin);
        assert_eq!(db.grant_admin(&bob.uid).unwrap().unwrap().role, Role::Admin);
        // Two admins: either may go.
        assert_eq!(
            db.revoke_admin(&ann.uid).unwrap().unwrap().role,
            Role::Member
        );
        assert_eq!(role(&db, &ann.uid), Role::Member);
        assert_eq!(
            db.revoke_admin(&ann.uid).unwrap().unwrap().role,
            Role::Member,
            "a member stays one"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn delete_removes_the_account() {
        let (db, dir) = temp_db();
        let ann = db.create_user("ann", "h1").unwrap().unwrap();
        let bob = db.create_user("bob", "h2").unwrap().unwrap();
        assert_eq!(db.delete_user(&bob.uid).unwrap(), Ok(bob.clone()));
        assert_eq!(db.user(&bob.uid).unwrap(), None);
        assert_eq!(db.users().unwrap(), vec![ann]);
        assert!(db.credentials("bob").unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_last_admin_keeps_role_and_account_and_unknown_users_are_refused() {
        let (db, dir) = temp_db();
        let ann = db.create_user("ann", "h1").unwrap().unwrap();
        let bob = db.create_user("bob", "h2").unwrap().unwrap();
        assert_eq!(db.revoke_admin(&ann.uid).unwrap(), Err(Refusal::LastAdmin));
        assert_eq!(db.delete_user(&ann.uid).unwrap(), Err(Refusal::LastAdmin));
        assert_eq!(
            db.users().unwrap(),
            vec![ann.clone(), bob.clone()],
            "nothing changed"
        );
        for change in [Db::grant_admin, Db::revoke_admin, Db::delete_user] {
            assert_eq!(
                change(&db, "no-such-uid").unwrap(),
                Err(Refusal::NoSuchUser)
            );
        }
        // With a second admin, the first may go.
        db.grant_admin(&bob.uid).unwrap().unwrap();
        assert_eq!(db.delete_user(&ann.uid).unwrap(), Ok(ann));
        assert_eq!(db.revoke_admin(&bob.uid).unwrap(), Err(Refusal::LastAdmin));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn check_change_refuses_only_what_removes_the_last_admin() {
        use Change::*;
        let user = |role| User {
            id: 1,
            uid: "u".into(),
            username: "u".into(),
            role,
            created_at: 0,
            editor: false,
        };
        let (admin, member) = (user(Role::Admin), user(Role::Member));
        let table = [
            (&admin, 1, SetRole(Role::Member), Err(Refusal::LastAdmin)),
            (&admin, 1, Delete, Err(Refusal::LastAdmin)),
            (&admin, 1, SetRole(Role::Admin), Ok(())),
            (&admin, 2, SetRole(Role::Member), Ok(())),
            (&admin, 2, Delete, Ok(())),
            (&member, 1, Delete, Ok(())),
            (&member, 1, SetRole(Role::Admin), Ok(())),
            (&member, 1, SetRole(Role::Member), Ok(())),
        ];
        for (user, admins, change, want) in table {
            assert_eq!(
                check_change(user, admins, change),
                want,
                "{:?} {admins} {change:?}",
                user.role
            );
        }
    }

    /// Another connection (another request, or another process) is removing one of two admins
    /// and has not committed yet. A removal of the other admin must wait for that commit and then
    /// count one admin, not see two and pass: the admins are counted under the write lock.
    #[test]
    fn a_removal_counts_the_admins_after_a_concurrent_removal_commits() {
        type Remove = fn(&Db, &str) -> Result<Result<User, Refusal>, DbError>;
        let removals: [(Remove, &str); 2] = [
            (
                Db::revoke_admin,
                "UPDATE users SET role = 'member' WHERE uid = ?1",
            ),
            (Db::delete_user, "DELETE FROM users WHERE uid = ?1"),
        ];
        for (remove, concurrent) in removals {
            let (db, dir) = temp_db();
            let ann = db.create_user("ann", "h1").unwrap().unwrap();
            let bob = db.create_user("bob", "h2").unwrap().unwrap();
            db.grant_admin(&bob.uid).unwrap().unwrap();
            let other = Connection::open(db.path()).unwrap();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            other.execute(concurrent, [&bob.uid]).unwrap();
            let outcome = std::thread::scope(|s| {
                let removal = s.spawn(|| remove(&db, &ann.uid).unwrap());
                // Give the removal time to start (and, if it did not wait for the lock, to count
                // the two admins committed so far) before the other connection commits.
                std::thread::sleep(std::time::Duration::from_millis(100));
                other.execute_batch("COMMIT").unwrap();
                removal.join().unwrap()
            });
            assert_eq!(outcome, Err(Refusal::LastAdmin), "{concurrent}");
            assert_eq!(db.user(&ann.uid).unwrap().unwrap().role, Role::Admin);
            drop((db, other));
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn data_survives_reopening() {
        let (db, dir) = temp_db();
        db.create_user("ann", "h1").unwrap().unwrap();
        let path = db.path().parent().unwrap().to_owned();
        drop(db);
        let again = Db::open(&path).unwrap();
        assert_eq!(again.users().unwrap().len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
