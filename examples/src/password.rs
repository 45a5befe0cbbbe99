//! Password hashing with argon2id, stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Credential checking is the app's job, not session-core's; this is how the examples do it.
//! Hashing is slow on purpose (tens of milliseconds, 19 MiB of memory): call these functions from
//! `web::block`, never directly on an async worker.

pub use argon2::Params;
use argon2::{
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Algorithm, Argon2, Version,
};

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

/// Hashes and verifies passwords with one fixed set of argon2id parameters.
#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of a random password, verified against when the user does not exist, so that a
    /// login for an unknown name takes as long as one with a wrong password.
    dummy: String,
}

impl Default for Passwords {
    /// The OWASP-recommended argon2id parameters (argon2's defaults): m = 19 MiB, t = 2, p = 1.
    fn default() -> Self {
        Self::new(Params::default())
    }
}

impl Passwords {
    /// Hashes with `params` (argon2id, version 0x13).
    pub fn new(params: Params) -> Self {
        let mut this = Self {
            params,
            dummy: String::new(),
        };
        this.dummy = this.hash(random_salt().as_str());
        this
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
