//! What a [`ThrottleStore`](super::ThrottleStore) backend's author needs beyond the trait: the
//! counters an attempt is charged to, what a store keeps per counter, and the pure decision
//! ([`decide`]) every store runs, so every store decides alike. Apps need none of it.

pub use super::{
    counter::{normalize_account, Counter, CounterKey},
    policy::{decide, Entry, Limit, Verdict},
};
