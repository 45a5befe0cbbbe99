//! The user table, in an SQLite file compiled into the binary (rusqlite's `bundled` feature).
//!
//! Every method blocks: call them inside `web::block`.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
    time::{SystemTime, UNIX_EPOCH},
};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

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
);";

/// A user's role; the session carries it as a role name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The first registered user: may open `/admin`.
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
    /// Unix seconds.
    pub created_at: i64,
}

/// Registering failed because the name is in use (in any letter case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsernameTaken;

/// A database failure (I/O, corruption, a locked file): the pages answer 500.
#[derive(Debug)]
pub struct DbError(String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl std::error::Error for DbError {}

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

    /// The user with this name (any letter case) and their stored password hash.
    pub fn credentials(&self, username: &str) -> Result<Option<(User, String)>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE username = ?1"
        ))?;
        let found = stmt
            .query_row([username], |row| Ok((row_to_user(row)?, row.get(5)?)))
            .optional()?;
        Ok(found)
    }

    /// The stored password hash of user `id`.
    pub fn password_hash(&self, id: i64) -> Result<Option<String>, DbError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?;
        Ok(stmt.query_row([id], |row| row.get(0)).optional()?)
    }

    /// Replaces the password hash of user `id` (a re-hash or a password change).
    pub fn set_password_hash(&self, id: i64, password_hash: &str) -> Result<(), DbError> {
        self.conn().execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![id, password_hash],
        )?;
        Ok(())
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
const COLUMNS: &str = "id, uid, username, role, created_at";

fn row_to_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        uid: row.get(1)?,
        username: row.get(2)?,
        role: Role::parse(&row.get::<_, String>(3)?)?,
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
        db.set_password_hash(ann.id, "h4").unwrap();
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
