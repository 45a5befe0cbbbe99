//! Heap allocations session-core adds to a memo-hit `core` request (signed cookie seen before,
//! `#[login_required]`, the handler reads `AuthUser`), over the same request to a bare handler,
//! both sent through the real middleware stack (`actix_web::test::init_service` /
//! `call_service`) on this thread.
//!
//! The counting global allocator comes from `allocation-counter` (per-thread counters): the
//! workspace forbids `unsafe`, which a `GlobalAlloc` implementation needs, and `forbid` cannot be
//! lifted in one test file. This binary holds one test so nothing else allocates meanwhile on
//! its thread; other threads are not counted.

use actix_web::{
    dev::{Service, ServiceResponse},
    get,
    test::{self, TestRequest},
    App, Responder,
};
use session_core::{prelude::*, test_util::signed_in_cookie};

/// What session-core adds per memo-hit `core` request; the target is 0. A change that
/// adds an allocation on the fast path fails here: remove it, or raise this with the reason.
///
/// The request state is reused from a per-worker pool (`state::StatePool`), attached as a data
/// container rather than in the extension map, whose table actix-web allocates for every request.
const ADDED_BY_SESSION_CORE: i64 = 0;

#[get("/hello")]
async fn bare_hello() -> impl Responder {
    // Built at run time like `core_hello`'s: a literal argument is folded into the format string,
    // and that `String`'s exact capacity saves the body an allocation the other handler pays.
    format!("hello {}", std::hint::black_box("bench"))
}

#[get("/hello")]
#[login_required]
async fn core_hello(user: AuthUser) -> impl Responder {
    format!("hello {}", user.id())
}

/// Allocations of one request to `app` (built before counting, the same for both apps): the
/// minimum over `ROUNDS` requests, so a one-off (a map growing, a lazy init) does not count.
fn allocations_per_request<S, B>(
    system: &actix_web::rt::SystemRunner,
    app: &S,
    request: &dyn Fn() -> actix_http::Request,
) -> i64
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    const ROUNDS: usize = 50;
    (0..ROUNDS)
        .map(|_| {
            let req = request();
            let mut status = None;
            let info = allocation_counter::measure(|| {
                status = Some(system.block_on(async {
                    let res = test::call_service(app, req).await;
                    res.status()
                }));
            });
            assert_eq!(
                status.map(|s| s.as_u16()),
                Some(200),
                "the request must succeed to count its path"
            );
            i64::try_from(info.count_total).expect("fits")
        })
        .min()
        .expect("ROUNDS > 0")
}

#[test]
fn a_memo_hit_core_request_allocates_no_more_than_a_bare_one() {
    let system = actix_web::rt::System::new();
    let auth = AuthSession::builder(Key::generate())
        .cookie(|c| c.secure(false))
        .build()
        .expect("valid configuration");
    let cookie = signed_in_cookie(&auth, Login::new("bench").roles(["editor"])).expect("mints");
    let request = || {
        TestRequest::get()
            .uri("/hello")
            .cookie(cookie.clone())
            .to_request()
    };
    let bare = system.block_on(test::init_service(App::new().service(bare_hello)));
    let core = system.block_on(test::init_service(
        App::new().wrap(auth.clone()).service(core_hello),
    ));
    // The first request verifies the cookie and fills the memo; every counted one is a hit.
    system.block_on(async {
        let res = test::call_service(&core, request()).await;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers().get("set-cookie").is_none(),
            "a memo-hit request writes no cookie (else this measures another path)"
        );
    });

    let bare_allocations = allocations_per_request(&system, &bare, &request);
    let core_allocations = allocations_per_request(&system, &core, &request);
    // The counter is really installed: even the bare request allocates (its body, its
    // request head), so a zero below is not a counter that counts nothing.
    assert!(bare_allocations > 0, "the counting allocator is not active");
    let added = core_allocations - bare_allocations;
    eprintln!("bare {bare_allocations}, core {core_allocations}: session-core adds {added}");
    assert_eq!(
        added, ADDED_BY_SESSION_CORE,
        "allocations session-core adds to a memo-hit request (bare {bare_allocations}, core \
         {core_allocations})"
    );
}
