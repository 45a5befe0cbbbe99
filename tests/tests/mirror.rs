//! The revocation mirror against real `redis-server` processes: requests answered from memory,
//! revocations from another instance refused within the bound, no revocation lost during the
//! load, a lost subscription or a stopped Redis falling back to per-request lookups (503 while
//! Redis is down), re-sync, and entries leaving at their deadline.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{cookie::Cookie, http::StatusCode};
use session_core::{
    clock::ManualClock,
    revocation::{RedisRevocations, RevocationMirror, Revocations},
    AuthSession, StoreError,
};
use tests::{
    builder, call, clock, get, login, post, redis_server::RedisServer, routes, test_app, TestApp,
};

/// A bound short enough for the tests to wait it out many times.
const BOUND: Duration = Duration::from_millis(300);

async fn store(redis: &RedisServer, prefix: &str) -> RedisRevocations {
    RedisRevocations::connect(&redis.url())
        .await
        .expect("redis is up")
        .prefix(prefix)
}

async fn mirror(redis: &RedisServer, prefix: &str, clock: &Arc<ManualClock>) -> RevocationMirror {
    RevocationMirror::builder(store(redis, prefix).await)
        .bound(BOUND)
        .clock(clock.clone())
        .start()
        .await
        .expect("the mirror syncs")
}

async fn app(store: impl Revocations, clock: &Arc<ManualClock>) -> TestApp {
    let auth: AuthSession = builder(clock).revocations(store).build().unwrap();
    test_app(auth, routes).await
}

async fn status(app: &TestApp, cookie: &Cookie<'static>) -> StatusCode {
    call(app, get("/me").cookie(cookie.clone())).await.status()
}

/// How often Redis has run `command` (from `INFO commandstats`).
fn calls(redis: &RedisServer, command: &str) -> u64 {
    let lines = redis.reply("INFO commandstats").expect("INFO answers");
    let prefix = format!("cmdstat_{command}:calls=");
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// Waits (bounded) until `cond` holds.
async fn eventually(what: &str, within: Duration, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond().await {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn requests_are_answered_from_memory_and_other_instances_revocations_arrive() {
    let redis = RedisServer::start();
    let c = clock();
    let a = mirror(&redis, "m1:", &c).await;
    let b = mirror(&redis, "m1:", &c).await;
    assert!(a.is_synced() && b.is_synced());
    let app_a = app(Arc::new(a.clone()), &c).await;
    let app_b = app(Arc::new(b.clone()), &c).await;

    let cookie = login(&app_a, "/login?id=alice").await;
    let lookups = calls(&redis, "mget");
    for _ in 0..50 {
        assert_eq!(status(&app_b, &cookie).await, StatusCode::OK);
    }
    assert_eq!(
        calls(&redis, "mget"),
        lookups,
        "no per-request lookup while in sync"
    );

    // Logout on A: refused on A at once (written through), on B within the bound.
    let logout = call(&app_a, post("/logout").cookie(cookie.clone())).await;
    assert_eq!(logout.status(), StatusCode::OK);
    assert_eq!(status(&app_a, &cookie).await, StatusCode::UNAUTHORIZED);
    let started = Instant::now();
    eventually("B refuses the logged-out cookie", BOUND, async || {
        status(&app_b, &cookie).await == StatusCode::UNAUTHORIZED
    })
    .await;
    eprintln!("propagated in {:?}", started.elapsed());
    assert_eq!(b.len(), 1);

    // revoke_user on B: every session of alice refused on A, bob untouched.
    let phone = login(&app_a, "/login?id=alice").await;
    let bob = login(&app_a, "/login?id=bob").await;
    let now = tests::T0;
    b.revoke_user("alice", now + 3600, now).await.unwrap();
    eventually("A refuses alice's phone", BOUND, async || {
        status(&app_a, &phone).await == StatusCode::UNAUTHORIZED
    })
    .await;
    assert_eq!(status(&app_a, &bob).await, StatusCode::OK);
    // A login after the revocation works on both. It signs in on B, the instance that revoked:
    // there the login is known to have begun after the call returned, however slow Redis's
    // reply; on another instance a login within one reply's way back of the call may be refused
    // (SECURITY.md, `revoke_user`).
    let again = login(&app_b, "/login?id=alice").await;
    assert_eq!(status(&app_a, &again).await, StatusCode::OK);
    assert_eq!(status(&app_b, &again).await, StatusCode::OK);
    assert_eq!(calls(&redis, "mget"), lookups);
}

#[actix_web::test]
async fn revocations_made_during_the_load_are_not_lost() {
    let redis = RedisServer::start();
    let c = clock();
    let now = tests::T0;
    let writer = store(&redis, "m2:").await;
    // Enough entries for the load to take several SCAN steps.
    for i in 0..3000 {
        writer
            .revoke_session(&format!("before-{i}"), now + 3600, now)
            .await
            .unwrap();
    }
    let during = writer.clone();
    let mirror = RevocationMirror::builder(store(&redis, "m2:").await)
        .bound(BOUND)
        .clock(c.clone())
        .before_load(move || {
            Box::pin(async move {
                for i in 0..50 {
                    during
                        .revoke_session(&format!("during-{i}"), now + 3600, now)
                        .await
                        .unwrap();
                }
                during.revoke_user("carol", now + 3600, now).await.unwrap();
            })
        })
        .start()
        .await
        .unwrap();
    assert!(mirror.is_synced());
    assert_eq!(mirror.len(), 3000 + 50 + 1);
    let lookups = calls(&redis, "mget");
    for i in [0, 1234, 2999] {
        assert!(mirror
            .is_revoked(&format!("before-{i}"), "x", 0, now)
            .await
            .unwrap());
    }
    for i in 0..50 {
        assert!(mirror
            .is_revoked(&format!("during-{i}"), "x", 0, now)
            .await
            .unwrap());
    }
    assert!(mirror.is_revoked("s", "carol", 0, now).await.unwrap());
    assert!(!mirror.is_revoked("s", "dave", 0, now).await.unwrap());
    assert_eq!(calls(&redis, "mget"), lookups, "all answered from memory");
}

#[actix_web::test]
async fn a_killed_subscription_falls_back_then_resyncs() {
    let redis = RedisServer::start();
    let c = clock();
    let b = mirror(&redis, "m3:", &c).await;
    let app_b = app(Arc::new(b.clone()), &c).await;
    let writer = store(&redis, "m3:").await;
    let app_a = app(Arc::new(writer.clone()), &c).await;
    let cookie = login(&app_a, "/login?id=alice").await;
    assert_eq!(status(&app_b, &cookie).await, StatusCode::OK);
    assert_eq!(b.loads(), 1);

    // Kill the subscription; revoke while B may still be disconnected.
    assert_eq!(
        redis.command("CLIENT KILL TYPE pubsub").as_deref(),
        Some(":1")
    );
    call(&app_a, post("/logout").cookie(cookie.clone())).await;
    // Whether B answers from Redis (fallback) or from its reloaded mirror, it refuses within the
    // bound, and never accepts again.
    let started = Instant::now();
    eventually("B refuses after the kill", BOUND, async || {
        status(&app_b, &cookie).await == StatusCode::UNAUTHORIZED
    })
    .await;
    eprintln!("refused after {:?}", started.elapsed());
    eventually("B reloads and syncs", Duration::from_secs(10), async || {
        b.loads() == 2 && b.is_synced()
    })
    .await;
    assert_eq!(status(&app_b, &cookie).await, StatusCode::UNAUTHORIZED);
    // Pushes flow again.
    let next = login(&app_a, "/login?id=bob").await;
    assert_eq!(status(&app_b, &next).await, StatusCode::OK);
    call(&app_a, post("/logout").cookie(next.clone())).await;
    eventually("B refuses bob's cookie", BOUND, async || {
        status(&app_b, &next).await == StatusCode::UNAUTHORIZED
    })
    .await;
}

#[actix_web::test]
async fn redis_down_fails_closed_then_revocations_made_after_it_returns_are_refused() {
    let mut redis = RedisServer::start();
    let c = clock();
    let b = mirror(&redis, "m4:", &c).await;
    let app_b = app(Arc::new(b.clone()), &c).await;
    let writer = store(&redis, "m4:").await;
    let app_a = app(Arc::new(writer.clone()), &c).await;
    let cookie = login(&app_a, "/login?id=alice").await;
    assert_eq!(status(&app_b, &cookie).await, StatusCode::OK);
    let me = call(&app_a, get("/me").cookie(cookie.clone())).await;
    let sid = actix_web::test::read_body_json::<serde_json::Value, _>(me).await["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = tests::T0;

    redis.stop();
    eventually("B falls back", BOUND, async || !b.is_synced()).await;
    assert_eq!(
        status(&app_b, &cookie).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "fail closed while Redis cannot answer"
    );

    redis.resume();
    // Revoke as soon as Redis takes writes again (B may not have reconnected yet).
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Err(e) = writer.revoke_session(&sid, now + 3600, now).await {
        assert!(Instant::now() < deadline, "Redis did not come back: {e}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    // The revocation is in Redis now: from `BOUND` later on, B never accepts the cookie again
    // (503 while B's connection recovers, 401 after). Before that it may, if B's last heartbeat
    // predates the revocation and the announcement is still on its way.
    actix_web::rt::time::sleep(BOUND).await;
    eventually("B recovers", Duration::from_secs(10), async || {
        let s = status(&app_b, &cookie).await;
        assert_ne!(
            s,
            StatusCode::OK,
            "a revoked cookie was accepted after the bound"
        );
        s == StatusCode::UNAUTHORIZED && b.is_synced()
    })
    .await;
    assert_eq!(status(&app_b, &cookie).await, StatusCode::UNAUTHORIZED);
}

/// Redis restarts without persistence and loses every revocation. The mirror never forgets:
/// what it had seen stays refused while Redis is down, while it re-syncs and after, and a new
/// login of a revoked user still works (its generation is the larger of Redis's and the
/// mirror's).
#[actix_web::test]
async fn a_mirror_still_refuses_what_redis_lost_in_a_restart_without_persistence() {
    let mut redis = RedisServer::start();
    let c = clock();
    let b = mirror(&redis, "m7:", &c).await;
    let app_b = app(Arc::new(b.clone()), &c).await;
    let writer = store(&redis, "m7:").await;
    let app_a = app(Arc::new(writer.clone()), &c).await;
    let alice = login(&app_a, "/login?id=alice").await;
    let logout = call(&app_a, post("/logout").cookie(alice.clone())).await;
    assert_eq!(logout.status(), StatusCode::OK);
    let bob = login(&app_a, "/login?id=bob").await;
    let now = tests::T0;
    writer.revoke_user("bob", now + 3600, now).await.unwrap();
    eventually("B refuses both", BOUND, async || {
        status(&app_b, &alice).await == StatusCode::UNAUTHORIZED
            && status(&app_b, &bob).await == StatusCode::UNAUTHORIZED
    })
    .await;

    redis.stop();
    eventually("B falls back", BOUND, async || !b.is_synced()).await;
    for cookie in [&alice, &bob] {
        assert_eq!(
            status(&app_b, cookie).await,
            StatusCode::UNAUTHORIZED,
            "refused from the mirror's own table, not 503"
        );
    }
    redis.resume();
    assert_eq!(
        redis.command("DBSIZE").as_deref(),
        Some(":0"),
        "Redis lost it all"
    );
    eventually("B re-syncs", Duration::from_secs(10), async || {
        for cookie in [&alice, &bob] {
            let s = status(&app_b, cookie).await;
            assert_eq!(
                s,
                StatusCode::UNAUTHORIZED,
                "a revocation Redis lost was accepted"
            );
        }
        b.is_synced()
    })
    .await;
    assert_eq!(status(&app_b, &alice).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&app_b, &bob).await, StatusCode::UNAUTHORIZED);
    // The store's own connection may answer its first command after the restart with an
    // error (503) while it reconnects.
    let mut signed_in = None;
    eventually(
        "B's store reconnects",
        Duration::from_secs(10),
        async || {
            let res = call(&app_b, post("/login?id=bob")).await;
            signed_in = tests::session_cookie(&res);
            res.status() == StatusCode::OK
        },
    )
    .await;
    let again = signed_in.expect("the login sets the session cookie");
    assert_eq!(
        status(&app_b, &again).await,
        StatusCode::OK,
        "a new login is not refused by the generation Redis forgot"
    );
}

#[actix_web::test]
async fn nothing_revoked_is_accepted_after_the_bound_while_subscriptions_are_killed() {
    let redis = RedisServer::start();
    let c = clock();
    let b = mirror(&redis, "m5:", &c).await;
    let app_b = app(Arc::new(b.clone()), &c).await;
    let writer = store(&redis, "m5:").await;
    let app_a = app(Arc::new(writer), &c).await;
    for round in 0..30 {
        let cookie = login(&app_a, &format!("/login?id=u{round}")).await;
        if round % 3 == 0 {
            redis.command("CLIENT KILL TYPE pubsub");
        }
        call(&app_a, post("/logout").cookie(cookie.clone())).await;
        if round % 3 == 1 {
            redis.command("CLIENT KILL TYPE pubsub");
        }
        actix_web::rt::time::sleep(BOUND).await;
        let s = status(&app_b, &cookie).await;
        // 401 (refused) or 503 (fallback while reconnecting): never 200.
        assert_ne!(s, StatusCode::OK, "round {round}: accepted after the bound");
    }
    eventually("B syncs at the end", Duration::from_secs(10), async || {
        b.is_synced()
    })
    .await;
    assert!(b.loads() > 1, "the subscription was really lost");
}

#[actix_web::test]
async fn entries_leave_the_mirror_at_their_deadline() {
    let redis = RedisServer::start();
    let c = clock();
    let m = mirror(&redis, "m6:", &c).await;
    let now = tests::T0;
    let other = store(&redis, "m6:").await;
    for i in 0..100 {
        other
            .revoke_session(&format!("s{i}"), now + 10, now)
            .await
            .unwrap();
    }
    other.revoke_user("alice", now + 10, now).await.unwrap();
    eventually("pushed", BOUND, async || m.len() == 101).await;
    // Past the deadline and the skew allowance, every shard is purged within 16 heartbeats.
    c.set(now + 10 + session_core::revocation::store::MAX_SKEW_SECS);
    eventually("purged", Duration::from_secs(5), async || m.is_empty()).await;
}

#[actix_web::test]
async fn a_mirror_needs_a_store_made_from_a_url() {
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).unwrap();
    let manager = client.get_connection_manager().await.unwrap();
    let err = RevocationMirror::start(RedisRevocations::from_manager(manager))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Unavailable(m) if m.contains("RedisRevocations::connect")),
        "{err}"
    );
}

#[actix_web::test]
async fn a_mirror_follows_the_master_owning_the_stores_slot_in_a_cluster() {
    let cluster = tests::redis_cluster::RedisCluster::start();
    let c = clock();
    let prefix = "{mirror-test}:";
    let cluster_store = async || {
        RedisRevocations::connect_cluster(cluster.urls())
            .await
            .expect("the cluster is up")
            .prefix(prefix)
    };
    let start = async |store: RedisRevocations| {
        RevocationMirror::builder(store)
            .bound(BOUND)
            .clock(c.clone())
            .start()
            .await
            .expect("the mirror syncs on the cluster")
    };
    let a = start(cluster_store().await).await;
    let b = start(cluster_store().await).await;
    let app_a = app(Arc::new(a.clone()), &c).await;
    let app_b = app(Arc::new(b.clone()), &c).await;
    let cookie = login(&app_a, "/login?id=alice").await;
    assert_eq!(status(&app_b, &cookie).await, StatusCode::OK);
    call(&app_a, post("/logout").cookie(cookie.clone())).await;
    eventually("B refuses over the cluster", BOUND, async || {
        status(&app_b, &cookie).await == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(b.is_synced());

    // The subscription lives on the slot's master: kill it there, B falls back and resyncs.
    let owner = cluster.owner(cluster.keyslot(&format!("{prefix}slot")));
    assert_eq!(
        cluster.command(owner, "CLIENT KILL TYPE pubsub").as_deref(),
        Some(":2"),
        "both mirrors subscribe on the owner"
    );
    let next = login(&app_a, "/login?id=bob").await;
    call(&app_a, post("/logout").cookie(next.clone())).await;
    eventually("B refuses after the kill", BOUND, async || {
        status(&app_b, &next).await == StatusCode::UNAUTHORIZED
    })
    .await;
    eventually("B resyncs", Duration::from_secs(10), async || {
        b.loads() == 2 && b.is_synced()
    })
    .await;
    assert_eq!(b.len(), 2);
}
