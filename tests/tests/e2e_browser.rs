//! The login example end to end in a real browser: Debian's `chromium` driven headless through
//! `chromium-driver` (WebDriver) by fantoccini.
//!
//! The app runs in-process (`HttpServer` on a free 127.0.0.1 port, a temporary data directory, the
//! real argon2id parameters); chromedriver runs on another free port. Two browser profiles play
//! two people: the first registers (and so is admin), opens the admin page, and has the dashboard
//! screenshotted; the second registers, is refused the admin page, signs out, follows a link to
//! the dashboard, lands on the sign-in page, signs in and is sent back; then signs in on a third
//! profile (his phone), changes his password on the second, and the phone is signed out on its
//! next page while the second stays signed in. The session cookie's flags are read from the
//! browser's side.
//!
//! Without chromium or chromedriver this test FAILS with the packages to install: a browser test
//! that skips itself silently would pass in CI without testing anything. Every wait is bounded,
//! and the child processes (chromedriver and the browsers it starts, one process group) are
//! killed when the test ends, however it ends.
//!
//! The dashboard screenshot is written to `target/tmp/e2e/dashboard.png` on every run, and to
//! `docs/dashboard.png` when `UPDATE_DOCS_SCREENSHOT=1` (so test runs do not dirty the checkout).

use std::{
    fs::File,
    future::Future,
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{rt::time::timeout, HttpServer};
use examples::login_app::{app, auth_builder, AppState, Throttles};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use session_core::{clock::SystemClock, Key};
use tests::free_port;

const PACKAGES: &str = "apt-get update && apt-get install -y chromium chromium-driver";
/// Longest single step (a page load, a click and its navigation, a WebDriver command).
const STEP: Duration = Duration::from_secs(30);
/// Longest start-up of chromedriver or of a browser session.
const START: Duration = Duration::from_secs(60);

/// `name` from the environment variable `var`, else the first of `candidates` on `PATH`.
fn find_program(var: &str, candidates: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "${var} points to {}, which is not a file",
            path.display()
        );
        return path;
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    candidates
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "e2e_browser needs {} on PATH (or ${var}): install Debian's browser and driver \
                 with `{PACKAGES}`",
                candidates.join(" or ")
            )
        })
}

/// A child process in its own process group, killed with that whole group on drop (chromedriver
/// starts the browsers in its group).
struct KillOnDrop {
    child: Child,
    what: &'static str,
}

impl KillOnDrop {
    fn spawn(what: &'static str, command: &mut Command) -> Self {
        let child = command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}; install it with `{PACKAGES}`"));
        Self { child, what }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Negative pid: the process group (its id is the leader's pid, from process_group(0)).
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        if !matches!(killed, Ok(s) if s.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        eprintln!("e2e: stopped {}", self.what);
    }
}

/// Runs `step`, failing the test if it takes longer than `limit` or returns an error.
async fn within<T, E: std::fmt::Debug>(
    what: &str,
    limit: Duration,
    step: impl Future<Output = Result<T, E>>,
) -> T {
    match timeout(limit, step).await {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => panic!("e2e: {what} failed: {e:?}"),
        Err(_) => panic!("e2e: {what} took longer than {limit:?}"),
    }
}

/// Starts chromedriver on a free port; returns it and its URL once it accepts connections.
async fn start_chromedriver(driver: &Path, log: &Path) -> (KillOnDrop, String) {
    let port = free_port();
    let log_file = File::create(log).unwrap();
    let mut process = KillOnDrop::spawn(
        "chromedriver",
        Command::new(driver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = process.exited() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("chromedriver exited with {status} before listening:\n{log}");
        }
        assert!(
            started.elapsed() < START,
            "chromedriver did not listen on port {port} within {START:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    (process, format!("http://127.0.0.1:{port}"))
}

/// A new headless browser session with its own empty profile directory.
async fn open_browser(driver_url: &str, chromium: &Path, profile: &Path) -> Client {
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--window-size=1200,680".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
        "timeouts": { "pageLoad": STEP.as_millis() as u64, "script": STEP.as_millis() as u64 },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(capabilities);
    within(
        "starting a Chromium session",
        START,
        builder.connect(driver_url),
    )
    .await
}

/// The page's path and query, like `/login?next=/dashboard`.
async fn location(browser: &Client) -> String {
    let url = within("reading the URL", STEP, browser.current_url()).await;
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Waits (bounded) until the browser shows `want` (path and query).
async fn wait_for_location(browser: &Client, want: &str) {
    let started = Instant::now();
    loop {
        let now = location(browser).await;
        if now == want {
            return;
        }
        assert!(
            started.elapsed() < STEP,
            "expected to land on {want}, still on {now} after {STEP:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the element `css` shows `want`. After a form that redirects back to the page it
/// was on, the location does not change, and the old page's element can be found (and go stale)
/// before the new page is in: a stale element or the old text counts as "not yet".
async fn wait_for_text(browser: &Client, css: &str, want: &str) {
    let started = Instant::now();
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            if element.text().await.is_ok_and(|text| text == want) {
                return;
            }
        }
        assert!(
            started.elapsed() < STEP,
            "expected {css} to show {want:?} within {STEP:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text_of(browser: &Client, css: &str) -> String {
    let element = within(
        css,
        STEP,
        browser.wait().at_most(STEP).for_element(Locator::Css(css)),
    )
    .await;
    within(css, STEP, element.text()).await
}

async fn click(browser: &Client, css: &str) {
    let element = within(css, STEP, browser.find(Locator::Css(css))).await;
    within(&format!("clicking {css}"), STEP, element.click()).await;
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    let element = within(css, STEP, browser.find(Locator::Css(css))).await;
    within(&format!("typing into {css}"), STEP, element.send_keys(text)).await;
}

/// Replaces the text of the field `css`.
async fn replace_text(browser: &Client, css: &str, text: &str) {
    let element = within(css, STEP, browser.find(Locator::Css(css))).await;
    within(&format!("clearing {css}"), STEP, element.clear()).await;
    within(&format!("typing into {css}"), STEP, element.send_keys(text)).await;
}

/// Waits (bounded) until the browser shows a note's page, `/notes/{id}`; returns that path.
async fn wait_for_note(browser: &Client) -> String {
    let started = Instant::now();
    loop {
        let now = location(browser).await;
        let id = now.strip_prefix("/notes/").unwrap_or_default();
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return now;
        }
        assert!(started.elapsed() < STEP, "no note page, still on {now}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn goto(browser: &Client, url: &str) {
    within(&format!("opening {url}"), STEP, browser.goto(url)).await;
}

/// The HTTP status the browser gets for `path`, with its own cookies (a same-origin `fetch`).
async fn status_of(browser: &Client, path: &str) -> u16 {
    let script = r#"
        const [path, done] = arguments;
        fetch(path, { headers: { Accept: "text/html" }, redirect: "manual" })
            .then(r => done(r.status), e => done(String(e)));
    "#;
    let status = within(
        &format!("fetching {path}"),
        STEP,
        browser.execute_async(script, vec![json!(path)]),
    )
    .await;
    status
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_else(|| panic!("fetch {path} failed: {status}"))
}

/// Registers through the form and checks the landing on the dashboard.
async fn register(browser: &Client, base: &str, username: &str, password: &str) {
    goto(browser, &format!("{base}/register")).await;
    type_into(browser, "#username", username).await;
    type_into(browser, "#password", password).await;
    type_into(browser, "#confirm_password", password).await;
    click(browser, "#submit").await;
    wait_for_location(browser, "/dashboard").await;
    let welcome = text_of(browser, "#welcome").await;
    assert!(
        welcome.starts_with(&format!("Welcome, {username}")),
        "{welcome}"
    );
}

/// The session cookie as the browser holds it: HttpOnly, SameSite=Lax, invisible to scripts.
async fn check_cookie_flags(browser: &Client) {
    let cookies = within("reading cookies", STEP, browser.get_all_cookies()).await;
    let session = cookies
        .iter()
        .find(|c| c.name() == "__Host-session")
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    // fantoccini's cookie crate is not actix-web's: compare the attribute's text.
    let same_site = session.same_site().map(|s| s.to_string());
    assert_eq!(same_site.as_deref(), Some("Lax"), "{session:?}");
    assert_eq!(session.path(), Some("/"), "{session:?}");
    let visible = within(
        "reading document.cookie",
        STEP,
        browser.execute("return document.cookie", vec![]),
    )
    .await;
    assert!(
        !visible.as_str().unwrap_or_default().contains("session="),
        "scripts can read the session cookie: {visible}"
    );
}

/// Checks the PNG signature and size, then writes it.
fn save_png(png: &[u8], path: &Path) {
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "the screenshot is not a PNG"
    );
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert!(
        width >= 800 && height >= 500,
        "screenshot is only {width}x{height}"
    );
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, png).unwrap();
    eprintln!(
        "e2e: dashboard screenshot ({width}x{height}) -> {}",
        path.display()
    );
}

#[actix_web::test]
async fn a_person_signs_up_is_refused_signs_out_and_back_in_in_chromium() {
    let started = Instant::now();
    let phase = |name: &str| eprintln!("e2e: {name} at {:.1?}", started.elapsed());
    let driver = find_program("CHROMEDRIVER", &["chromedriver"]);
    let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
    let work = tempfile::tempdir().unwrap();

    // The app, as `login-app` serves it, on a free port.
    let key = Key::generate();
    let throttles = Throttles::new(&key, Arc::new(SystemClock)).unwrap();
    let state = AppState::open(&work.path().join("data"), throttles).unwrap();
    let auth = auth_builder(key, true, &state).build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || app(state.clone(), auth.clone()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .unwrap()
        .run();
    let server_handle = server.handle();
    actix_web::rt::spawn(server);

    let (_chromedriver, driver_url) =
        start_chromedriver(&driver, &work.path().join("chromedriver.log")).await;
    phase("chromedriver up");

    // Ann: first account, so admin.
    let ann = open_browser(&driver_url, &chromium, &work.path().join("profile-ann")).await;
    phase("first browser up");
    register(&ann, &base, "ann", "correct horse battery").await;
    phase("ann registered");
    let png = within("screenshot", STEP, ann.screenshot()).await;
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e/dashboard.png");
    save_png(&png, &target);
    if std::env::var_os("UPDATE_DOCS_SCREENSHOT").is_some_and(|v| v == "1") {
        save_png(
            &png,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dashboard.png"),
        );
    }
    check_cookie_flags(&ann).await;
    click(&ann, "#admin-link").await;
    wait_for_location(&ann, "/admin").await;
    assert_eq!(text_of(&ann, "#admin-title").await, "Admin: all accounts");
    assert_eq!(status_of(&ann, "/admin").await, 200);
    phase("ann saw the admin page");

    // Bob: a fresh profile, a member.
    let bob = open_browser(&driver_url, &chromium, &work.path().join("profile-bob")).await;
    register(&bob, &base, "bob", "staple horse battery").await;
    phase("bob registered");
    click(&bob, "#admin-link").await;
    wait_for_location(&bob, "/admin").await;
    assert_eq!(text_of(&bob, "#error-page .big").await, "403");
    assert_eq!(text_of(&bob, "#error-page h1").await, "Forbidden");
    assert_eq!(status_of(&bob, "/admin").await, 403);
    phase("bob refused the admin page");

    // Bob signs out, follows a link to the dashboard, signs in and is sent back.
    click(&bob, "#logout").await;
    wait_for_location(&bob, "/?signed_out=1").await;
    assert_eq!(text_of(&bob, "p.notice").await, "You have been signed out.");
    click(&bob, r#"header a[href="/dashboard"]"#).await;
    wait_for_location(&bob, "/login?next=/dashboard").await;
    assert_eq!(
        text_of(&bob, "p.notice").await,
        "Please sign in to continue."
    );
    type_into(&bob, "#username", "bob").await;
    type_into(&bob, "#password", "staple horse battery").await;
    click(&bob, "#remember").await;
    click(&bob, "#submit").await;
    wait_for_location(&bob, "/dashboard").await;
    assert!(text_of(&bob, "#welcome").await.starts_with("Welcome, bob"));
    check_cookie_flags(&bob).await;
    phase("bob signed out and back in");

    // Bob signs in on a second browser (his phone), then changes his password on the first: the
    // phone is signed out on its next page, the first browser stays signed in.
    let phone = open_browser(&driver_url, &chromium, &work.path().join("profile-phone")).await;
    goto(&phone, &format!("{base}/login")).await;
    type_into(&phone, "#username", "bob").await;
    type_into(&phone, "#password", "staple horse battery").await;
    click(&phone, "#submit").await;
    wait_for_location(&phone, "/dashboard").await;
    goto(&bob, &format!("{base}/settings")).await;
    type_into(&bob, "#current_password", "staple horse battery").await;
    type_into(&bob, "#new_password", "battery staple horse").await;
    type_into(&bob, "#confirm_password", "battery staple horse").await;
    click(&bob, "#submit").await;
    wait_for_location(&bob, "/settings?changed=1").await;
    goto(&bob, &format!("{base}/dashboard")).await;
    assert!(text_of(&bob, "#welcome").await.starts_with("Welcome, bob"));
    goto(&phone, &format!("{base}/dashboard")).await;
    wait_for_location(&phone, "/login?next=/dashboard").await;
    phase("bob's password change signed out his phone");

    // Ann's session was never touched by Bob's.
    goto(&ann, &format!("{base}/dashboard")).await;
    assert!(text_of(&ann, "#welcome").await.starts_with("Welcome, ann"));

    // Notes: Bob writes and edits one; Carol (on the phone's browser) gets 404 for it until Ann
    // makes her an editor; then she edits it but has no delete button; Ann deletes it.
    goto(&bob, &format!("{base}/notes")).await;
    type_into(&bob, "#title", "Bob's <b>plan</b>").await;
    type_into(&bob, "#body", "step one").await;
    click(&bob, "#save-note").await;
    let note = wait_for_note(&bob).await;
    assert_eq!(text_of(&bob, "#note-title").await, "Bob's <b>plan</b>");
    replace_text(&bob, "#edit-note #title", "Bob's plan, take two").await;
    click(&bob, "#save-note").await;
    wait_for_text(&bob, "#note-title", "Bob's plan, take two").await;
    wait_for_location(&bob, &note).await;
    phase("bob wrote and edited a note");

    register(&phone, &base, "carol", "carol horse battery").await;
    assert_eq!(status_of(&phone, &note).await, 404);
    goto(&phone, &format!("{base}{note}")).await;
    let page = within("reading the page", STEP, phone.source()).await;
    assert!(!page.contains("take two"), "{page}");
    phase("carol got 404 on bob's note");

    goto(&ann, &format!("{base}/admin")).await;
    let grant = "//tr[td[contains(., 'carol')]]//button[starts-with(@id, 'editor-grant-')]";
    let button = within(
        "carol's editor button",
        STEP,
        ann.find(Locator::XPath(grant)),
    )
    .await;
    within("granting editor", STEP, button.click()).await;
    wait_for_location(&ann, "/admin?done=editor-granted").await;
    goto(&phone, &format!("{base}{note}")).await;
    assert_eq!(text_of(&phone, "#note-title").await, "Bob's plan, take two");
    replace_text(&phone, "#edit-note #title", "Edited by carol").await;
    click(&phone, "#save-note").await;
    wait_for_text(&phone, "#note-title", "Edited by carol").await;
    wait_for_location(&phone, &note).await;
    let delete = within(
        "delete buttons",
        STEP,
        phone.find_all(Locator::Css("#delete-note")),
    )
    .await;
    assert!(delete.is_empty(), "an editor is not offered delete");
    phase("carol, editor, edited the note");

    goto(&ann, &format!("{base}{note}")).await;
    click(&ann, "#delete-note-button").await;
    wait_for_location(&ann, "/notes").await;
    assert_eq!(status_of(&bob, &note).await, 404);
    phase("ann, admin, deleted the note");

    within("closing the first browser", STEP, ann.close()).await;
    within("closing the second browser", STEP, bob.close()).await;
    within("closing the third browser", STEP, phone.close()).await;
    server_handle.stop(true).await;
    phase("done");
}
