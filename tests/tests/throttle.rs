//! The login throttle (`session_core::throttle`): one behaviour matrix run against the memory
//! store, a real Redis and a real Redis Cluster, on a manual clock; the HTTP answers; faults and timeouts; the memory
//! store's bound.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{
    http::{header, StatusCode},
    test::{self, TestRequest},
    web, App, HttpRequest, HttpResponse,
};
use session_core::{
    clock::ManualClock,
    throttle::{
        store::{Counter, CounterKey, Verdict},
        MemoryThrottleStore, RedisThrottleStore, Throttle, ThrottleBuilder, ThrottleError,
        ThrottleErrorKind, ThrottleStore,
    },
    StoreError,
};
use tests::{
    clock, key,
    redis_cluster::{
        assert_connect_cluster_refuses_a_dead_address_and_a_plain_redis, RedisCluster,
    },
    redis_server::RedisServer,
    stores::{unavailable_or_pending, AnyThrottleStore},
};

const MINUTE: Duration = Duration::from_secs(60);

/// 3 failures per account and 10 per address per minute; locks of 10 s doubling to 60 s.
fn builder(c: &Arc<ManualClock>, store: impl ThrottleStore) -> ThrottleBuilder {
    Throttle::builder(&key(7))
        .per_account(3, MINUTE)
        .per_address(10, MINUTE)
        .lockout(Duration::from_secs(10), MINUTE)
        .store(store)
        .clock(c.clone())
}

fn throttle(c: &Arc<ManualClock>, store: impl ThrottleStore) -> Throttle {
    builder(c, store).build().expect("test settings are valid")
}

/// The stores every behaviour test runs against: memory, a real Redis and a real Redis
/// Cluster, each Redis under a prefix of its own.
async fn stores(
    redis: &RedisServer,
    cluster: &RedisCluster,
) -> Vec<(&'static str, AnyThrottleStore)> {
    let store = RedisThrottleStore::connect(&redis.url())
        .await
        .expect("redis is up");
    let on_cluster = RedisThrottleStore::connect_cluster(cluster.urls())
        .await
        .expect("the redis cluster is up");
    vec![
        ("memory", MemoryThrottleStore::new().into()),
        (
            "redis",
            store.prefix(format!("t{}:", tests::free_port())).into(),
        ),
        (
            "cluster",
            on_cluster
                .prefix(format!("t{}:", tests::free_port()))
                .into(),
        ),
    ]
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().expect("a test address"))
}

/// One attempt of `account` from `address`: `Ok(())` when let through (and counted as a
/// failure), else the wait in seconds.
async fn fail(t: &Throttle, account: &str, address: &str) -> Result<(), u64> {
    match t.check_client(Some(account), ip(address)).await {
        Ok(attempt) => {
            attempt.failed();
            Ok(())
        }
        Err(e) => {
            assert_eq!(e.kind(), ThrottleErrorKind::TooManyAttempts, "{e}");
            Err(e.retry_after().as_secs())
        }
    }
}

/// A successful attempt of `account` from `address`.
async fn succeed(t: &Throttle, account: &str, address: &str) -> Result<(), u64> {
    match t.check_client(Some(account), ip(address)).await {
        Ok(attempt) => {
            attempt.succeeded().await;
            Ok(())
        }
        Err(e) => Err(e.retry_after().as_secs()),
    }
}

const HOME: &str = "198.51.100.1";
const AWAY: &str = "203.0.113.77";

#[actix_web::test]
async fn an_account_takes_max_failures_then_waits_for_its_lock() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for _ in 0..3 {
            assert_eq!(fail(&t, "alice", HOME).await, Ok(()), "{name}");
        }
        assert_eq!(fail(&t, "alice", HOME).await, Err(10), "{name}");
        c.advance(Duration::from_secs(4));
        assert_eq!(fail(&t, "alice", AWAY).await, Err(6), "{name}: any address");
        c.advance(Duration::from_secs(6));
        assert_eq!(fail(&t, "alice", HOME).await, Ok(()), "{name}: lock over");
    }
}

#[actix_web::test]
async fn locks_double_while_the_failures_go_on_up_to_the_maximum() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for want in [10, 20, 40, 60, 60] {
            for _ in 0..3 {
                assert_eq!(fail(&t, "alice", HOME).await, Ok(()), "{name}");
            }
            assert_eq!(fail(&t, "alice", HOME).await, Err(want), "{name}");
            c.advance(Duration::from_secs(want));
        }
    }
}

#[actix_web::test]
async fn strikes_are_forgotten_after_a_quiet_period() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for _ in 0..3 {
            fail(&t, "alice", HOME).await.unwrap();
        }
        assert_eq!(fail(&t, "alice", HOME).await, Err(10), "{name}");
        // The lock (10 s) plus the longest lock (60 s) without a failure: forgotten.
        c.advance(Duration::from_secs(70));
        for _ in 0..3 {
            fail(&t, "alice", HOME).await.unwrap();
        }
        assert_eq!(
            fail(&t, "alice", HOME).await,
            Err(10),
            "{name}: back to the first"
        );
    }
}

#[actix_web::test]
async fn failures_spread_over_windows_are_counted_per_window() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for _ in 0..3 {
            fail(&t, "alice", HOME).await.unwrap();
        }
        c.advance(MINUTE);
        for _ in 0..3 {
            assert_eq!(
                fail(&t, "alice", HOME).await,
                Ok(()),
                "{name}: a new window"
            );
        }
        assert_eq!(fail(&t, "alice", HOME).await, Err(10), "{name}");
    }
}

#[actix_web::test]
async fn a_success_resets_the_account_and_gives_the_address_its_attempt_back() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for _ in 0..2 {
            fail(&t, "alice", HOME).await.unwrap();
        }
        assert_eq!(succeed(&t, "alice", HOME).await, Ok(()), "{name}");
        for _ in 0..3 {
            assert_eq!(fail(&t, "alice", HOME).await, Ok(()), "{name}: reset");
        }
        assert_eq!(fail(&t, "alice", HOME).await, Err(10), "{name}");
        // HOME has 5 failures (2 + 3); the success was refunded. 5 more reach its limit of 10.
        for i in 0..5 {
            let other = format!("user{i}");
            assert_eq!(fail(&t, &other, HOME).await, Ok(()), "{name} {other}");
        }
        assert_eq!(fail(&t, "bob", HOME).await, Err(10), "{name}: address full");
    }
}

/// A sign-in charged near the end of a window succeeds only after the next window opened and
/// filled: its refund belongs to the old window, so the new one stays full.
#[actix_web::test]
async fn a_success_refunds_the_window_it_was_charged_in_not_the_one_open_when_reported() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        fail(&t, "opener", HOME).await.unwrap();
        c.advance(Duration::from_secs(50));
        let slow = t.check_client(Some("alice"), ip(HOME)).await.unwrap();
        c.advance(Duration::from_secs(15));
        // The next window of HOME: 10 failures (over accounts of 2 each) fill it.
        for i in 0..10 {
            let other = format!("user{}", i / 2);
            assert_eq!(fail(&t, &other, HOME).await, Ok(()), "{name} {other}");
        }
        slow.succeeded().await;
        assert_eq!(
            fail(&t, "bob", HOME).await,
            Err(10),
            "{name}: the late success bought no attempt in the new window"
        );
    }
}

#[actix_web::test]
async fn the_address_limit_spans_accounts_and_spares_other_addresses() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for i in 0..10 {
            assert_eq!(fail(&t, &format!("user{i}"), HOME).await, Ok(()), "{name}");
        }
        assert_eq!(fail(&t, "user10", HOME).await, Err(10), "{name}");
        assert_eq!(
            succeed(&t, "carol", HOME).await,
            Err(10),
            "{name}: even a right password"
        );
        assert_eq!(fail(&t, "user10", AWAY).await, Ok(()), "{name}");
        assert_eq!(succeed(&t, "carol", AWAY).await, Ok(()), "{name}");
    }
}

#[actix_web::test]
async fn a_locked_account_does_not_affect_another_account_from_another_address() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for _ in 0..3 {
            fail(&t, "alice", HOME).await.unwrap();
        }
        assert_eq!(fail(&t, "alice", HOME).await, Err(10), "{name}");
        assert_eq!(succeed(&t, "bob", AWAY).await, Ok(()), "{name}");
        for _ in 0..3 {
            assert_eq!(fail(&t, "bob", AWAY).await, Ok(()), "{name}");
        }
    }
}

#[actix_web::test]
async fn refused_attempts_are_not_charged_to_the_address() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for _ in 0..3 {
            fail(&t, "alice", HOME).await.unwrap();
        }
        for _ in 0..100 {
            assert!(fail(&t, "alice", HOME).await.is_err(), "{name}");
        }
        // 3 charged so far: 7 more for other accounts.
        for i in 0..7 {
            assert_eq!(fail(&t, &format!("user{i}"), HOME).await, Ok(()), "{name}");
        }
        assert_eq!(fail(&t, "user7", HOME).await, Err(10), "{name}");
    }
}

#[actix_web::test]
async fn names_differing_in_case_or_spacing_share_a_counter_known_or_not() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for variant in ["Alice", " alice", "ALICE\t"] {
            assert_eq!(fail(&t, variant, HOME).await, Ok(()), "{name}");
        }
        assert_eq!(fail(&t, "alice", HOME).await, Err(10), "{name}");
        // The throttle has no idea which accounts exist: a name nobody has gets the same answers.
        for _ in 0..3 {
            assert_eq!(
                fail(&t, "nobody-has-this-name", AWAY).await,
                Ok(()),
                "{name}"
            );
        }
        assert_eq!(
            fail(&t, "nobody-has-this-name", AWAY).await,
            Err(10),
            "{name}"
        );
    }
}

#[actix_web::test]
async fn concurrent_attempts_never_pass_a_full_counter() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let t = t.clone();
                actix_web::rt::spawn(async move { fail(&t, "alice", HOME).await.is_ok() })
            })
            .collect();
        let mut passed = 0;
        for task in tasks {
            passed += usize::from(task.await.unwrap());
        }
        assert_eq!(passed, 3, "{name}: charged before the password check");
    }
}

#[actix_web::test]
async fn an_attempt_naming_no_account_counts_against_the_address_only() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in stores(&redis, &cluster).await {
        let c = clock();
        let t = throttle(&c, store);
        for _ in 0..10 {
            t.check_client(None, ip(HOME)).await.unwrap().failed();
        }
        let refused = t.check_client(None, ip(HOME)).await.unwrap_err();
        assert_eq!(refused.retry_after(), Duration::from_secs(10), "{name}");
        assert!(t.check_client(None, ip(AWAY)).await.is_ok(), "{name}");
        assert!(t.check_client(None, None).await.is_ok(), "{name}: unknown");
    }
}

// ---- Redis specifics ----------------------------------------------------------------------------

/// Every key of the Redis server under `pattern`, with its TTL in seconds.
async fn redis_keys(redis: &RedisServer, pattern: &str) -> Vec<(String, i64)> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let ttl: i64 = redis::cmd("TTL")
            .arg(&k)
            .query_async(&mut conn)
            .await
            .unwrap();
        out.push((k, ttl));
    }
    out
}

#[actix_web::test]
async fn redis_holds_keyed_hashes_that_expire_by_themselves() {
    let redis = RedisServer::start();
    let store = RedisThrottleStore::connect(&redis.url()).await.unwrap();
    let c = clock();
    let t = throttle(&c, Arc::new(store.prefix("app:throttle:")));
    fail(&t, "Alice", HOME).await.unwrap();
    let keys = redis_keys(&redis, "*").await;
    assert_eq!(keys.len(), 2, "one account and one address: {keys:?}");
    for (k, ttl) in &keys {
        let hash = k.strip_prefix("app:throttle:").expect("under the prefix");
        assert_eq!(hash.len(), 32, "{k}");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{k}");
        assert!(
            !k.to_lowercase().contains("alice") && !k.contains("198.51"),
            "{k}"
        );
        assert!(
            (1..=60).contains(ttl),
            "{k}: expires with its window, {ttl}"
        );
    }
    for _ in 0..2 {
        fail(&t, "alice", HOME).await.unwrap();
    }
    fail(&t, "alice", HOME).await.unwrap_err();
    let account_ttl = redis_keys(&redis, "*")
        .await
        .iter()
        .map(|(_, ttl)| *ttl)
        .max()
        .unwrap();
    assert!(
        (61..=70).contains(&account_ttl),
        "the lock (10 s) and the memory of it (60 s): {account_ttl}"
    );
}

#[actix_web::test]
async fn redis_stopped_fails_closed_or_open_then_recovers_without_restart() {
    let mut redis = RedisServer::start();
    let store = Arc::new(RedisThrottleStore::connect(&redis.url()).await.unwrap());
    let c = clock();
    let closed = throttle(&c, store.clone());
    let open = builder(&c, store).fail_open(true).build().unwrap();
    assert!(closed.check_client(Some("alice"), ip(HOME)).await.is_ok());

    redis.stop();
    let started = Instant::now();
    let refused = closed
        .check_client(Some("alice"), ip(HOME))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ThrottleErrorKind::Unavailable);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "bounded: {:?}",
        started.elapsed()
    );
    let through = open.check_client(Some("alice"), ip(HOME)).await;
    assert!(through.is_ok(), "fail-open lets the attempt through");
    through.unwrap().succeeded().await;

    redis.resume();
    let deadline = Instant::now() + Duration::from_secs(10);
    while closed.check_client(Some("alice"), ip(HOME)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "no recovery within 10 s after Redis came back"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_redis_that_does_not_answer_in_time_is_a_timeout() {
    let redis = RedisServer::start();
    let store = Arc::new(RedisThrottleStore::connect(&redis.url()).await.unwrap());
    let c = clock();
    let t = builder(&c, store)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    // Holds every client's commands for a second (the reply comes at once).
    assert_eq!(redis.command("CLIENT PAUSE 1000").as_deref(), Some("+OK"));
    let started = Instant::now();
    let refused = t.check_client(Some("alice"), ip(HOME)).await.unwrap_err();
    assert_eq!(refused.kind(), ThrottleErrorKind::Unavailable);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "the timeout, not the pause: {:?}",
        started.elapsed()
    );
}

// ---- Redis Cluster specifics --------------------------------------------------------------------

/// On a cluster both counters of an attempt (and so every counter of one throttle) live in the
/// slot of the prefix's hash tag, on the master owning it; still keyed hashes, never the name.
#[actix_web::test]
async fn cluster_counters_of_a_throttle_share_one_slot() {
    let cluster = RedisCluster::shared();
    let tag = tests::free_port();
    let store = RedisThrottleStore::connect_cluster(cluster.urls())
        .await
        .unwrap()
        .prefix(format!("app{tag}:throttle:"));
    let c = clock();
    let t = throttle(&c, Arc::new(store));
    fail(&t, "Alice", HOME).await.unwrap();
    fail(&t, "bob", AWAY).await.unwrap();
    let prefix = format!("{{app{tag}:throttle:}}");
    let keys: Vec<(usize, String)> = cluster
        .keys()
        .into_iter()
        .filter(|(_, key)| key.starts_with(&prefix))
        .collect();
    assert_eq!(keys.len(), 4, "two accounts, two addresses: {keys:?}");
    let slot = cluster.keyslot(&prefix);
    for (node, key) in &keys {
        let hash = &key[prefix.len()..];
        assert_eq!(hash.len(), 32, "{key}");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
        assert_eq!(cluster.keyslot(key), slot, "{key}");
        assert_eq!(*node, cluster.owner(slot), "{key} on the slot's master");
    }
}

/// Two app instances, each reaching the cluster through a different node, share the counts and
/// the locks.
#[actix_web::test]
async fn two_instances_share_counts_and_locks_over_the_cluster() {
    let cluster = RedisCluster::shared();
    let urls = cluster.urls();
    let prefix = format!("shared{}:", tests::free_port());
    let mut instances = Vec::new();
    for url in [&urls[0], &urls[2]] {
        let store = RedisThrottleStore::connect_cluster([url])
            .await
            .unwrap()
            .prefix(prefix.clone());
        instances.push(throttle(&clock(), Arc::new(store)));
    }
    let (a, b) = (&instances[0], &instances[1]);
    assert_eq!(fail(a, "alice", HOME).await, Ok(()));
    assert_eq!(fail(b, "alice", AWAY).await, Ok(()));
    assert_eq!(fail(a, "alice", AWAY).await, Ok(()));
    assert_eq!(
        fail(b, "alice", HOME).await,
        Err(10),
        "the third failure was A's"
    );
    assert_eq!(fail(a, "alice", HOME).await, Err(10), "B's lock holds on A");
    assert_eq!(
        fail(a, "bob", HOME).await,
        Ok(()),
        "other accounts unaffected"
    );
}

/// `connect_cluster` answers at once with an error when no node answers or the server is not
/// a cluster.
#[actix_web::test]
async fn connect_cluster_refuses_a_dead_address_and_a_plain_redis() {
    assert_connect_cluster_refuses_a_dead_address_and_a_plain_redis(async |url| {
        RedisThrottleStore::connect_cluster([url]).await
    })
    .await;
}

// ---- the memory store's bound -------------------------------------------------------------------

#[actix_web::test]
async fn a_flood_of_distinct_names_stays_within_the_memory_cap_and_keeps_locks() {
    let c = clock();
    let store = Arc::new(MemoryThrottleStore::new());
    let t = throttle(&c, store.clone());
    for _ in 0..3 {
        fail(&t, "victim", HOME).await.unwrap();
    }
    assert_eq!(fail(&t, "victim", HOME).await, Err(10));
    for i in 0..100_000u32 {
        // Each from an address of its own, so the address limit does not stop the flood.
        let address = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
        let name = format!("flood{i}");
        t.check_client(Some(&name), Some(address))
            .await
            .unwrap()
            .failed();
        assert!(
            store.len() <= MemoryThrottleStore::DEFAULT_CAPACITY,
            "{i}: {}",
            store.len()
        );
    }
    assert_eq!(store.len(), MemoryThrottleStore::DEFAULT_CAPACITY);
    assert_eq!(
        fail(&t, "victim", AWAY).await,
        Err(10),
        "the lock survived the flood"
    );
}

/// A memory store full of running locks refuses a new counter (the throttle's store fault:
/// 503 by default) rather than evict one of them; once a lock ended, its counter may go, and
/// with it its strikes: the exact bound SECURITY.md states.
#[actix_web::test]
async fn a_full_memory_store_never_evicts_a_running_lock() {
    let c = clock();
    let store = Arc::new(MemoryThrottleStore::with_capacity(4));
    let t = builder(&c, store.clone())
        .without_per_address()
        .build()
        .unwrap();
    let locked = ["a", "b", "c", "d"];
    for (i, account) in locked.into_iter().enumerate() {
        for _ in 0..3 {
            fail(&t, account, HOME).await.unwrap();
        }
        assert_eq!(fail(&t, account, HOME).await, Err(10), "{account}");
        if i < 3 {
            c.advance(Duration::from_secs(1));
        }
    }
    assert_eq!(store.len(), 4);
    let refused = t
        .check_client(Some("newcomer"), ip(HOME))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ThrottleErrorKind::Unavailable);
    for (i, account) in locked.into_iter().enumerate() {
        let left = 10 - 3 + u64::try_from(i).unwrap();
        assert_eq!(
            fail(&t, account, AWAY).await,
            Err(left),
            "{account} still locked"
        );
    }
    let open = builder(&c, store.clone())
        .without_per_address()
        .fail_open(true)
        .build()
        .unwrap();
    assert!(open.check_client(Some("newcomer"), ip(HOME)).await.is_ok());
    assert_eq!(
        fail(&t, "a", AWAY).await,
        Err(7),
        "failing open evicts nothing either"
    );
    // a's lock ends first: its counter is the one a newcomer may take, strikes and all.
    c.advance(Duration::from_secs(7));
    assert_eq!(fail(&t, "newcomer", HOME).await, Ok(()));
    assert_eq!(fail(&t, "b", AWAY).await, Err(1), "b's lock still runs");
    for _ in 0..3 {
        fail(&t, "a", HOME)
            .await
            .unwrap_or_else(|wait| panic!("a was evicted: {wait}"));
    }
    assert_eq!(
        fail(&t, "a", HOME).await,
        Err(10),
        "evicted after its lock: its next lock is a first one again, not 20 s"
    );
}

#[test]
fn a_small_memory_store_still_takes_both_counters_of_an_attempt() {
    let store = MemoryThrottleStore::with_capacity(0);
    assert_eq!(store.capacity(), 2);
}

// ---- faults --------------------------------------------------------------------------------------

/// A store that fails, or never answers; with `attempts`, only success reports do.
struct Broken {
    hang: bool,
    attempts: Option<MemoryThrottleStore>,
}

impl Broken {
    fn new(hang: bool) -> Self {
        Self {
            hang,
            attempts: None,
        }
    }
}

impl Broken {
    async fn fail<T>(&self) -> Result<T, StoreError> {
        unavailable_or_pending(self.hang).await
    }
}

impl ThrottleStore for Broken {
    async fn attempt(&self, counters: &[Counter], now: i64) -> Result<Verdict, StoreError> {
        match &self.attempts {
            Some(store) => store.attempt(counters, now).await,
            None => self.fail().await,
        }
    }

    async fn succeeded(
        &self,
        _: &[CounterKey],
        _: &[Counter],
        _: i64,
        _: i64,
    ) -> Result<(), StoreError> {
        self.fail().await
    }
}

// ---- over HTTP -----------------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct Who {
    user: String,
    #[serde(default)]
    right: bool,
}

/// `POST /login?user=..&right=true`: throttled, then a success or a failure.
async fn login(
    req: HttpRequest,
    throttle: web::Data<Throttle>,
    who: web::Query<Who>,
) -> Result<HttpResponse, ThrottleError> {
    let attempt = throttle.check(&req, &who.user).await?;
    if who.right {
        attempt.succeeded().await;
        Ok(HttpResponse::Ok().finish())
    } else {
        attempt.failed();
        Ok(HttpResponse::Unauthorized().finish())
    }
}

/// `POST /register`: throttled per address.
async fn register(
    req: HttpRequest,
    throttle: web::Data<Throttle>,
) -> Result<HttpResponse, ThrottleError> {
    throttle.check_address(&req).await?.failed();
    Ok(HttpResponse::Created().finish())
}

macro_rules! app {
    ($throttle:expr) => {
        test::init_service(
            App::new()
                .app_data(web::Data::new($throttle))
                .route("/login", web::post().to(login))
                .route("/register", web::post().to(register)),
        )
        .await
    };
}

fn peer(address: &str) -> SocketAddr {
    SocketAddr::new(address.parse().unwrap(), 40_000)
}

fn post(uri: &str, from: &str) -> TestRequest {
    TestRequest::post().uri(uri).peer_addr(peer(from))
}

#[actix_web::test]
async fn refusals_are_429_with_retry_after_as_json_or_a_page() {
    let c = clock();
    let app = app!(throttle(&c, Arc::new(MemoryThrottleStore::new())));
    for _ in 0..3 {
        let res = test::call_service(&app, post("/login?user=alice", HOME).to_request()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = test::call_service(&app, post("/login?user=alice", HOME).to_request()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "10");
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    let body: serde_json::Value = test::read_body_json(res).await;
    assert_eq!(
        body,
        serde_json::json!({"error": "too_many_attempts", "retry_after": 10})
    );
    c.advance(Duration::from_secs(3));
    let page = post("/login?user=alice", HOME).insert_header((header::ACCEPT, "text/html"));
    let res = test::call_service(&app, page.to_request()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "7");
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(body.contains("Please wait 7 seconds"), "{body}");
}

#[actix_web::test]
async fn a_broken_store_fails_closed_with_503_or_open_when_configured() {
    for hang in [false, true] {
        let c = clock();
        let closed = builder(&c, Arc::new(Broken::new(hang)))
            .timeout(Duration::from_millis(50))
            .build()
            .unwrap();
        let app = app!(closed);
        let started = Instant::now();
        let res = test::call_service(&app, post("/login?user=alice", HOME).to_request()).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "hang={hang}");
        assert!(started.elapsed() < Duration::from_secs(2), "bounded");
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body, serde_json::json!({"error": "throttle_unavailable"}));
        let res = test::call_service(&app, post("/register", HOME).to_request()).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "hang={hang}");

        let open = builder(&c, Arc::new(Broken::new(hang)))
            .timeout(Duration::from_millis(50))
            .fail_open(true)
            .build()
            .unwrap();
        let app = app!(open);
        let res = test::call_service(
            &app,
            post("/login?user=alice&right=true", HOME).to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "hang={hang}: let through");
    }
}

#[actix_web::test]
async fn a_success_the_store_cannot_record_still_signs_in() {
    for hang in [false, true] {
        let c = clock();
        let store = Broken {
            hang,
            attempts: Some(MemoryThrottleStore::new()),
        };
        let t = builder(&c, Arc::new(store))
            .timeout(Duration::from_millis(50))
            .build()
            .unwrap();
        let app = app!(t);
        let started = Instant::now();
        let right = post("/login?user=alice&right=true", HOME).to_request();
        assert_eq!(
            test::call_service(&app, right).await.status(),
            StatusCode::OK
        );
        assert!(started.elapsed() < Duration::from_secs(2), "bounded");
    }
}

#[actix_web::test]
async fn forwarded_headers_are_ignored_unless_a_trusted_proxy_is_configured() {
    let c = clock();
    let app = app!(throttle(&c, Arc::new(MemoryThrottleStore::new())));
    // A client that makes up a new X-Forwarded-For per request is still one address.
    for i in 0..10 {
        let req = post("/register", HOME).insert_header(("x-forwarded-for", format!("10.0.0.{i}")));
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let req = post("/register", HOME).insert_header(("x-forwarded-for", "10.9.9.9"));
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Behind one trusted proxy (the peer), the rightmost entry is the client.
    let proxied = builder(&c, Arc::new(MemoryThrottleStore::new()))
        .trusted_proxy_header("X-Forwarded-For", 1)
        .build()
        .unwrap();
    let app = app!(proxied);
    let from = |client: &str| {
        post("/register", "10.1.1.1")
            .insert_header(("x-forwarded-for", format!("6.6.6.6, {client}")))
            .to_request()
    };
    for _ in 0..10 {
        let res = test::call_service(&app, from(HOME)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    assert_eq!(
        test::call_service(&app, from(HOME)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        test::call_service(&app, from(AWAY)).await.status(),
        StatusCode::CREATED,
        "another client behind the same proxy"
    );
}
