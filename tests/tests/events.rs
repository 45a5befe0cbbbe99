//! Security events reach the app's hook: sign-in, sign-out, refused sessions, denials, CSRF
//! failures, "sign out everywhere", and what the app reports itself.

use std::sync::{Arc, Mutex};

use actix_web::{
    cookie::Cookie,
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use session_core::{
    csrf, events::SecurityEvent, revocation::MemoryRevocations, DenyKind, Require, Session,
};
use tests::{builder, clock, login_cookie, routes, session_cookie, COOKIE};

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
    let app = test::init_service(
        App::new()
            .wrap(auth)
            .configure(routes)
            .service(
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
                    session.revoke_other_sessions().await.unwrap();
                    HttpResponse::Ok().finish()
                }),
            ),
    )
    .await;

    let alice = login_cookie(&app, "alice", &[]).await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SignedIn {
            user: "alice".into()
        }]
    );

    let req = TestRequest::get()
        .uri("/admin")
        .cookie(alice.clone())
        .to_request();
    test::call_service(&app, req).await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::Denied {
            kind: DenyKind::Forbidden,
            path: "/admin".into()
        }]
    );

    let req = TestRequest::post()
        .uri("/form")
        .cookie(alice.clone())
        .to_request();
    assert_eq!(test::call_and_read_body(&app, req).await, "false");
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

    let tampered = Cookie::new(COOKIE, format!("{}x", alice.value()));
    let req = TestRequest::get()
        .uri("/maybe")
        .cookie(tampered)
        .to_request();
    test::call_service(&app, req).await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SessionRefused { reason: "bad_mac" }]
    );

    let req = TestRequest::post()
        .uri("/elsewhere")
        .cookie(alice.clone())
        .to_request();
    let alice = session_cookie(&test::call_service(&app, req).await).unwrap();
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SignedOutEverywhere {
            user: "alice".into(),
            kept_current: true
        }]
    );

    let req = TestRequest::post()
        .uri("/logout")
        .cookie(alice.clone())
        .to_request();
    test::call_service(&app, req).await;
    assert_eq!(
        recorder.take(),
        [SecurityEvent::SignedOut {
            user: "alice".into()
        }]
    );
    let req = TestRequest::get().uri("/admin").cookie(alice).to_request();
    test::call_service(&app, req).await;
    assert_eq!(
        recorder.take(),
        [
            SecurityEvent::SessionRefused { reason: "revoked" },
            SecurityEvent::Denied {
                kind: DenyKind::Unauthenticated,
                path: "/admin".into()
            },
        ]
    );
}
