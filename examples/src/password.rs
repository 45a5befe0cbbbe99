//! Password hashing with argon2id, stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Credential checking is the app's job, not session-core's; this is how the examples do it.
//! Hashing is slow on purpose (tens of milliseconds, 19 MiB of memory): run it through
//! [`Passwords::run`], which bounds how many hashes run at once, never directly on an async
//! worker.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread::available_parallelism,
};

use actix_web::{error::BlockingError, web};
pub use argon2::Params;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Algorithm, Argon2, Version,
};
use tokio::sync::Semaphore;

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Wrong password (or an unreadable stored hash).
    Wrong,
    /// Right password; the stored hash already uses the current parameters.
    Ok,
    /// Right password, but the stored hash is weaker than (or different from) the current
    /// parameters: store this new hash in its place.
    OkRehashed(String),
}

/// Hashes and verifies passwords with one fixed set of argon2id parameters, at most
/// [`Passwords::concurrency`] at a time. Clones share the bound and the count.
#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of a random password, verified against when the user does not exist, so that a
    /// login for an unknown name takes as long as one with a wrong password.
    dummy: String,
    /// One permit per hash that may run at once.
    turns: Arc<Semaphore>,
    concurrency: usize,
    /// Passwords verified so far (dummy verifications included).
    verified: Arc<AtomicU64>,
}

impl Default for Passwords {
    /// The OWASP-recommended argon2id parameters (argon2's defaults): m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        Self::new(Params::default())
    }
}

impl Passwords {
    /// Hashes with `params` (argon2id, version 0x13), as many at once as the machine has cores.
    pub fn new(params: Params) -> Self {
        let cores = available_parallelism().map_or(1, |n| n.get());
        let mut this = Self {
            params,
            dummy: String::new(),
            turns: Arc::new(Semaphore::new(cores)),
            concurrency: cores,
            verified: Arc::new(AtomicU64::new(0)),
        };
        this.dummy = this.hash(random_salt().as_str());
        this
    }

    /// At most `n` (at least 1) hashes at once. Default: the number of cores.
    #[must_use]
    pub fn with_concurrency(mut self, n: usize) -> Self {
        let n = n.max(1);
        self.turns = Arc::new(Semaphore::new(n));
        self.concurrency = n;
        self
    }

    /// How many hashes run at once, at most.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Runs `work` (blocking: hashing, and the database work around it) on the blocking thread
    /// pool once a turn is free. Requests beyond the bound wait here as futures of a few hundred
    /// bytes instead of each taking a thread and 19 MiB: a flood of sign-ins queues, it does
    /// not exhaust memory. The turn is held until `work` ends, even if the request is dropped.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, BlockingError> {
        // The semaphore is never closed, so `acquire_owned` always returns a permit; were it
        // closed, the work would run unbounded rather than never.
        let turn = Arc::clone(&self.turns).acquire_owned().await.ok();
        web::block(move || {
            let _turn = turn;
            work()
        })
        .await
    }

    /// How many passwords were verified so far (unknown users' dummy checks included): what a
    /// throttle should keep low under a guessing attack.
    pub fn verifications(&self) -> u64 {
        self.verified.load(Ordering::Relaxed)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A new PHC string for `password`, with a random 128-bit salt.
    pub fn hash(&self, password: &str) -> String {
        self.argon2()
            .hash_password(password.as_bytes(), &random_salt())
            .expect("argon2 accepts any password with valid parameters")
            .to_string()
    }

    /// Checks `password` against the stored PHC string; on success says whether to re-hash.
    ///
    /// The check uses the parameters written in `stored` (so old hashes still verify); only
    /// afterwards does [`Passwords::needs_rehash`] compare them with the current ones.
    pub fn verify(&self, password: &str, stored: &str) -> Verdict {
        self.verified.fetch_add(1, Ordering::Relaxed);
        let Ok(parsed) = PasswordHash::new(stored) else {
            tracing::error!("stored password hash is not a PHC string");
            return Verdict::Wrong;
        };
        if Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_err()
        {
            return Verdict::Wrong;
        }
        if self.needs_rehash(&parsed) {
            Verdict::OkRehashed(self.hash(password))
        } else {
            Verdict::Ok
        }
    }

    /// Spends the time of one verification, for a user that does not exist.
    pub fn verify_dummy(&self, password: &str) {
        let _ = self.verify(password, &self.dummy);
    }

    /// Whether `stored` was made with another algorithm, version or parameters than the current
    /// ones: weaker ones are upgraded at the next successful login.
    pub fn needs_rehash(&self, stored: &PasswordHash<'_>) -> bool {
        let current = &self.params;
        let Ok(params) = Params::try_from(stored) else {
            return true;
        };
        stored.algorithm != Algorithm::Argon2id.ident()
            || stored.version != Some(Version::V0x13.into())
            || params.m_cost() != current.m_cost()
            || params.t_cost() != current.t_cost()
            || params.p_cost() != current.p_cost()
            || stored.hash.map(|h| h.len()) != Some(current.output_len().unwrap_or(32))
    }
}

fn random_salt() -> SaltString {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("the operating system's random number generator failed");
    SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak() -> Passwords {
        Passwords::new(Params::new(1024, 1, 1, None).unwrap())
    }

    #[test]
    fn hash_is_an_argon2id_phc_string_with_the_current_parameters() {
        let hash = weak().hash("hunter22");
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
    }

    #[test]
    fn right_password_verifies_and_wrong_one_does_not() {
        let passwords = weak();
        let hash = passwords.hash("correct horse");
        assert_eq!(passwords.verify("correct horse", &hash), Verdict::Ok);
        assert_eq!(passwords.verify("correct hors", &hash), Verdict::Wrong);
        assert_eq!(
            passwords.verify("correct horse", "not a hash"),
            Verdict::Wrong
        );
    }

    #[test]
    fn weaker_hash_is_rehashed_with_the_current_parameters() {
        let old = weak().hash("pw-123456");
        let current = Passwords::new(Params::new(2048, 2, 1, None).unwrap());
        let Verdict::OkRehashed(new) = current.verify("pw-123456", &old) else {
            panic!("a weaker hash must be re-hashed");
        };
        assert!(new.starts_with("$argon2id$v=19$m=2048,t=2,p=1$"), "{new}");
        assert_eq!(current.verify("pw-123456", &new), Verdict::Ok);
        // A wrong password never yields a new hash.
        assert_eq!(current.verify("wrong", &old), Verdict::Wrong);
    }

    #[actix_web::test]
    async fn no_more_hashes_run_at_once_than_the_bound() {
        use std::sync::atomic::AtomicUsize;
        let passwords = weak().with_concurrency(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let (passwords, running, most) = (passwords.clone(), running.clone(), most.clone());
                actix_web::rt::spawn(async move {
                    let hasher = passwords.clone();
                    passwords
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            let hash = hasher.hash(&format!("password {i}"));
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                            hash
                        })
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().starts_with("$argon2id$"));
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "two at a time at most: {most}");
    }

    #[test]
    fn verifications_are_counted_dummy_ones_included() {
        let passwords = weak();
        let hash = passwords.hash("pw");
        passwords.verify("pw", &hash);
        passwords.verify("wrong", &hash);
        passwords.verify_dummy("pw");
        assert_eq!(passwords.verifications(), 3);
        assert_eq!(
            passwords.clone().verifications(),
            3,
            "clones share the count"
        );
    }

    #[test]
    fn other_algorithm_needs_rehash() {
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, weak().params.clone())
            .hash_password(b"pw", &random_salt())
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&argon2i).unwrap();
        assert!(weak().needs_rehash(&parsed));
    }
}
