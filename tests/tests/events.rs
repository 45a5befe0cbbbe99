//! Security events reach the app's hook: sign-in, sign-out, refused sessions, denials, CSRF
//! failures, "sign out everywhere", and what the app reports itself.

use std::sync::{Arc, Mutex};

use actix_web::{test::read_body, web, HttpResponse};
use session_core::{
    csrf, events::SecurityEvent, revocation::MemoryRevocations, DenyKind, Require, Session,
};
use tests::{
    builder, call, clock, get, login, post, routes, session_cookie, session_value, test_app,
};

/// The events a hook received, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<SecurityEvent>>>);

impl Recorder {
    fn take(&self) -> Vec<SecurityEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[actix_web::test]
async fn the_hook_sees_every_kind_of_event() {
    let c = clock();
    let recorder = Recorder::default();
    let sink = recorder.clone();
    let auth = builder(&c)
        .revocations(Arc::new(MemoryRevocations::new()))
        .on_security_event(move |event| sink.0.lock().unwrap().push(event.clone()))
        .build()
        .unwrap();
    let app = test_app(auth, |cfg| {
        routes(cfg);
        cfg.service(
            web::scope("/admin")
                .wrap(Require::role("admin"))
                .route("", web::get().to(HttpResponse::Ok)),
        )
        .route(
            "/form",
            web::post().to(|session: Session| async move {
                let ok = csrf::verify(&session, "not-the-token");
                session.report(SecurityEvent::sign_in_failed("eve\nadmin=1", None));
                HttpResponse::Ok().body(ok.to_string())
            }),
        )
        .route(
            "/elsewhere",
            web::post().to(|session: Session| async move {
                session.sign_out_other_devices().await.unwrap();
                HttpResponse::Ok().finish()
            }),
        );
    })
    .await;

    let alice = login(&app, "/login?id=alice").await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SignedIn {
            user: "alice".into()
        }]
    );

    call(&app, get("/admin").cookie(alice.clone())).await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::Denied {
            kind: DenyKind::Forbidden,
            path: "/admin".into(),
            decided_by: Some("role=admin".into()),
        }]
    );

    let res = call(&app, post("/form").cookie(alice.clone())).await;
    assert_eq!(read_body(res).await, "false");
    assert_eq!(
        recorder.take(),
        [
            SecurityEvent::CsrfFailed { path: None },
            SecurityEvent::SignInFailed {
                account: "eve\\nadmin=1".into(),
                address: None
            },
        ]
    );

    let tampered = session_value(format!("{}x", alice.value()));
    call(&app, get("/maybe").cookie(tampered)).await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SessionRefused { reason: "bad_mac" }]
    );

    let res = call(&app, post("/elsewhere").cookie(alice.clone())).await;
    let alice = session_cookie(&res).unwrap();
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SignedOutEverywhere {
            user: "alice".into(),
            kept_current: true
        }]
    );

    call(&app, post("/logout").cookie(alice.clone())).await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SignedOut {
            user: "alice".into()
        }]
    );
    call(&app, get("/admin").cookie(alice)).await;
    assert_eq!(
        recorder.take(),
        [
            SecurityEvent::SessionRefused { reason: "revoked" },
            SecurityEvent::Denied {
                kind: DenyKind::Unauthenticated,
                path: "/admin".into(),
                decided_by: Some("authenticated".into()),
            },
        ]
    );
}

#[actix_web::test]
async fn a_throttled_attempt_is_an_event() {
    use session_core::throttle::Throttle;

    let c = clock();
    let recorder = Recorder::default();
    let sink = recorder.clone();
    let auth = builder(&c)
        .on_security_event(move |event| sink.0.lock().unwrap().push(event.clone()))
        .build()
        .unwrap();
    let throttle = Throttle::builder(&tests::key(7))
        .per_account(1, std::time::Duration::from_secs(60))
        .clock(c.clone())
        .build()
        .unwrap();
    let app = tests::test_app(auth, move |cfg| {
        cfg.route(
            "/attempt",
            web::post().to(move |req: actix_web::HttpRequest| {
                let throttle = throttle.clone();
                async move {
                    let attempt = throttle.check(&req, "Mallory\n").await?;
                    attempt.failed();
                    Ok::<_, actix_web::Error>(HttpResponse::Unauthorized().finish())
                }
            }),
        );
    })
    .await;
    let statuses = [
        tests::call(&app, tests::post("/attempt")).await.status(),
        tests::call(&app, tests::post("/attempt")).await.status(),
    ];
    assert_eq!(statuses.map(|s| s.as_u16()), [401, 429]);
    let events = recorder.take();
    assert!(
        matches!(&events[..], [SecurityEvent::Throttled { account, address: None, retry_after }]
            if account == "Mallory\\n" && *retry_after > 0),
        "{events:?}"
    );
}
