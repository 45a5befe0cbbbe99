//! "My sessions": a user lists their active sessions and ends any one of them, over the memory
//! store and a real Redis. Three clients (each its own User-Agent and address) sign in as the
//! same user; what ends a session (ending it from another, logout, revoke_user,
//! sign_out_other_devices, expiry, a credential change) takes it off the list; another user's
//! session cannot be ended; the store is asked only when a cookie is issued.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_web::{http::StatusCode, web, HttpResponse};
use serde_json::Value;
use session_core::{
    clock::{Clock as _, ManualClock},
    config::Revocation,
    revocation::{
        store::{SessionRecord, MAX_LISTED_SESSIONS},
        MemoryRevocations, RedisRevocations, RevocationError, Revocations,
    },
    AuthSession, Login, Session, StoreError,
};
use tests::{
    builder, clock,
    live::{Account, Directory},
    redis_server::RedisServer,
    routes,
    stores::revocation_stores,
    test_app, Client, TestApp, T0,
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const CURL: &str = "curl/8.8.0";

/// The answer for a `RevocationError`: what an app would map it to.
fn refused(e: &RevocationError) -> HttpResponse {
    let status = match e {
        RevocationError::NotSignedIn => StatusCode::UNAUTHORIZED,
        RevocationError::UnknownSession => StatusCode::NOT_FOUND,
        RevocationError::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        RevocationError::Store(StoreError::Unsupported) => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    HttpResponse::build(status).body(e.to_string())
}

/// `GET /sessions` → `Session::sessions` as JSON.
async fn list(session: Session) -> HttpResponse {
    match session.sessions().await {
        Ok(sessions) => HttpResponse::Ok().json(sessions),
        Err(e) => refused(&e),
    }
}

/// `POST /sessions/end?sid=..` → `Session::end_session`.
async fn end(session: Session, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    match session.end_session(&q["sid"]).await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(e) => refused(&e),
    }
}

/// `GET /admin/sessions?id=..` → `AuthSession::sessions`.
async fn admin_list(
    auth: web::Data<AuthSession>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    match auth.sessions(&q["id"]).await {
        Ok(sessions) => HttpResponse::Ok().json(sessions),
        Err(e) => refused(&e),
    }
}

/// `POST /revoke-user?id=..` → `AuthSession::revoke_user`.
async fn revoke_user(
    auth: web::Data<AuthSession>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    match auth.revoke_user(&q["id"]).await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(e) => refused(&e),
    }
}

/// `POST /sign-out-elsewhere` → `Session::sign_out_other_devices`.
async fn sign_out_elsewhere(session: Session) -> HttpResponse {
    match session.sign_out_other_devices().await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(e) => refused(&e),
    }
}

/// The harness routes plus the list, end, admin and revocation routes.
async fn app(auth: AuthSession) -> TestApp {
    let data = web::Data::new(auth.clone());
    test_app(auth, |cfg| {
        cfg.app_data(data);
        routes(cfg);
        cfg.route("/sessions", web::get().to(list))
            .route("/sessions/end", web::post().to(end))
            .route("/admin/sessions", web::get().to(admin_list))
            .route("/revoke-user", web::post().to(revoke_user))
            .route("/sign-out-elsewhere", web::post().to(sign_out_elsewhere));
    })
    .await
}

/// Three devices of one user: a laptop, a phone and a script, each with its own address.
fn devices(app: &TestApp) -> [Client<'_>; 3] {
    [
        Client::new(app).user_agent(FIREFOX).from_ip("192.0.2.10"),
        Client::new(app).user_agent(IPHONE).from_ip("198.51.100.20"),
        Client::new(app).user_agent(CURL).from_ip("2001:db8::30"),
    ]
}

/// Signs every device in as `user`.
async fn sign_in_all(clients: &mut [Client<'_>], user: &str) {
    for client in clients.iter_mut() {
        let reply = client.post(&format!("/login?id={user}")).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
}

/// The sessions `client` lists (its session must be signed in).
async fn listed(client: &mut Client<'_>) -> Vec<Value> {
    let reply = client.get("/sessions").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json().as_array().expect("a JSON array").clone()
}

/// The ids of the listed sessions.
fn ids(sessions: &[Value]) -> Vec<String> {
    let mut ids: Vec<_> = sessions
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The session id `client` holds.
async fn sid(client: &mut Client<'_>) -> String {
    client.get("/me").await.json()["sid"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn three_devices_are_listed_with_their_device_address_and_the_current_one_marked() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut clients = devices(&app);
        sign_in_all(&mut clients, "alice").await;
        let want = [
            ("Firefox on Linux", "192.0.2.10"),
            ("Safari on iPhone", "198.51.100.20"),
            ("curl", "2001:db8::30"),
        ];
        for (i, client) in clients.iter_mut().enumerate() {
            let mine = sid(client).await;
            let sessions = listed(client).await;
            assert_eq!(sessions.len(), 3, "{name}: {sessions:?}");
            let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
            assert_eq!(current.len(), 1, "{name}: exactly one current");
            assert_eq!(current[0]["id"], mine.as_str(), "{name}");
            assert_eq!(current[0]["device"], want[i].0, "{name}");
            assert_eq!(current[0]["address"], want[i].1, "{name}");
            assert_eq!(current[0]["started"], T0, "{name}");
            assert_eq!(current[0]["refreshed"], T0, "{name}");
            assert_eq!(current[0]["expires"], T0 + 7 * 86_400, "{name}");
        }
        let mut bob = Client::new(&app);
        bob.post("/login?id=bob").await;
        assert_eq!(listed(&mut bob).await.len(), 1, "{name}: per user");
    }
}

#[actix_web::test]
async fn ending_a_session_from_another_signs_it_out_at_once_and_unlists_it() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut clients = devices(&app);
        sign_in_all(&mut clients, "alice").await;
        let [laptop, phone, script] = &mut clients;
        let lost = sid(phone).await;
        let stolen_copy = phone.clone();
        let reply = laptop.post(&format!("/sessions/end?sid={lost}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);
        assert!(
            reply.set_cookie.is_none(),
            "{name}: the laptop stays as it is"
        );
        for mut ended in [phone.clone(), stolen_copy] {
            let me = ended.get("/me").await;
            assert_eq!(
                me.status,
                StatusCode::UNAUTHORIZED,
                "{name}: anonymous at once"
            );
        }
        let left = ids(&listed(laptop).await);
        assert_eq!(left.len(), 2, "{name}");
        assert!(!left.contains(&lost), "{name}: gone from the list");
        assert_eq!(ids(&listed(script).await), left, "{name}: on every device");
        assert_eq!(laptop.get("/me").await.status, StatusCode::OK, "{name}");
        // Ending it again: it is no longer an active session of hers.
        let again = laptop.post(&format!("/sessions/end?sid={lost}")).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{name}");
    }
}

#[actix_web::test]
async fn ending_the_current_session_is_a_logout() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut clients = devices(&app);
        sign_in_all(&mut clients, "alice").await;
        let [laptop, phone, _] = &mut clients;
        let mine = sid(laptop).await;
        let copy = laptop.clone();
        let reply = laptop.post(&format!("/sessions/end?sid={mine}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        assert_eq!(
            reply.set_cookie.as_ref().map(|c| c.value().to_owned()),
            Some(String::new()),
            "{name}: the cookie is removed"
        );
        assert!(laptop.cookie.is_none(), "{name}");
        let mut copy = copy;
        assert_eq!(
            copy.get("/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
        assert!(!ids(&listed(phone).await).contains(&mine), "{name}");
    }
}

#[actix_web::test]
async fn another_users_session_cannot_be_ended() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut alice = Client::new(&app);
        alice.post("/login?id=alice").await;
        let mut bob = Client::new(&app);
        bob.post("/login?id=bob").await;
        let bobs = sid(&mut bob).await;
        let reply = alice.post(&format!("/sessions/end?sid={bobs}")).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{name}: {}",
            reply.body
        );
        assert_eq!(
            bob.get("/me").await.status,
            StatusCode::OK,
            "{name}: untouched"
        );
        assert_eq!(ids(&listed(&mut bob).await), [bobs], "{name}");
        let made_up = alice.post("/sessions/end?sid=no-such-session").await;
        assert_eq!(made_up.status, StatusCode::NOT_FOUND, "{name}");
        assert_eq!(alice.get("/me").await.status, StatusCode::OK, "{name}");
    }
}

#[actix_web::test]
async fn logout_unlists_the_session() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut clients = devices(&app);
        sign_in_all(&mut clients, "alice").await;
        let [laptop, phone, _] = &mut clients;
        let gone = sid(phone).await;
        assert_eq!(phone.post("/logout").await.status, StatusCode::OK);
        let left = ids(&listed(laptop).await);
        assert_eq!(left.len(), 2, "{name}");
        assert!(!left.contains(&gone), "{name}");
    }
}

#[actix_web::test]
async fn revoke_user_unlists_every_session_and_later_logins_are_listed() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let auth = builder(&c).revocations(store).build().unwrap();
        let app = app(auth).await;
        let mut clients = devices(&app);
        sign_in_all(&mut clients, "alice").await;
        let mut admin = Client::new(&app);
        let all = admin.get("/admin/sessions?id=alice").await.json();
        assert_eq!(all.as_array().unwrap().len(), 3, "{name}");
        assert!(
            all.as_array()
                .unwrap()
                .iter()
                .all(|s| s["current"] == false),
            "{name}: the admin's view marks none"
        );
        assert_eq!(
            admin.post("/revoke-user?id=alice").await.status,
            StatusCode::OK
        );
        let none = admin.get("/admin/sessions?id=alice").await.json();
        assert_eq!(none, serde_json::json!([]), "{name}");
        c.advance(Duration::from_secs(1));
        let [laptop, ..] = &mut clients;
        laptop.post("/login?id=alice").await;
        let sessions = listed(laptop).await;
        assert_eq!(sessions.len(), 1, "{name}: {sessions:?}");
        assert_eq!(sessions[0]["current"], true, "{name}");
    }
}

#[actix_web::test]
async fn sign_out_other_devices_leaves_only_the_calling_one() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut clients = devices(&app);
        sign_in_all(&mut clients, "alice").await;
        let [laptop, phone, _] = &mut clients;
        let mine = sid(laptop).await;
        let reply = laptop.post("/sign-out-elsewhere").await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        let sessions = listed(laptop).await;
        assert_eq!(
            ids(&sessions),
            [mine],
            "{name}: re-listed under the new generation"
        );
        assert_eq!(sessions[0]["current"], true, "{name}");
        assert_eq!(phone.get("/me").await.status, StatusCode::UNAUTHORIZED);
    }
}

#[actix_web::test]
async fn expired_sessions_are_not_listed() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let auth = builder(&c)
            .revocations(store)
            .lifetime(|l| {
                l.max_age(Duration::from_secs(3600))
                    .absolute_timeout(Duration::from_secs(3 * 3600))
            })
            .build()
            .unwrap();
        let app = app(auth).await;
        let mut clients = devices(&app);
        sign_in_all(&mut clients, "alice").await;
        let [laptop, phone, script] = &mut clients;
        // Idle expiry: the phone is left alone for an hour, the others keep refreshing.
        for _ in 0..4 {
            c.advance(Duration::from_secs(55 * 60 / 4));
            laptop.get("/me").await;
            script.get("/me").await;
        }
        c.advance(Duration::from_secs(6 * 60));
        assert_eq!(phone.get("/me").await.status, StatusCode::UNAUTHORIZED);
        let left = listed(laptop).await;
        assert_eq!(left.len(), 2, "{name}: the idle phone is gone: {left:?}");
        // Absolute timeout: refreshing never gets past three hours after sign-in.
        let mut last = Vec::new();
        while c.now() < T0 + 3 * 3600 - 600 {
            c.advance(Duration::from_secs(600));
            assert_eq!(laptop.get("/me").await.status, StatusCode::OK, "{name}");
            assert_eq!(script.get("/me").await.status, StatusCode::OK, "{name}");
            last = listed(laptop).await;
        }
        assert_eq!(last.len(), 2, "{name}");
        c.advance(Duration::from_secs(600));
        assert_eq!(laptop.get("/me").await.status, StatusCode::UNAUTHORIZED);
        let mut fresh = Client::new(&app);
        fresh.post("/login?id=alice").await;
        let sessions = listed(&mut fresh).await;
        assert_eq!(
            sessions.len(),
            1,
            "{name}: only the new sign-in: {sessions:?}"
        );
    }
}

#[actix_web::test]
async fn a_refresh_moves_last_refreshed_and_keeps_where_the_session_signed_in() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut laptop = Client::new(&app).user_agent(FIREFOX).from_ip("192.0.2.10");
        laptop.post("/login?id=alice").await;
        // Six days later (inside the refresh window), from another network and browser string.
        c.advance(Duration::from_secs(6 * 86_400));
        let mut moved = laptop.clone().user_agent(CURL).from_ip("203.0.113.5");
        let reply = moved.get("/me").await;
        assert!(reply.set_cookie.is_some(), "{name}: refreshed");
        let sessions = listed(&mut moved).await;
        assert_eq!(sessions.len(), 1, "{name}");
        let s = &sessions[0];
        assert_eq!(s["started"], T0, "{name}");
        assert_eq!(s["refreshed"], T0 + 6 * 86_400, "{name}");
        assert_eq!(s["expires"], T0 + 13 * 86_400, "{name}");
        assert_eq!(
            s["device"], "Firefox on Linux",
            "{name}: the sign-in's device"
        );
        assert_eq!(s["address"], "192.0.2.10", "{name}: the sign-in's address");
    }
}

/// A store around another that counts the list calls and can be made to fail them.
struct Spy {
    inner: MemoryRevocations,
    /// Whether it keeps lists at all (else it answers as the trait's defaults do).
    lists: bool,
    fail_records: AtomicBool,
    records: AtomicUsize,
    listings: AtomicUsize,
    forgets: AtomicUsize,
}

impl Spy {
    fn new(lists: bool) -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryRevocations::new(),
            lists,
            fail_records: AtomicBool::new(false),
            records: AtomicUsize::new(0),
            listings: AtomicUsize::new(0),
            forgets: AtomicUsize::new(0),
        })
    }

    /// (records, listings, forgets) so far.
    fn calls(&self) -> (usize, usize, usize) {
        (
            self.records.load(Ordering::SeqCst),
            self.listings.load(Ordering::SeqCst),
            self.forgets.load(Ordering::SeqCst),
        )
    }
}

impl Revocations for Spy {
    async fn revoke_session(&self, sid: &str, until: i64, now: i64) -> Result<(), StoreError> {
        self.inner.revoke_session(sid, until, now).await
    }
    async fn revoke_user(&self, user: &str, until: i64, now: i64) -> Result<u64, StoreError> {
        self.inner.revoke_user(user, until, now).await
    }
    async fn generation(&self, user: &str) -> Result<u64, StoreError> {
        self.inner.generation(user).await
    }
    async fn is_revoked(
        &self,
        sid: &str,
        user: &str,
        generation: u64,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.inner.is_revoked(sid, user, generation, now).await
    }
    async fn record_session(
        &self,
        user: &str,
        session: &SessionRecord,
        now: i64,
    ) -> Result<(), StoreError> {
        self.records.fetch_add(1, Ordering::SeqCst);
        if !self.lists {
            return Err(StoreError::Unsupported);
        }
        if self.fail_records.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("down".into()));
        }
        self.inner.record_session(user, session, now).await
    }
    async fn sessions(&self, user: &str, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        self.listings.fetch_add(1, Ordering::SeqCst);
        if !self.lists {
            return Err(StoreError::Unsupported);
        }
        self.inner.sessions(user, now).await
    }
    async fn forget_session(&self, user: &str, sid: &str) -> Result<(), StoreError> {
        self.forgets.fetch_add(1, Ordering::SeqCst);
        self.inner.forget_session(user, sid).await
    }
}

#[actix_web::test]
async fn the_list_costs_nothing_on_ordinary_requests() {
    let spy = Spy::new(true);
    let c = clock();
    let app = app(builder(&c).revocations(spy.clone()).build().unwrap()).await;
    let mut clients = devices(&app);
    sign_in_all(&mut clients, "alice").await;
    assert_eq!(spy.calls(), (3, 0, 0), "one record per login");
    for client in clients.iter_mut() {
        for _ in 0..10 {
            assert_eq!(client.get("/me").await.status, StatusCode::OK);
            client.get("/public").await;
        }
    }
    assert_eq!(spy.calls(), (3, 0, 0), "ordinary requests: no list call");
    // A rolling refresh re-issues the cookie: one record each.
    c.advance(Duration::from_secs(6 * 86_400));
    for client in clients.iter_mut() {
        assert!(client.get("/me").await.set_cookie.is_some());
        client.get("/me").await;
    }
    assert_eq!(spy.calls(), (6, 0, 0), "one record per refresh");
    let [laptop, phone, _] = &mut clients;
    listed(laptop).await;
    assert_eq!(spy.calls(), (6, 1, 0), "listing asks once");
    let gone = sid(phone).await;
    laptop.post(&format!("/sessions/end?sid={gone}")).await;
    assert_eq!(spy.calls(), (6, 2, 1), "ending: one listing, one forget");
}

#[actix_web::test]
async fn a_session_the_list_cannot_record_is_not_issued_when_failing_closed() {
    let spy = Spy::new(true);
    let c = clock();
    let app = app(builder(&c).revocations(spy.clone()).build().unwrap()).await;
    let mut laptop = Client::new(&app);
    laptop.post("/login?id=alice").await;
    spy.fail_records.store(true, Ordering::SeqCst);
    // A login: 503, no session.
    let mut phone = Client::new(&app);
    let reply = phone.post("/login?id=alice").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(phone.cookie.is_none(), "no session was started");
    // A change of a listed session: 503, the old cookie is kept as it is.
    let before = laptop.cookie.clone();
    let reply = laptop.post("/data?k=theme&v=dark").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.set_cookie.is_none());
    assert_eq!(laptop.cookie, before);
    // A refresh: the answer stands, the cookie is simply not re-issued.
    c.advance(Duration::from_secs(6 * 86_400));
    let reply = laptop.get("/me").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.set_cookie.is_none(), "not refreshed while unlisted");
    let sessions = listed(&mut laptop).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        sessions[0]["refreshed"], T0,
        "the entry still matches the cookie"
    );
    // Back up: the next request refreshes it.
    spy.fail_records.store(false, Ordering::SeqCst);
    assert!(laptop.get("/me").await.set_cookie.is_some());
}

#[actix_web::test]
async fn failing_open_a_session_the_list_cannot_record_is_issued_anyway() {
    let spy = Spy::new(true);
    spy.fail_records.store(true, Ordering::SeqCst);
    let c = clock();
    let auth = builder(&c)
        .revocations(Revocation::new(spy.clone()).fail_open(true))
        .build()
        .unwrap();
    let app = app(auth).await;
    let mut laptop = Client::new(&app);
    assert_eq!(laptop.post("/login?id=alice").await.status, StatusCode::OK);
    assert_eq!(laptop.get("/me").await.status, StatusCode::OK);
    assert_eq!(listed(&mut laptop).await, Vec::<Value>::new(), "unlisted");
}

#[actix_web::test]
async fn a_store_without_lists_still_signs_in_and_says_it_cannot_list() {
    let spy = Spy::new(false);
    let c = clock();
    let app = app(builder(&c).revocations(spy.clone()).build().unwrap()).await;
    let mut laptop = Client::new(&app);
    assert_eq!(laptop.post("/login?id=alice").await.status, StatusCode::OK);
    assert_eq!(laptop.get("/me").await.status, StatusCode::OK);
    let reply = laptop.get("/sessions").await;
    assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED, "{}", reply.body);
    let reply = laptop.post("/sessions/end?sid=x").await;
    assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED);
}

#[actix_web::test]
async fn listing_needs_a_signed_in_user_and_a_store() {
    let c = clock();
    let app = app(builder(&c).revocations(Spy::new(true)).build().unwrap()).await;
    let mut anonymous = Client::new(&app);
    assert_eq!(
        anonymous.get("/sessions").await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = anonymous.post("/sessions/end?sid=x").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let no_store = app_without_store(&c).await;
    let mut alice = Client::new(&no_store);
    alice.post("/login?id=alice").await;
    let reply = alice.get("/sessions").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        reply.body.contains("no revocation store configured"),
        "{}",
        reply.body
    );
    let reply = alice.post("/sessions/end?sid=x").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        alice.get("/me").await.status,
        StatusCode::OK,
        "nothing ended"
    );
    let auth = builder(&c).build().unwrap();
    assert_eq!(
        auth.sessions("alice").await,
        Err(RevocationError::NotConfigured)
    );
}

async fn app_without_store(c: &Arc<ManualClock>) -> TestApp {
    app(builder(c).build().unwrap()).await
}

#[actix_web::test]
async fn a_user_keeps_at_most_the_most_recent_sixty_four() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let app = app(builder(&c).revocations(store).build().unwrap()).await;
        let mut first = Client::new(&app);
        first.post("/login?id=alice").await;
        let mut last = Client::new(&app);
        for _ in 0..MAX_LISTED_SESSIONS + 5 {
            c.advance(Duration::from_secs(1));
            last = Client::new(&app);
            last.post("/login?id=alice").await;
        }
        let sessions = listed(&mut last).await;
        assert_eq!(sessions.len(), MAX_LISTED_SESSIONS, "{name}");
        let oldest = sessions
            .iter()
            .map(|s| s["started"].as_i64().unwrap())
            .min();
        assert_eq!(
            oldest,
            Some(T0 + 6),
            "{name}: the oldest sign-ins went first"
        );
        assert_eq!(
            first.get("/me").await.status,
            StatusCode::OK,
            "{name}: still valid"
        );
    }
}

#[actix_web::test]
async fn redis_keeps_one_hash_per_user_under_the_prefix_expiring_with_its_sessions() {
    let redis = RedisServer::start();
    let store = RedisRevocations::connect(&redis.url())
        .await
        .unwrap()
        .prefix("myapp:");
    let c = clock();
    let app = app(builder(&c).revocations(Arc::new(store)).build().unwrap()).await;
    let mut clients = devices(&app);
    sign_in_all(&mut clients, "alice").await;
    let [laptop, ..] = &mut clients;
    let mine = sid(laptop).await;
    assert_eq!(redis.command("DBSIZE").as_deref(), Some(":1"), "one key");
    assert_eq!(
        redis.command("HLEN myapp:list:alice").as_deref(),
        Some(":6")
    );
    assert_eq!(
        redis
            .command(&format!("HEXISTS myapp:list:alice o:{mine}"))
            .as_deref(),
        Some(":1")
    );
    let ttl = redis.command("TTL myapp:list:alice").unwrap();
    let ttl: i64 = ttl.trim_start_matches(':').parse().unwrap();
    assert!(
        (7 * 86_400 - 2..=7 * 86_400).contains(&ttl),
        "the sessions' expiry: {ttl}"
    );
    // Ending one drops its two fields at once.
    let [laptop, phone, _] = &mut clients;
    let gone = sid(phone).await;
    laptop.post(&format!("/sessions/end?sid={gone}")).await;
    assert_eq!(
        redis.command("HLEN myapp:list:alice").as_deref(),
        Some(":4")
    );
}

/// `POST /login-live?id=..` → `Session::login(Login::user(..))` over the directory.
async fn login_live(
    session: Session,
    dir: web::Data<Arc<Directory>>,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let account = dir.get(&q["id"]).expect("a known account");
    session.login(Login::user(&account)).unwrap();
    HttpResponse::Ok().finish()
}

#[actix_web::test]
async fn with_a_user_store_sessions_of_old_credentials_are_not_listed() {
    let redis = RedisServer::start();
    for (name, store) in revocation_stores(&redis).await {
        let c = clock();
        let dir = Arc::new(Directory::new([Account::new("alice", &[])]));
        let auth = builder(&c)
            .revocations(store)
            .users(Arc::clone(&dir))
            .build()
            .unwrap();
        let data = web::Data::new(auth.clone());
        let dir_data = web::Data::new(Arc::clone(&dir));
        let app = test_app(auth, |cfg| {
            cfg.app_data(data).app_data(dir_data);
            routes(cfg);
            cfg.route("/login-live", web::post().to(login_live))
                .route("/sessions", web::get().to(list))
                .route("/admin/sessions", web::get().to(admin_list));
        })
        .await;
        let mut clients = devices(&app);
        for client in clients.iter_mut() {
            client.post("/login-live?id=alice").await;
        }
        let [laptop, phone, _] = &mut clients;
        assert_eq!(listed(laptop).await.len(), 3, "{name}");
        // The password changes; the phone signs in again with it.
        dir.update("alice", |a| a.password_hash = "h2".into());
        phone.post("/login-live?id=alice").await;
        let sessions = listed(phone).await;
        assert_eq!(
            sessions.len(),
            1,
            "{name}: only the new sign-in: {sessions:?}"
        );
        assert_eq!(sessions[0]["current"], true, "{name}");
        let mut admin = Client::new(&app);
        let all = admin.get("/admin/sessions?id=alice").await.json();
        assert_eq!(all.as_array().unwrap().len(), 1, "{name}: {all}");
        dir.delete("alice");
        let none = admin.get("/admin/sessions?id=alice").await.json();
        assert_eq!(
            none,
            serde_json::json!([]),
            "{name}: a deleted user has none"
        );
    }
}
