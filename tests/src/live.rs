//! A user store over an in-memory directory, for the live-user tests: it counts its loads, can
//! be made to fail or hang, and can answer at once ([`UserStore::load_now`]) or only through
//! `load`.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use session_core::{User, UserStore};

/// A user record as an app would keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The session's user id.
    pub id: String,
    /// Current roles.
    pub roles: Vec<String>,
    /// Stands in for a password hash: the credential fingerprint.
    pub password_hash: String,
}

impl Account {
    /// `id` with `roles` and password hash `h1`.
    pub fn new(id: &str, roles: &[&str]) -> Self {
        Self {
            id: id.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            password_hash: "h1".to_owned(),
        }
    }
}

impl User for Account {
    fn id(&self) -> &str {
        &self.id
    }
    fn roles(&self) -> &[String] {
        &self.roles
    }
    fn fingerprint(&self) -> Option<&[u8]> {
        Some(self.password_hash.as_bytes())
    }
}

/// How the directory answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Answers from its map.
    Up,
    /// Every load fails with an error.
    Failing,
    /// Every load waits an hour.
    Hanging,
}

/// The users, a load counter and a health switch.
#[derive(Debug)]
pub struct Directory {
    users: Mutex<HashMap<String, Account>>,
    loads: AtomicUsize,
    health: Mutex<Health>,
    at_once: AtomicBool,
    answered_at_once: AtomicUsize,
}

impl Directory {
    /// A directory holding `accounts`.
    pub fn new(accounts: impl IntoIterator<Item = Account>) -> Self {
        let users = accounts.into_iter().map(|a| (a.id.clone(), a)).collect();
        Self {
            users: Mutex::new(users),
            loads: AtomicUsize::new(0),
            health: Mutex::new(Health::Up),
            at_once: AtomicBool::new(false),
            answered_at_once: AtomicUsize::new(0),
        }
    }

    /// Whether loads are answered at once ([`UserStore::load_now`], except while hanging) or
    /// only through `load` (the default).
    pub fn answer_at_once(&self, at_once: bool) {
        self.at_once.store(at_once, Ordering::SeqCst);
    }

    /// The account `id`, read directly (not a counted load).
    pub fn get(&self, id: &str) -> Option<Account> {
        self.users.lock().unwrap().get(id).cloned()
    }

    /// Changes account `id` in place.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Account)) -> Account {
        let mut users = self.users.lock().unwrap();
        let account = users.get_mut(id).expect("known account");
        change(account);
        account.clone()
    }

    /// Deletes account `id`.
    pub fn delete(&self, id: &str) {
        self.users.lock().unwrap().remove(id);
    }

    /// How many loads the store answered or attempted.
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }

    /// How many of the loads were answered at once.
    pub fn answered_at_once(&self) -> usize {
        self.answered_at_once.load(Ordering::SeqCst)
    }

    /// Switches how loads answer.
    pub fn set_health(&self, health: Health) {
        *self.health.lock().unwrap() = health;
    }
}

/// What a failing directory answers.
const DB_DOWN: &str = "connection refused (db down)";

impl UserStore for Directory {
    type User = Account;
    type Error = String;

    async fn load(&self, id: &str) -> Result<Option<Account>, String> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let health = *self.health.lock().unwrap();
        match health {
            Health::Up => Ok(self.get(id)),
            Health::Failing => Err(DB_DOWN.to_owned()),
            Health::Hanging => {
                actix_web::rt::time::sleep(Duration::from_secs(3600)).await;
                Ok(self.get(id))
            }
        }
    }

    /// The same answers as `load` when answering at once; a hanging directory has to wait.
    fn load_now(&self, id: &str) -> Option<Result<Option<Arc<Account>>, String>> {
        let health = *self.health.lock().unwrap();
        if !self.at_once.load(Ordering::SeqCst) || health == Health::Hanging {
            return None;
        }
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.answered_at_once.fetch_add(1, Ordering::SeqCst);
        Some(match health {
            Health::Failing => Err(DB_DOWN.to_owned()),
            _ => Ok(self.get(id).map(Arc::new)),
        })
    }
}
