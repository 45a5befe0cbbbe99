//! Immediate revocation: logout, revoke_user, fail-closed / fail-open, a real Redis and a real
//! Redis Cluster, two instances.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{http::StatusCode, test::read_body_json, web, App, HttpResponse, HttpServer};
use session_core::{
    config::Revocation,
    revocation::{
        MemoryRevocations, RedisRevocations, RevocationError, RevocationMirror, Revocations,
    },
    AuthSession, StoreError,
};
use tests::{
    builder, call, clock, free_port, get,
    http::request,
    login, post,
    redis_cluster::{
        assert_connect_cluster_refuses_a_dead_address_and_a_plain_redis, RedisCluster,
    },
    redis_server::RedisServer,
    routes, session_cookie,
    stores::{revocation_stores_with_cluster, unavailable_or_pending, AnyRevocations},
    test_app, TestApp, COOKIE,
};

/// `POST /revoke-user?id=..` → `AuthSession::revoke_user`.
async fn revoke_user(
    auth: web::Data<AuthSession>,
    q: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    match auth.revoke_user(&q["id"]).await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

/// The test routes and `/revoke-user`, with `auth` as app data for it.
async fn revocation_app(auth: AuthSession) -> TestApp {
    let data = web::Data::new(auth.clone());
    test_app(auth, |cfg| {
        cfg.app_data(data);
        routes(cfg);
        cfg.route("/revoke-user", web::post().to(revoke_user));
    })
    .await
}

#[actix_web::test]
async fn logout_revokes_a_captured_copy_of_the_cookie() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in revocation_stores_with_cluster(&redis, &cluster).await {
        let c = clock();
        let app = revocation_app(builder(&c).revocations(store).build().unwrap()).await;
        let cookie = login(&app, "/login?id=alice").await;
        let captured = cookie.clone();
        assert_eq!(
            call(&app, get("/me").cookie(captured.clone()))
                .await
                .status(),
            StatusCode::OK,
            "{name}"
        );
        let res = call(&app, post("/logout").cookie(cookie.clone())).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        assert_eq!(session_cookie(&res).unwrap().value(), "", "{name}");
        assert_eq!(
            call(&app, get("/me").cookie(captured.clone()))
                .await
                .status(),
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
    }
}

#[actix_web::test]
async fn revoke_user_refuses_every_device_and_later_logins_work() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in revocation_stores_with_cluster(&redis, &cluster).await {
        let c = clock();
        let app = revocation_app(builder(&c).revocations(store).build().unwrap()).await;
        let phone = login(&app, "/login?id=alice").await;
        let laptop = login(&app, "/login?id=alice").await;
        let bob = login(&app, "/login?id=bob").await;
        assert_eq!(
            call(&app, post("/revoke-user?id=alice")).await.status(),
            StatusCode::OK,
            "{name}"
        );
        for device in [&phone, &laptop] {
            assert_eq!(
                call(&app, get("/me").cookie(device.clone())).await.status(),
                StatusCode::UNAUTHORIZED,
                "{name}"
            );
        }
        assert_eq!(
            call(&app, get("/me").cookie(bob.clone())).await.status(),
            StatusCode::OK,
            "{name}: other users unaffected"
        );
        c.advance(Duration::from_secs(1));
        let again = login(&app, "/login?id=alice").await;
        assert_eq!(
            call(&app, get("/me").cookie(again.clone())).await.status(),
            StatusCode::OK,
            "{name}: a new login works"
        );
    }
}

/// `POST /slow-login?id=..`: meets the test at the barrier twice (the credentials checked, then
/// the go-ahead) before it starts the session.
async fn slow_login(
    gate: web::Data<tokio::sync::Barrier>,
    session: session_core::Session,
    q: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, session_core::SessionError> {
    gate.wait().await;
    gate.wait().await;
    session.login(session_core::Login::new(q["id"].clone()))?;
    Ok(HttpResponse::Ok().finish())
}

/// A login whose handler runs while `revoke_user` runs (it began before the call returned) is
/// refused afterwards, like every other session of the user; a login that begins after the
/// call returned works.
#[actix_web::test]
async fn revoke_user_covers_a_login_whose_handler_ran_during_the_call() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in revocation_stores_with_cluster(&redis, &cluster).await {
        let c = clock();
        let auth = builder(&c).revocations(store).build().unwrap();
        let gate = web::Data::new(tokio::sync::Barrier::new(2));
        let app = test_app(auth.clone(), {
            let gate = gate.clone();
            move |cfg| {
                cfg.app_data(gate);
                routes(cfg);
                cfg.route("/slow-login", web::post().to(slow_login));
            }
        })
        .await;
        let in_flight = call(&app, post("/slow-login?id=alice"));
        let revoke = async {
            gate.wait().await;
            auth.revoke_user("alice").await.unwrap();
            gate.wait().await;
        };
        let (res, ()) = tokio::join!(in_flight, revoke);
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let cookie = session_cookie(&res).expect("the login sets a cookie");
        assert_eq!(
            call(&app, get("/me").cookie(cookie)).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}: the login in flight is covered"
        );
        let after = login(&app, "/login?id=alice").await;
        assert_eq!(
            call(&app, get("/me").cookie(after)).await.status(),
            StatusCode::OK,
            "{name}: a login after the call works"
        );
    }
}

#[actix_web::test]
async fn redis_keys_use_the_prefix_and_expire_by_themselves() {
    let redis = RedisServer::start();
    let store = RedisRevocations::connect(&redis.url())
        .await
        .unwrap()
        .prefix("myapp:");
    let c = clock();
    let auth = builder(&c).revocations(Arc::new(store)).build().unwrap();
    let app = revocation_app(auth.clone()).await;
    let cookie = login(&app, "/login?id=alice").await;
    let sid = auth.inspect(cookie.value()).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    call(&app, post("/logout").cookie(cookie.clone())).await;
    call(&app, post("/revoke-user?id=alice")).await;
    // The two revocations, and alice's list of sessions ("My sessions", sessions_list.rs): its
    // ended entry goes at the next listing or record, the key with the session's idle expiry.
    assert_eq!(redis.command("DBSIZE").as_deref(), Some(":3"));
    let list_ttl = redis.command("TTL myapp:list:alice").unwrap();
    let list_ttl: i64 = list_ttl.trim_start_matches(':').parse().unwrap();
    assert!(
        (7 * 86_400 - 2..=7 * 86_400).contains(&list_ttl),
        "{list_ttl}"
    );
    assert_eq!(
        redis.command("EXISTS myapp:user:alice").as_deref(),
        Some(":1")
    );
    // Both keys outlive the sessions they revoke by the clock-skew allowance, and no more.
    let skew = session_core::revocation::store::MAX_SKEW_SECS;
    for key in ["myapp:user:alice".to_owned(), format!("myapp:sid:{sid}")] {
        let ttl = redis.command(&format!("TTL {key}")).unwrap();
        let ttl: i64 = ttl.trim_start_matches(':').parse().unwrap();
        assert!(
            (30 * 86_400 + skew - 2..=30 * 86_400 + skew).contains(&ttl),
            "{key} expires after the deadline plus the skew allowance: {ttl}"
        );
    }
    assert_eq!(
        redis.command("KEYS session-core:*").as_deref(),
        Some("*0"),
        "nothing under the default prefix"
    );
}

/// Polls a memory store's call once: it is ready at once, and succeeds.
fn poll_ready(f: impl std::future::Future<Output = Result<(), StoreError>>) {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut f = std::pin::pin!(f);
    assert!(matches!(
        f.as_mut().poll(&mut cx),
        std::task::Poll::Ready(Ok(()))
    ));
}

#[test]
fn memory_store_growth_is_bounded() {
    let store = MemoryRevocations::new();
    for i in 0..100 {
        poll_ready(store.revoke_session(&format!("s{i}"), 200, 100));
    }
    assert_eq!(store.len(), 100);
    poll_ready(store.revoke_session("late", 400, 300));
    assert_eq!(store.len(), 1, "entries past their deadline are dropped");
}

/// A store that always fails, or never answers.
struct Broken {
    hang: bool,
}

impl Revocations for Broken {
    async fn revoke_session(&self, _: &str, _: i64, _: i64) -> Result<(), StoreError> {
        self.fail().await
    }
    async fn revoke_user(&self, _: &str, _: i64, _: i64) -> Result<u64, StoreError> {
        self.fail().await
    }
    async fn generation(&self, _: &str) -> Result<u64, StoreError> {
        self.fail().await
    }
    async fn is_revoked(&self, _: &str, _: &str, _: u64, _: i64) -> Result<bool, StoreError> {
        self.fail().await
    }
}

impl Broken {
    async fn fail<T>(&self) -> Result<T, StoreError> {
        unavailable_or_pending(self.hang).await
    }
}

#[actix_web::test]
async fn broken_store_fails_closed_with_503_or_open_when_configured() {
    for hang in [false, true] {
        let c = clock();
        // A cookie signed by the same key, issued without the store.
        let plain = revocation_app(builder(&c).build().unwrap()).await;
        let cookie = login(&plain, "/login?id=alice").await;
        let timeout = Duration::from_millis(50);
        let closed = revocation_app(
            builder(&c)
                .revocations(Revocation::new(Arc::new(Broken { hang })).timeout(timeout))
                .build()
                .unwrap(),
        )
        .await;
        let started = Instant::now();
        let res = call(&closed, get("/me").cookie(cookie.clone())).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "hang={hang}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "bounded by the timeout"
        );
        let body: serde_json::Value = read_body_json(res).await;
        assert_eq!(
            body,
            serde_json::json!({"error": "session_store_unavailable"})
        );
        assert_eq!(
            call(&closed, get("/public")).await.status(),
            StatusCode::OK,
            "anonymous requests need no store"
        );
        let res = call(&closed, post("/logout").cookie(cookie.clone())).await;
        assert_eq!(
            res.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "hang={hang}: the revocation check fails first"
        );
        let open = revocation_app(
            builder(&c)
                .revocations(
                    Revocation::new(Arc::new(Broken { hang }))
                        .timeout(timeout)
                        .fail_open(true),
                )
                .build()
                .unwrap(),
        )
        .await;
        assert_eq!(
            call(&open, get("/me").cookie(cookie.clone()))
                .await
                .status(),
            StatusCode::OK,
            "hang={hang}"
        );
        let res = call(&open, post("/logout").cookie(cookie.clone())).await;
        assert_eq!(res.status(), StatusCode::OK, "hang={hang}");
        assert_eq!(session_cookie(&res).unwrap().value(), "");
        assert_eq!(
            call(&open, post("/revoke-user?id=alice")).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}

/// Redis answers reads but refuses writes (`maxmemory` below what it uses, `noeviction`): a
/// logout, a renew or a login over the session cannot revoke the old session, so each answers
/// 503, keeps the cookie (nothing is set), announces no sign-out, and the session still works;
/// once Redis takes writes again the logout works and says so.
#[actix_web::test]
async fn a_logout_redis_cannot_record_is_a_503_that_keeps_the_cookie() {
    use std::sync::Mutex;

    use session_core::events::SecurityEvent;

    let redis = RedisServer::start();
    let writer = RedisRevocations::connect(&redis.url()).await.unwrap();
    let mirror = RevocationMirror::builder(
        RedisRevocations::connect(&redis.url())
            .await
            .unwrap()
            .prefix("m:"),
    )
    .clock(clock())
    .start()
    .await
    .unwrap();
    let stores: [(&str, AnyRevocations); 2] = [("redis", writer.into()), ("mirror", mirror.into())];
    for (name, store) in stores {
        let c = clock();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let auth = builder(&c)
            .revocations(store)
            .on_security_event(move |e: &SecurityEvent| sink.lock().unwrap().push(e.clone()))
            .build()
            .unwrap();
        let app = revocation_app(auth).await;
        let cookie = login(&app, "/login?id=alice").await;
        events.lock().unwrap().clear();
        assert_eq!(
            redis.command("CONFIG SET maxmemory 1").as_deref(),
            Some("+OK")
        );
        for change in ["/logout", "/renew", "/login?id=bob"] {
            let res = call(&app, post(change).cookie(cookie.clone())).await;
            assert_eq!(
                res.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{name} {change}"
            );
            assert!(
                res.headers()
                    .get(actix_web::http::header::SET_COOKIE)
                    .is_none(),
                "{name} {change}: the cookie is kept"
            );
            let body: serde_json::Value = read_body_json(res).await;
            assert_eq!(
                body["error"], "session_store_unavailable",
                "{name} {change}"
            );
            assert_eq!(
                call(&app, get("/me").cookie(cookie.clone())).await.status(),
                StatusCode::OK,
                "{name} {change}: reads still work and the session was not ended"
            );
        }
        assert_eq!(*events.lock().unwrap(), [], "{name}: no sign-out announced");
        assert_eq!(
            redis.command("CONFIG SET maxmemory 0").as_deref(),
            Some("+OK")
        );
        let res = call(&app, post("/logout").cookie(cookie.clone())).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        assert_eq!(session_cookie(&res).unwrap().value(), "", "{name}: removed");
        assert_eq!(
            *events.lock().unwrap(),
            [SecurityEvent::SignedOut {
                user: "alice".into()
            }],
            "{name}"
        );
        assert_eq!(
            call(&app, get("/me").cookie(cookie)).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
    }
}

#[actix_web::test]
async fn revoke_without_a_store_is_a_clear_error() {
    let auth = builder(&clock()).build().unwrap();
    assert_eq!(
        auth.revoke_user("alice").await,
        Err(RevocationError::NotConfigured)
    );
}

#[actix_web::test]
async fn redis_stopped_mid_run_fails_closed_then_recovers_without_restart() {
    let mut redis = RedisServer::start();
    let store = Arc::new(RedisRevocations::connect(&redis.url()).await.unwrap());
    let c = clock();
    let closed = revocation_app(builder(&c).revocations(store.clone()).build().unwrap()).await;
    let open = revocation_app(
        builder(&c)
            .revocations(Revocation::new(store).fail_open(true))
            .build()
            .unwrap(),
    )
    .await;
    let cookie = login(&closed, "/login?id=alice").await;
    assert_eq!(
        call(&closed, get("/me").cookie(cookie.clone()))
            .await
            .status(),
        StatusCode::OK
    );

    redis.stop();
    let started = Instant::now();
    assert_eq!(
        call(&closed, get("/me").cookie(cookie.clone()))
            .await
            .status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "bounded: {:?}",
        started.elapsed()
    );
    assert_eq!(
        call(&open, get("/me").cookie(cookie.clone()))
            .await
            .status(),
        StatusCode::OK,
        "fail-open passes"
    );

    redis.resume();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = call(&closed, get("/me").cookie(cookie.clone()))
            .await
            .status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery within 10 s after Redis came back: {status}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts a real server on a free 127.0.0.1 port with the test routes and a revoke route.
fn serve(auth: AuthSession) -> (SocketAddr, actix_web::dev::ServerHandle) {
    let data = web::Data::new(auth.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(auth.clone())
            .configure(routes)
            .route("/revoke-user", web::post().to(revoke_user))
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind 127.0.0.1");
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (addr, handle)
}

/// Two app instances over one store each time: the same Redis connection, then a cluster that
/// each instance reaches through a different node.
#[actix_web::test]
async fn two_instances_share_secret_and_redis() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    let single = Arc::new(RedisRevocations::connect(&redis.url()).await.unwrap());
    let prefix = format!("t{}:", free_port());
    let urls = cluster.urls();
    let (via_first, via_last) = (
        RedisRevocations::connect_cluster([&urls[0]]).await.unwrap(),
        RedisRevocations::connect_cluster([&urls[2]]).await.unwrap(),
    );
    for (name, store_a, store_b) in [
        ("redis", single.clone(), single),
        (
            "cluster",
            Arc::new(via_first.prefix(prefix.clone())),
            Arc::new(via_last.prefix(prefix)),
        ),
    ] {
        let c = clock();
        let (a, stop_a) = serve(builder(&c).revocations(store_a.clone()).build().unwrap());
        let (b, stop_b) = serve(builder(&c).revocations(store_b.clone()).build().unwrap());

        // Sign in on A, use the cookie on B.
        let login = request(a, "POST", "/login?id=alice", None).await;
        let cookie = login.cookie(COOKIE).expect("A sets the cookie");
        assert_eq!(
            request(b, "GET", "/me", Some(&cookie)).await.status,
            200,
            "{name}"
        );
        // Log out on B, refused on A.
        let logout = request(b, "POST", "/logout", Some(&cookie)).await;
        assert_eq!(logout.status, 200, "{name}");
        assert_eq!(
            request(a, "GET", "/me", Some(&cookie)).await.status,
            401,
            "{name}"
        );
        // revoke_user on A: every device refused on both.
        let phone = request(a, "POST", "/login?id=alice", None)
            .await
            .cookie(COOKIE)
            .unwrap();
        let laptop = request(b, "POST", "/login?id=alice", None)
            .await
            .cookie(COOKIE)
            .unwrap();
        assert_eq!(
            request(a, "POST", "/revoke-user?id=alice", None)
                .await
                .status,
            200,
            "{name}"
        );
        for device in [&phone, &laptop] {
            for server in [a, b] {
                assert_eq!(
                    request(server, "GET", "/me", Some(device)).await.status,
                    401,
                    "{name}"
                );
            }
        }
        // Both instances read the one generation the revocation moved.
        let generation = store_a.generation("alice").await.unwrap();
        assert!(generation > 0, "{name}");
        assert_eq!(store_b.generation("alice").await, Ok(generation), "{name}");
        assert_eq!(store_b.generation("bob").await, Ok(0), "{name}");
        stop_a.stop(true).await;
        stop_b.stop(true).await;
    }
}

/// On a cluster every key of one store lands in the slot of its prefix's hash tag, on the master
/// owning that slot: the default prefix, one wrapped in braces, one with a tag of its own.
#[actix_web::test]
async fn cluster_keys_share_one_slot_on_the_master_owning_it() {
    let cluster = RedisCluster::shared();
    let tag = free_port();
    for (prefix, keys_start) in [
        (None, "{session-core}:".to_owned()),
        (Some(format!("app{tag}:")), format!("{{app{tag}:}}")),
        (
            Some(format!("{{tenant{tag}}}:rev:")),
            format!("{{tenant{tag}}}:rev:"),
        ),
    ] {
        let store = RedisRevocations::connect_cluster(cluster.urls())
            .await
            .unwrap();
        let store = match prefix {
            Some(prefix) => store.prefix(prefix),
            None => store,
        };
        let c = clock();
        let auth = builder(&c).revocations(Arc::new(store)).build().unwrap();
        let app = revocation_app(auth.clone()).await;
        // A user id that would pick a slot of its own if the prefix had no tag.
        let user = format!("{{user{tag}}}");
        let cookie = login(&app, &format!("/login?id={user}")).await;
        let sid = auth.inspect(cookie.value()).unwrap()["sid"]
            .as_str()
            .unwrap()
            .to_owned();
        call(&app, post("/logout").cookie(cookie.clone())).await;
        let revoke = post(&format!(
            "/revoke-user?id={}",
            user.replace('{', "%7B").replace('}', "%7D")
        ));
        assert_eq!(call(&app, revoke).await.status(), StatusCode::OK);

        let mut keys: Vec<(usize, String)> = cluster
            .keys()
            .into_iter()
            .filter(|(_, key)| key.starts_with(&keys_start))
            .collect();
        keys.sort();
        let names: Vec<&str> = keys.iter().map(|(_, key)| key.as_str()).collect();
        let mut want = vec![
            format!("{keys_start}list:{user}"),
            format!("{keys_start}sid:{sid}"),
            format!("{keys_start}user:{user}"),
        ];
        want.sort();
        assert_eq!(names, want, "{keys_start}");
        let slot = cluster.keyslot(&format!("{keys_start}x"));
        for (node, key) in &keys {
            assert_eq!(cluster.keyslot(key), slot, "{key}");
            assert_eq!(*node, cluster.owner(slot), "{key} on the slot's master");
        }
    }
}

/// `connect_cluster` answers at once with an error when no node answers or the server is not
/// a cluster, instead of a store that fails on every request.
#[actix_web::test]
async fn connect_cluster_refuses_a_dead_address_and_a_plain_redis() {
    assert_connect_cluster_refuses_a_dead_address_and_a_plain_redis(async |url| {
        RedisRevocations::connect_cluster([url]).await
    })
    .await;
}

/// The master owning the store's slot crashes: requests fail closed (503) within the timeout,
/// and pass again once it is back, without restarting the app.
#[actix_web::test]
async fn cluster_master_down_fails_closed_then_recovers_without_restart() {
    let mut cluster = RedisCluster::start();
    let store = RedisRevocations::connect_cluster(cluster.urls())
        .await
        .unwrap()
        .prefix("down:");
    let c = clock();
    let app = revocation_app(builder(&c).revocations(Arc::new(store)).build().unwrap()).await;
    let cookie = login(&app, "/login?id=alice").await;
    assert_eq!(
        call(&app, get("/me").cookie(cookie.clone())).await.status(),
        StatusCode::OK
    );

    let owner = cluster.owner(cluster.keyslot("{down:}"));
    cluster.stop(owner);
    let started = Instant::now();
    assert_eq!(
        call(&app, get("/me").cookie(cookie.clone())).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "bounded: {:?}",
        started.elapsed()
    );

    cluster.resume(owner);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = call(&app, get("/me").cookie(cookie.clone())).await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery within 10 s after the master came back: {status}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two instances whose clocks differ by 5 s, over one store: a session that verified on either
/// before `revoke_user` is refused on both after it, whichever clock the call came from; a later
/// call from the slower clock never un-revokes; a login after the call works.
#[actix_web::test]
async fn revoke_user_holds_across_instances_with_skewed_clocks() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in revocation_stores_with_cluster(&redis, &cluster).await {
        let store = Arc::new(store);
        let fast = clock();
        let slow = Arc::new(session_core::clock::ManualClock::new(tests::T0 - 5));
        let a = revocation_app(builder(&fast).revocations(store.clone()).build().unwrap()).await;
        let b = revocation_app(builder(&slow).revocations(store.clone()).build().unwrap()).await;
        // Alice signs in on the fast instance; the slow one revokes, its "now" 5 s earlier than
        // the session's start.
        let on_a = login(&a, "/login?id=alice").await;
        let on_b = login(&b, "/login?id=alice").await;
        for (app, cookie) in [(&a, &on_a), (&b, &on_a), (&a, &on_b), (&b, &on_b)] {
            assert_eq!(
                call(app, get("/me").cookie(cookie.clone())).await.status(),
                StatusCode::OK,
                "{name}"
            );
        }
        slow.advance(Duration::from_secs(1));
        assert_eq!(
            call(&b, post("/revoke-user?id=alice")).await.status(),
            StatusCode::OK
        );
        for (app, cookie) in [(&a, &on_a), (&b, &on_a), (&a, &on_b), (&b, &on_b)] {
            assert_eq!(
                call(app, get("/me").cookie(cookie.clone())).await.status(),
                StatusCode::UNAUTHORIZED,
                "{name}: revoked from the slower clock"
            );
        }
        // A new session on the fast instance, revoked from there, then a call from the slow clock
        // (whose "now" is earlier still) leaves it revoked.
        let later = login(&a, "/login?id=alice").await;
        assert_eq!(
            call(&b, get("/me").cookie(later.clone())).await.status(),
            StatusCode::OK,
            "{name}"
        );
        assert_eq!(
            call(&a, post("/revoke-user?id=alice")).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            call(&b, post("/revoke-user?id=alice")).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            call(&a, get("/me").cookie(later.clone())).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}: never un-revoked"
        );
        let fresh = login(&b, "/login?id=alice").await;
        assert_eq!(
            call(&a, get("/me").cookie(fresh.clone())).await.status(),
            StatusCode::OK,
            "{name}"
        );
    }
}

/// `POST /sign-out-elsewhere` → `Session::sign_out_other_devices`.
async fn sign_out_elsewhere(session: session_core::Session) -> HttpResponse {
    match session.sign_out_other_devices().await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(RevocationError::NotSignedIn) => HttpResponse::Unauthorized().finish(),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

#[actix_web::test]
async fn sign_out_other_devices_keeps_only_the_calling_one() {
    let (redis, cluster) = (RedisServer::start(), RedisCluster::shared());
    for (name, store) in revocation_stores_with_cluster(&redis, &cluster).await {
        let c = clock();
        let auth = builder(&c).revocations(store).build().unwrap();
        let app = test_app(auth, |cfg| {
            routes(cfg);
            cfg.route("/sign-out-elsewhere", web::post().to(sign_out_elsewhere));
        })
        .await;
        let here = login(&app, "/login?id=alice").await;
        let there = login(&app, "/login?id=alice").await;
        let bob = login(&app, "/login?id=bob").await;
        let res = call(&app, post("/sign-out-elsewhere").cookie(here.clone())).await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let here_now = session_cookie(&res).expect("re-issued under the new generation");
        assert_eq!(
            call(&app, get("/me").cookie(here_now.clone()))
                .await
                .status(),
            StatusCode::OK,
            "{name}"
        );
        assert_eq!(
            call(&app, get("/me").cookie(there.clone())).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
        assert_eq!(
            call(&app, get("/me").cookie(here.clone())).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}: the old copy"
        );
        assert_eq!(
            call(&app, get("/me").cookie(bob.clone())).await.status(),
            StatusCode::OK,
            "{name}"
        );
        assert_eq!(
            call(&app, post("/sign-out-elsewhere")).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}: anonymous"
        );
    }
}

#[actix_web::test]
async fn sign_out_other_devices_changes_nothing_when_the_store_fails() {
    let c = clock();
    // Failing open, requests pass the failing store; the sign-out itself must not.
    let auth = builder(&c)
        .revocations(Revocation::new(Arc::new(Broken { hang: false })).fail_open(true))
        .build()
        .unwrap();
    let app = test_app(auth, |cfg| {
        routes(cfg);
        cfg.route("/sign-out-elsewhere", web::post().to(sign_out_elsewhere));
    })
    .await;
    let here = login(&app, "/login?id=alice").await;
    let res = call(&app, post("/sign-out-elsewhere").cookie(here.clone())).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        session_cookie(&res).is_none(),
        "nothing re-issued: the session was not moved to a generation the store never recorded"
    );
}

/// A TCP proxy on 127.0.0.1 to `upstream` that passes requests at once and holds every reply
/// for `delay`: a slow network's way back. Returns its `redis://` URL.
async fn slow_replies(upstream: String, delay: Duration) -> String {
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::{TcpListener, TcpStream},
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("redis://").to_owned();
    actix_web::rt::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = TcpStream::connect(&upstream).await.unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            actix_web::rt::spawn(async move {
                let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
            });
            actix_web::rt::spawn(async move {
                let mut buf = vec![0; 64 * 1024];
                while let Ok(n @ 1..) = server_read.read(&mut buf).await {
                    actix_web::rt::time::sleep(delay).await;
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

/// Redis's clock bounds a login's start from below only (the reply's way back counts as request
/// time), so a login begun just after a revocation is stamped with the old generation when the
/// reply is slow (a loaded machine, a far Redis) and refused at its next request. On the process
/// that revoked, its own monotonic clock says the revocation returned first: such a login keeps
/// the new generation. Another process stays on the safe side (refused), and a login begun
/// before the revocation returned is refused everywhere.
#[actix_web::test]
async fn a_login_begun_after_this_processs_revoke_user_keeps_the_new_generation() {
    let redis = RedisServer::start();
    let slow = slow_replies(redis.url(), Duration::from_millis(50)).await;
    let here = RedisRevocations::connect(&slow).await.unwrap();
    let (now, until) = (tests::T0, tests::T0 + 3600);
    let before = Instant::now();
    let generation = here.revoke_user("alice", until, now).await.unwrap();
    let began = Instant::now();
    assert_eq!(
        here.login_generation("alice", began).await.unwrap(),
        generation
    );
    assert!(here.login_generation("alice", before).await.unwrap() < generation);
    // Another process revokes (its reply fast); this one's login begins right after, its own
    // reply slow: it cannot tell, and refuses.
    let direct = RedisRevocations::connect(&redis.url()).await.unwrap();
    let generation = direct.revoke_user("alice", until, now).await.unwrap();
    let began = Instant::now();
    assert!(here.login_generation("alice", began).await.unwrap() < generation);
}
